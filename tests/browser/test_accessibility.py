"""In Chromium, at a phone's width (390 x 844): every HTML page each role can reach, and every
public page, passes axe-core with no serious or critical WCAG 2.2 A/AA violation and is no wider
than the screen.

The pages come from ``accounts.access.POLICIES`` (every URL name a role may GET, apart from the
JSON API, files and redirects), so a new page fails the walk until ``PAGES`` says how to open it.
One load per page and role: the width is measured and axe runs on the same load, once the charts
are drawn. axe-core comes bundled with ``axe-playwright-python`` (nothing is fetched).

The keyboard: the first Tab stop is a skip link to the main content; the charts cost no Tab stop
and offer no upload to Plotly Cloud (no Plotly mode bar), so the patient page's decision form is
fewer Tab presses from the top.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from decision_support.accounts.access import API_PAGES, POLICIES, PUBLIC
from decision_support.accounts.roles import Role
from decision_support.cohorts.models import GenerationJob, Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.courses.services import join_code_create
from decision_support.exercises.models import Exercise
from decision_support.exercises.services import exercise_create, exercise_open, exercise_reveal
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.registry.models import TrainingJob
from decision_support.seminar.models import SeminarPack, SeminarPackCase
from models.ranking import RANKING_ALGORITHM
from synthetic_data import ARMS, LESSON_PLANS
from tests.browser.conftest import sign_in, train_cohort
from tests.trained_runs import clear_model_caches

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
ANONYMOUS = "anonymous"
ROLES = [Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER, Role.DATA_STEWARD]
# The ranking and the decision form come first on the patient page; with a mode bar on each chart
# and the observed data before the form it took about 100 presses.
MAX_TABS_TO_DECISION = 40

# URL names a role may GET that are no HTML page of their own.
NOT_PAGES = {
    "home", "models_home",  # redirects to a cohort's pages
    "lesson_pdf", "case_packet_pdf", "seminar_pack_pdf", "exercise_pdf", "exercise_csv",
    "exercise_counts", "openapi-json", "api-root",  # PDF, CSV, JSON
    "logout",  # POST only
}


def _patient(name, o):
    return reverse(name, args=[o["patient"].pseudonym])


def _model(name, o):
    return reverse(name, args=[o["run"].pk, ARMS[0]])


def _course(name, o):
    return reverse(name, args=[o["cohort"].course_id])


# URL name -> its path, built from the walk's objects.
PAGES = {
    "login": lambda o: reverse("login"),
    "course_join_start": lambda o: reverse("course_join_start"),
    "course_join": lambda o: reverse("course_join", args=[o["join_code"].code]),
    "account_set_password": lambda o: o["set_password"],
    "openapi-view": lambda o: reverse("api:openapi-view"),
    "cohort_list": lambda o: reverse("cohort_list"),
    "cohort_overview": lambda o: reverse("cohort_overview", args=[o["cohort"].pk]),
    "cohort_create": lambda o: reverse("cohort_create"),
    "cohort_compare": lambda o: reverse("cohort_compare") + f"?a={o['cohort'].pk}&b={o['cohort'].pk}",
    "data_dictionary": lambda o: reverse("data_dictionary"),
    "primer": lambda o: reverse("primer"),
    "glossary": lambda o: reverse("glossary"),
    "lesson_list": lambda o: reverse("lesson_list"),
    "lesson_detail": lambda o: reverse("lesson_detail", args=[next(iter(LESSON_PLANS))]),
    "run_overview": lambda o: reverse("run_overview", args=[o["cohort"].pk]),
    "model_detail": lambda o: _model("model_detail", o),
    "model_fairness": lambda o: _model("model_fairness", o),
    "model_card": lambda o: _model("model_card", o),
    "run_travel": lambda o: reverse("run_travel", args=[o["run"].pk]),
    "training_job": lambda o: reverse("training_job", args=[o["job"].pk]),
    "generation_job": lambda o: reverse("generation_job", args=[o["generation_job"].pk]),
    "patient_list": lambda o: reverse("patient_list", args=[o["cohort"].pk]),
    "patient_detail": lambda o: _patient("patient_detail", o),
    "patient_what_if": lambda o: _patient("patient_what_if", o),
    "patient_explanations": lambda o: _patient("patient_explanations", o),
    "patient_consent": lambda o: _patient("patient_consent", o),
    "patient_erase": lambda o: _patient("patient_erase", o),
    "erasure_list": lambda o: reverse("erasure_list"),
    "audit_log": lambda o: reverse("audit_log"),
    "aggregate_export": lambda o: reverse("aggregate_export", args=[o["cohort"].pk]),
    "review_list": lambda o: reverse("review_list"),
    "case_packet": lambda o: _patient("case_packet", o) + "?key=on",
    "seminar_pack_list": lambda o: reverse("seminar_pack_list"),
    "seminar_pack_create": lambda o: reverse("seminar_pack_create"),
    "seminar_pack_detail": lambda o: reverse("seminar_pack_detail", args=[o["pack"].pk]),
    "course_list": lambda o: reverse("course_list"),
    "course_create": lambda o: reverse("course_create"),
    "course_detail": lambda o: _course("course_detail", o),
    "course_roster": lambda o: _course("course_roster", o),
    "course_reset": lambda o: _course("course_reset", o),
    "course_archive": lambda o: _course("course_archive", o),
    "api_tokens": lambda o: reverse("api_tokens"),
    "exercise_list": lambda o: reverse("exercise_list"),
    "exercise_create": lambda o: reverse("exercise_create", args=[o["cohort"].pk]),
    "exercise_detail": lambda o: reverse("exercise_detail", args=[o["exercise"].pk]),
    "exercise_answer": lambda o: reverse("exercise_answer", args=[o["exercise"].pk]),
    "exercise_my_result": lambda o: reverse("exercise_my_result", args=[o["exercise"].pk]),
    "exercise_results": lambda o: reverse("exercise_results", args=[o["revealed_exercise"].pk]),
    "exercise_present": lambda o: reverse("exercise_present", args=[o["revealed_exercise"].pk]),
    "predictions_pause": lambda o: reverse("predictions_pause"),
}

# Every chart in sight drawn (charts.js draws one per spec that has a target; one inside a closed
# section is drawn when the section opens).
CHARTS_DRAWN = """() => {
  const specs = document.getElementById("chart-specs");
  if (!specs) { return true; }
  return JSON.parse(specs.textContent).every(spec => {
    const target = document.querySelector(`[data-chart="${spec.id}"]`);
    return !target || target.closest("details:not([open])") !== null
      || target.querySelector(".main-svg") !== null;
  });
}"""

# Every table region in sight that scrolls is a Tab stop (so a keyboard can scroll it), and none
# that fits is one (js/table_scroll.js; one in a closed section is no stop until it opens).
TABLE_STOPS_SETTLED = """() => [...document.querySelectorAll(".table-scroll")]
  .filter(region => region.closest("details:not([open])") === null)
  .every(region => (region.scrollWidth > region.clientWidth) === region.hasAttribute("tabindex"))"""


# The outermost elements that stick out to the right of the screen, outside any scrolling box.
OVERFLOWING = """() => {
  const limit = window.innerWidth + 1;
  const scrolls = el => ["auto", "scroll", "hidden"].includes(getComputedStyle(el).overflowX);
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.getBoundingClientRect().right <= limit) { continue; }
    let parent = el.parentElement, inside = false;
    if (parent.getBoundingClientRect().right > limit) { continue; }
    for (; parent; parent = parent.parentElement) { inside = inside || scrolls(parent); }
    if (!inside) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
               + (el.classList.length ? "." + [...el.classList].join(".") : ""));
    }
  }
  return out.slice(0, 5);
}"""
# Swagger UI (django-ninja's vendored API documentation) builds its own markup; the page's own
# parts (banner, note) are checked, Swagger's are not ours to fix.
AXE_CONTEXT = {"exclude": [["#swagger-ui"]]}


def _reachable(role) -> set[str]:
    """The URL names ``role`` (or anyone, for ``ANONYMOUS``) may open with GET."""
    if role == ANONYMOUS:
        names = {name for name, policy in POLICIES.items() if policy is PUBLIC}
    else:
        names = {name for name, policy in POLICIES.items()
                 if policy and role in policy.roles and "GET" in policy.methods}
    return names - set(API_PAGES) - NOT_PAGES


@pytest.fixture
def ranking_cohort(db, monkeypatch):
    """The ranking algorithm alone: enough for the patient page."""
    yield train_cohort(monkeypatch, algorithms=(RANKING_ALGORITHM,))
    clear_model_caches()


@pytest.fixture
def walk_objects(trained_cohort, make_user):
    """The objects every page's URL names: the trained cohort and run, a patient who consents to
    everything (in a seminar pack and two exercises, one revealed), a finished training job, a
    finished cohort generation job, a join code and a set-password link."""
    cohort, run = trained_cohort, trained_cohort.run
    everything = set(CONSENT_CLASSES)
    patients = [p for p in Patient.objects.filter(cohort=cohort).order_by("pk")
                if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything][:3]
    author = make_user(Role.EDUCATOR, username="walk_author")
    pack = SeminarPack.objects.create(name="Walk pack", created_by="walk", course=cohort.course)
    SeminarPackCase.objects.create(pack=pack, patient=patients[0], position=1)
    exercise, revealed = (
        exercise_open(actor=author, purpose=Purpose.EDUCATION, exercise=exercise_create(
            actor=author, purpose=Purpose.EDUCATION, cohort=cohort, name=name,
            mode=Exercise.Mode.HALF_WITH_MODEL, patients=patients))
        for name in ("Walk exercise", "Walk exercise, revealed"))
    return {
        "cohort": cohort, "run": run, "patient": patients[0], "pack": pack, "exercise": exercise,
        "revealed_exercise": exercise_reveal(actor=author, purpose=Purpose.EDUCATION,
                                             exercise=revealed),
        "job": TrainingJob.objects.create(cohort=cohort, status=TrainingJob.Status.DONE,
                                          progress=1.0, started_by="walk", run=run),
        "generation_job": GenerationJob.objects.create(
            course=cohort.course, scenario=cohort.scenario, n_patients=cohort.n_patients,
            purpose=Purpose.EDUCATION, status=GenerationJob.Status.DONE, progress=1.0,
            started_by="walk", cohort=cohort),
        "join_code": join_code_create(actor=author, purpose=Purpose.EDUCATION,
                                      course=cohort.course, role=Role.STUDENT, days=7),
        "set_password": reverse("account_set_password", args=[
            urlsafe_base64_encode(force_bytes(author.pk)),
            default_token_generator.make_token(author)]),
    }


def _check(page: Page, url: str, label: str) -> list[str]:
    """Opens ``url`` once, with every closed section opened (what a reader can open is checked
    too); its problems: wider than the phone, or axe's blocking violations."""
    page.goto(url)
    page.evaluate("document.querySelectorAll('details:not([open])').forEach(d => { d.open = true; })")
    page.wait_for_function(CHARTS_DRAWN)
    page.wait_for_function(TABLE_STOPS_SETTLED)
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"] + 1:
        problems.append(f"{label}: {width} px wide at {PHONE['width']} px, by "
                        f"{', '.join(page.evaluate(OVERFLOWING))}")
    results = Axe().run(page, context=AXE_CONTEXT, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            elements = "; ".join(", ".join(node["target"]) for node in violation["nodes"][:8])
            problems.append(f"{label}: {violation['id']} ({violation['impact']}: "
                            f"{violation['help']}) on {len(violation['nodes'])} element(s): "
                            f"{elements}")
    return problems


def test_every_reachable_html_page_is_walked():
    reachable = set().union(*(_reachable(role) for role in [ANONYMOUS, *ROLES]))
    missing = reachable - set(PAGES)
    assert not missing, f"add these URL names to PAGES (or NOT_PAGES): {sorted(missing)}"


@pytest.mark.slow
def test_every_page_of_every_role_passes_axe_and_fits_a_phone(live_server, page: Page,
                                                             walk_objects, make_user):
    page.set_viewport_size(PHONE)
    problems = []
    for role in [ANONYMOUS, *ROLES]:
        names = sorted(_reachable(role) & set(PAGES))
        if role != ANONYMOUS:
            sign_in(page, live_server.url + reverse("login"), make_user(role))
        for name in names:
            path = PAGES[name](walk_objects)
            problems += _check(page, live_server.url + path, f"{role} {name} {path}")
    assert not problems, "\n".join(problems)


def test_the_decision_form_is_a_few_tab_presses_from_the_top_of_the_patient_page(
        live_server, page: Page, ranking_cohort, make_user):
    patient = Patient.objects.filter(cohort=ranking_cohort).order_by("pk").first()
    sign_in(page, live_server.url + reverse("patient_detail", args=[patient.pseudonym]),
            make_user(Role.STUDENT))
    page.wait_for_function(CHARTS_DRAWN)
    expect(page.locator("[data-chart] .main-svg").first).to_be_visible()
    uploads = page.locator(", ".join(f"[{attribute}*='{word}']" for word in ("Plotly Cloud", "Share")
                                     for attribute in ("title", "data-title", "aria-label")))
    assert uploads.count() == 0
    first_field = page.locator("#decision-form").locator("input:not([type=hidden]), select, "
                                                         "textarea").first
    page.keyboard.press("Tab")  # the first stop: the skip link, shown when focused
    skip = page.locator(":focus")
    expect(skip).to_have_text("Skip to main content")
    expect(skip).to_be_in_viewport()
    expect(page.locator(skip.get_attribute("href"))).to_have_js_property("tagName", "MAIN")
    in_charts = 0
    for _ in range(1, MAX_TABS_TO_DECISION):
        page.keyboard.press("Tab")
        in_charts += page.evaluate("document.activeElement.closest('[data-chart]') !== null")
        if first_field.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail(f"the decision form is not reached in {MAX_TABS_TO_DECISION} Tab presses")
    assert in_charts == 0, f"{in_charts} Tab stops inside the charts"


def test_a_table_region_is_a_tab_stop_only_while_it_scrolls(live_server, page: Page,
                                                            ranking_cohort, make_user):
    regions = page.locator(".table-scroll")
    stops = page.locator(".table-scroll[tabindex]")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url + reverse("model_detail", args=[ranking_cohort.run.pk, "ssri"]),
            make_user(Role.EDUCATOR))
    page.wait_for_function(TABLE_STOPS_SETTLED)
    wide_stops = stops.count()
    assert wide_stops < regions.count(), "every table region is a Tab stop on a wide screen"
    page.set_viewport_size(PHONE)
    page.wait_for_function(TABLE_STOPS_SETTLED)
    assert stops.count() > wide_stops, "no table region became a Tab stop on a phone"
    region = page.locator(".table-scroll[tabindex]:visible").first
    region.focus()
    page.keyboard.press("ArrowRight")  # the browser may scroll smoothly: wait for it to move
    page.wait_for_function("region => region.scrollLeft > 0", arg=region.element_handle())
