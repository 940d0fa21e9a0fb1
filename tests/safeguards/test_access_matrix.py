"""Least privilege: every URL x every role x anonymous answers as the README's matrix promises.

The matrix below is written out by hand, apart from ``accounts.access.POLICIES``, so that a
policy change that breaks the promise fails here. A URL added without a row here fails too.
The JSON API's rows are opened with a bearer token instead of a session, and answer anonymous
requests with 401 instead of the sign-in page.
"""

import pytest
from django.db import DatabaseError
from django.urls import reverse

from decision_support.accounts import access
from decision_support.accounts.access import API_PAGES, DENIED_ACTION, POLICIES
from decision_support.accounts.checks import url_names
from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_create
from decision_support.audit.models import AuditEntry
from models.ranking import RANKING_ALGORITHM
from tests.trained_runs import narrow_training

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_training(monkeypatch):
    """A permitted POST to ``cohort_train`` trains (inline): one algorithm in one variant, as the
    gate is under test here, not the training."""
    narrow_training(monkeypatch, algorithms=(RANKING_ALGORITHM,), variants=("full",), n_refits=2)

E, S, R, D = Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER, Role.DATA_STEWARD
ALL = {E, S, R, D}
ROLES = [E, S, R, D]

# URL name -> (how to build its path from the shared objects, roles that may open it, status a
# permitted role gets for a GET). Everyone else signed in gets 404; anonymous users are sent to
# sign in.
MATRIX = {
    "home": (lambda o: reverse("home"), ALL, 302),
    "cohort_list": (lambda o: reverse("cohort_list"), ALL, 200),
    "cohort_overview": (lambda o: reverse("cohort_overview", args=[o["cohort"].pk]), ALL, 200),
    "data_dictionary": (lambda o: reverse("data_dictionary"), ALL, 200),
    "primer": (lambda o: reverse("primer"), ALL, 200),
    "guide_dismiss": (lambda o: reverse("guide_dismiss"), ALL, 405),
    "glossary": (lambda o: reverse("glossary"), ALL, 200),
    # Lesson plans: every role (the answer key is educators' only: tests/lessons).
    "lesson_list": (lambda o: reverse("lesson_list"), ALL, 200),
    "lesson_detail": (lambda o: reverse("lesson_detail", args=["default"]), ALL, 200),
    "lesson_pdf": (lambda o: reverse("lesson_pdf", args=["default"]), ALL, 200),
    "cohort_create": (lambda o: reverse("cohort_create"), {E}, 200),
    "generation_job": (lambda o: reverse("generation_job", args=[o["generation_job"].pk]), {E}, 200),
    "cohort_compare": (lambda o: reverse("cohort_compare") + f"?a={o['cohort'].pk}", {E, S, R}, 200),
    "models_home": (lambda o: reverse("models_home"), {E, S, R}, 302),
    "run_overview": (lambda o: reverse("run_overview", args=[o["cohort"].pk]), {E, S, R}, 200),
    "model_detail": (lambda o: reverse("model_detail", args=[o["run"].pk, o["arm"]]), {E, S, R}, 200),
    "model_fairness": (lambda o: reverse("model_fairness", args=[o["run"].pk, o["arm"]]), {E, S, R}, 200),
    "run_travel": (lambda o: reverse("run_travel", args=[o["run"].pk]), {E, S, R}, 200),
    "model_card": (lambda o: reverse("model_card", args=[o["run"].pk, o["arm"]]), {E, S, R}, 200),
    "patient_list": (lambda o: reverse("patient_list", args=[o["cohort"].pk]), ALL, 200),
    "patient_detail": (lambda o: reverse("patient_detail", args=[o["patient"].pseudonym]),
                       {E, S, R}, 200),
    "patient_what_if": (lambda o: reverse("patient_what_if", args=[o["patient"].pseudonym]),
                        {E, S, R}, 200),
    "patient_explanations": (lambda o: reverse("patient_explanations", args=[o["patient"].pseudonym]),
                             {E, S, R}, 200),
    "aggregate_export": (lambda o: reverse("aggregate_export", args=[o["cohort"].pk]), {E, R}, 200),
    "patient_consent": (lambda o: reverse("patient_consent", args=[o["patient"].pseudonym]), {D}, 200),
    "patient_erase": (lambda o: reverse("patient_erase", args=[o["patient"].pseudonym]), {D}, 200),
    "erasure_list": (lambda o: reverse("erasure_list"), {D}, 200),
    # The pause page: its form asks a reason and a confirmation (human oversight).
    "predictions_pause": (lambda o: reverse("predictions_pause"), {E}, 200),
    # POST only: a permitted role's GET gets 405 Method Not Allowed.
    "decision_record": (lambda o: reverse("decision_record", args=[o["patient"].pseudonym]), {E, S}, 405),
    "cohort_train": (lambda o: reverse("cohort_train", args=[o["cohort"].pk]), {E}, 405),
    "training_job": (lambda o: reverse("training_job", args=[o["job"].pk]), {E}, 200),
    "audit_log": (lambda o: reverse("audit_log"), {D, R}, 200),
    # The ethics seminar: reviews (POST only for reviewers), case packets, seminar packs.
    "model_review": (lambda o: reverse("model_review", args=[o["run"].pk, o["arm"]]), {R}, 405),
    "case_review": (lambda o: reverse("case_review", args=[o["patient"].pseudonym]), {R}, 405),
    "review_list": (lambda o: reverse("review_list"), {E, R}, 200),
    "case_packet": (lambda o: reverse("case_packet", args=[o["patient"].pseudonym]), {E, R}, 200),
    "case_packet_pdf": (lambda o: reverse("case_packet_pdf", args=[o["patient"].pseudonym]), {E, R}, 200),
    "seminar_pack_list": (lambda o: reverse("seminar_pack_list"), {E, S, R}, 200),
    "seminar_pack_create": (lambda o: reverse("seminar_pack_create"), {E}, 200),
    "seminar_pack_detail": (lambda o: reverse("seminar_pack_detail", args=[o["pack"].pk]), {E, S, R}, 200),
    "seminar_pack_pdf": (lambda o: reverse("seminar_pack_pdf", args=[o["pack"].pk]), {E, R}, 200),
    "seminar_pack_add": (lambda o: reverse("seminar_pack_add", args=[o["cohort"].pk]), {E}, 405),
    "api_tokens": (lambda o: reverse("api_tokens"), ALL, 200),
    # After a class: the course's educators reset or archive it (a POST without the typed name: 400).
    "course_reset": (lambda o: reverse("course_reset", args=[o["cohort"].course_id]), {E}, 200),
    "course_archive": (lambda o: reverse("course_archive", args=[o["cohort"].course_id]), {E}, 200),
    # Courses: everyone sees their own list; the course page for its members (the data steward is
    # site-wide, no member); its management for its educators.
    "course_list": (lambda o: reverse("course_list"), ALL, 200),
    "course_create": (lambda o: reverse("course_create"), {E}, 200),
    "course_detail": (lambda o: reverse("course_detail", args=[o["cohort"].course_id]), {E, S, R}, 200),
    "course_members": (lambda o: reverse("course_members", args=[o["cohort"].course_id]), {E}, 405),
    "course_join_codes": (lambda o: reverse("course_join_codes", args=[o["cohort"].course_id]),
                          {E}, 405),
    "course_roster": (lambda o: reverse("course_roster", args=[o["cohort"].course_id]), {E}, 200),
    # Case exercises: educators run them, students answer an open one; the results, presenter
    # mode and exports of a revealed one.
    "exercise_list": (lambda o: reverse("exercise_list"), {E, S}, 200),
    "exercise_create": (lambda o: reverse("exercise_create", args=[o["cohort"].pk]), {E}, 200),
    "exercise_detail": (lambda o: reverse("exercise_detail", args=[o["exercise"].pk]), {E}, 200),
    "exercise_counts": (lambda o: reverse("exercise_counts", args=[o["exercise"].pk]), {E}, 200),
    "exercise_open": (lambda o: reverse("exercise_open", args=[o["exercise"].pk]), {E}, 405),
    "exercise_reveal": (lambda o: reverse("exercise_reveal", args=[o["exercise"].pk]), {E}, 405),
    "exercise_answer": (lambda o: reverse("exercise_answer", args=[o["exercise"].pk]), {S}, 200),
    "exercise_my_result": (lambda o: reverse("exercise_my_result", args=[o["exercise"].pk]), {S}, 200),
    "exercise_results": (lambda o: reverse("exercise_results", args=[o["revealed_exercise"].pk]), {E}, 200),
    "exercise_present": (lambda o: reverse("exercise_present", args=[o["revealed_exercise"].pk]), {E}, 200),
    "exercise_csv": (lambda o: reverse("exercise_csv", args=[o["revealed_exercise"].pk]), {E}, 200),
    "exercise_pdf": (lambda o: reverse("exercise_pdf", args=[o["revealed_exercise"].pk]), {E}, 200),
    # The JSON API: the roles of the page showing the same data.
    "api_cohort_list": (lambda o: reverse("api:api_cohort_list"), ALL, 200),
    "api_cohort": (lambda o: reverse("api:api_cohort", args=[o["cohort"].pk]), ALL, 200),
    "api_patient_list": (lambda o: reverse("api:api_patient_list", args=[o["cohort"].pk]), ALL, 200),
    "api_patient": (lambda o: reverse("api:api_patient", args=[o["patient"].pseudonym]), {E, S, R}, 200),
    "api_patient_predictions": (lambda o: reverse("api:api_patient_predictions",
                                                  args=[o["patient"].pseudonym]), {E, S, R}, 200),
    "api_patient_explanations": (lambda o: reverse("api:api_patient_explanations",
                                                   args=[o["patient"].pseudonym]), {E, S, R}, 200),
    "api_run_models": (lambda o: reverse("api:api_run_models", args=[o["run"].pk]), {E, S, R}, 200),
    "api_run_travel": (lambda o: reverse("api:api_run_travel", args=[o["run"].pk]), {E, S, R}, 200),
}
# URL name -> the HTTP methods its view answers; every other method gets 405 from the gate, before
# any view runs. Written out apart from POLICIES, like the matrix.
READ, FORM, ACTION, API_READ = {"GET", "HEAD"}, {"GET", "HEAD", "POST"}, {"POST"}, {"GET"}
FORMS = {"cohort_create", "aggregate_export", "patient_consent", "patient_erase",
         "seminar_pack_create", "api_tokens", "course_create", "course_roster", "course_reset",
         "course_archive", "exercise_create", "exercise_answer", "predictions_pause"}
ACTIONS = {"guide_dismiss", "decision_record", "cohort_train", "model_review",
           "case_review", "course_members", "course_join_codes", "exercise_open", "exercise_reveal",
           "seminar_pack_add"}
ANSWERS = {name: API_READ if name in API_PAGES else FORM if name in FORMS
           else ACTION if name in ACTIONS else READ for name in MATRIX}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]

PUBLIC = {
    "login": (lambda o: reverse("login"), 200),
    "openapi-json": (lambda o: reverse("api:openapi-json"), 200),
    "openapi-view": (lambda o: reverse("api:openapi-view"), 200),
    "api-root": (lambda o: reverse("api:api-root"), 404),  # django-ninja's root: nothing there
    # Joining and a roster account's password: anyone; an unknown code or a dead link is a 400.
    "course_join_start": (lambda o: reverse("course_join_start"), 200),
    "course_join": (lambda o: reverse("course_join", args=["ABCD2345"]), 400),
    "account_set_password": (lambda o: reverse("account_set_password", args=["MQ", "no-token"]),
                             400),
}


def _signed_in(client, user, name) -> dict:
    """Signs ``user`` in for the URL ``name``: a session for pages, a bearer token for the API
    (returned as the request's extra headers)."""
    if name not in API_PAGES:
        client.force_login(user)
        return {}
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user, name='matrix')[1]}"}


def test_every_url_has_a_row_in_the_matrix():
    assert set(url_names()) == set(MATRIX) | set(PUBLIC) | {"logout"}
    assert set(POLICIES) == set(url_names()), "a policy without a URL"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_users_are_sent_to_sign_in(client, objects, name):
    path = MATRIX[name][0](objects)
    response = client.get(path)
    if name in API_PAGES:
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
        return
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_pages_open_without_signing_in(client, objects, name):
    build, status = PUBLIC[name]
    assert client.get(build(objects)).status_code == status


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_gets_what_the_matrix_promises(client, make_user, objects, name, role):
    build, allowed, status = MATRIX[name]
    headers = _signed_in(client, make_user(role), name)
    denials = AuditEntry.objects.filter(action=DENIED_ACTION).count()
    response = client.get(build(objects), **headers)
    if role in allowed:
        assert response.status_code == status, response.content[:500]
        assert AuditEntry.objects.filter(action=DENIED_ACTION).count() == denials
    else:
        assert response.status_code == 404
        denial = AuditEntry.objects.filter(action=DENIED_ACTION).last()
        assert AuditEntry.objects.filter(action=DENIED_ACTION).count() == denials + 1
        assert (denial.outcome, denial.object_ref, denial.role) == ("denied", name, role.value)


def test_a_user_without_a_role_gets_404_everywhere(client, objects, django_user_model):
    user = django_user_model.objects.create_user("no_role", password="x" * 20)
    client.force_login(user)
    token = _signed_in(client, user, "api_cohort_list")
    for name, (build, _, _) in MATRIX.items():
        headers = token if name in API_PAGES else {}
        assert client.get(build(objects), **headers).status_code == 404, name


def _request(client, method: str, path: str, headers: dict):
    return client.generic(method, path, **headers)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_url_answers_only_the_methods_its_view_declares(client, make_user, objects, name,
                                                             method):
    build, allowed, _ = MATRIX[name]
    headers = _signed_in(client, make_user(sorted(allowed)[0]), name)
    before = AuditEntry.objects.count()
    response = _request(client, method, build(objects), headers)
    if method in ANSWERS[name]:
        assert response.status_code != 405
        return
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == ANSWERS[name]
    assert objects["patient"].pseudonym.encode() not in response.content
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", sorted(n for n, p in POLICIES.items() if p and p.audit_read))
def test_each_sensitive_read_writes_exactly_one_audit_entry(client, make_user, objects, name,
                                                            method):
    """Whatever the method: a response that carries the data wrote exactly one entry; any other
    (405, a redirect, an error before the view read anything) wrote none."""
    build, allowed, status = MATRIX[name]
    role = sorted(allowed)[0]
    user = make_user(role)
    headers = _signed_in(client, user, name)
    before = AuditEntry.objects.count()
    response = _request(client, method, build(objects), headers)
    entries = list(AuditEntry.objects.filter(sequence__gt=before))
    if method in ANSWERS[name] & {"GET", "HEAD"}:
        assert response.status_code == status
    if not 200 <= response.status_code < 300:
        assert entries == [] and response.status_code in (302, 400, 405), response.status_code
        return
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.action, entry.outcome) == (user.username, POLICIES[name].audit_read,
                                                          "allowed")
    assert entry.purpose == POLICIES[name].purpose and entry.role == role.value


@pytest.mark.parametrize("name", sorted(n for n, p in POLICIES.items() if p and p.audit_read))
def test_a_sensitive_page_whose_audit_entry_cannot_be_written_shows_nothing(
        client, make_user, objects, name, monkeypatch):
    """The page is made outside the entry's transaction (readers do not hold SQLite's write lock
    while it renders); its data leaves only after the entry committed."""
    build, allowed, status = MATRIX[name]
    headers = _signed_in(client, make_user(sorted(allowed)[0]), name)

    def log_unavailable(**entry):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(access, "audit_record", log_unavailable)
    before = AuditEntry.objects.count()
    response = client.get(build(objects), **headers)
    assert response.status_code == 500
    assert objects["patient"].pseudonym.encode() not in response.content
    assert b"not for clinical use" in response.content.lower() or name in API_PAGES
    assert AuditEntry.objects.count() == before


def test_the_purpose_comes_from_the_server_not_the_client(client, make_user, objects):
    client.force_login(make_user(S))
    before = AuditEntry.objects.count()
    path = MATRIX["patient_detail"][0](objects)
    client.get(path, {"purpose": "HRESCH"}, HTTP_X_PURPOSE="HRESCH")
    assert AuditEntry.objects.get(sequence=before + 1).purpose == "TRAIN"


def test_a_refused_or_unknown_page_still_says_it_is_not_for_clinical_use(client, make_user, objects):
    client.force_login(make_user(S))
    for path in (reverse("audit_log"), "/no-such-page/"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Synthetic data, not for clinical use." in response.content.decode()
