"""Teaching scenarios in the app: an educator creates a cohort from a scenario, and any two cohorts
are compared side by side (scenario texts, suppressed aggregates, held-out AUCs of their runs)."""

import html
import re

import pytest
from django.urls import reverse

from decision_support.accounts.access import MODEL_TRUTH_ROLES
from decision_support.audit.models import AuditEntry
from decision_support.cohorts.forms import MAX_PATIENTS, MAX_SEED, MIN_PATIENTS, smallest_size
from decision_support.cohorts.models import Cohort, GenerationJob, Patient
from decision_support.cohorts.services import cohort_generate
from decision_support.lib.suppression import SUPPRESSED
from decision_support.registry.models import TrainedModel
from models.truth import CREDITED_TOP
from synthetic_data import FIRST_LINE_ARMS, SCENARIOS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

# A scenario other than the default, so "from a scenario" means it, that the page offers at 300.
SCENARIO = next(name for name in SCENARIOS
                if name != "default" and smallest_size(name) == MIN_PATIENTS)


@pytest.fixture(scope="module")
def trained(django_db_setup, django_db_blocker):
    """A 300-patient default cohort and its training run, committed for the module."""
    with committed_run(django_db_blocker, n_patients=300, cohort_seed=5,
                       name="trained default") as run:
        yield run


@pytest.fixture
def educator(client, make_user):
    client.force_login(make_user("educator"))
    return client


@pytest.fixture
def student(client, make_user):
    client.force_login(make_user("student"))
    return client


def _create(client, **fields):
    data = {"scenario": SCENARIO, "n_patients": "300", "seed": "11", "name": "", **fields}
    return client.post(reverse("cohort_create"), data)


def _writes() -> tuple[int, int, int, int]:
    return (Cohort.objects.count(), Patient.objects.count(), GenerationJob.objects.count(),
            AuditEntry.objects.filter(action__startswith="cohort.create").count())


# --- creating a cohort from a scenario ----------------------------------------------------------


def test_the_form_lists_every_scenario_with_its_texts(educator):
    response = educator.get(reverse("cohort_create"))
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    for name, scenario in SCENARIOS.items():
        assert f'id="scenario-{name}"' in page
        assert scenario.title in page and scenario.teaching_note in page
        if getattr(scenario, "expected", ""):
            assert scenario.expected in page


def test_an_educator_creates_a_cohort_from_a_scenario(educator):
    """The job runs inline in tests: its page, followed from the form, moves on to the cohort."""
    response = _create(educator)
    cohort = Cohort.objects.get()
    job = GenerationJob.objects.get()
    assert response.status_code == 303
    assert response["Location"] == reverse("generation_job", args=[job.pk]) + "?follow=1"
    assert educator.get(response["Location"])["Location"] == reverse("cohort_overview",
                                                                     args=[cohort.pk])
    assert (job.status, job.cohort) == ("done", cohort)
    assert (cohort.scenario, cohort.seed, cohort.n_patients) == (SCENARIO, 11, 300)
    assert cohort.source == Cohort.Source.GENERATED
    assert cohort.name == f"{SCENARIO} cohort of 300 (seed 11)"
    assert Patient.objects.filter(cohort=cohort).count() == 300
    entry = AuditEntry.objects.get(action="cohort.create")
    assert (entry.actor, entry.role, entry.outcome, entry.purpose) == (
        "test_educator", "educator", "allowed", "TRAIN")
    assert entry.object_ref == str(cohort.uid)
    assert entry.detail["scenario"] == SCENARIO and entry.detail["seed"] == 11
    assert entry.detail["seed_drawn"] is False


def test_the_new_cohort_opens_with_its_scenario_and_a_train_button(educator):
    response = _create(educator, name="Seminar week 3")
    page = html.unescape(educator.get(response["Location"], follow=True).content.decode())
    cohort = Cohort.objects.get()
    scenario = SCENARIOS[SCENARIO]
    assert cohort.name == "Seminar week 3"
    assert "Cohort created" in page
    assert scenario.title in page and scenario.teaching_note in page
    for question in getattr(scenario, "questions", ()):
        assert question in page
    assert f'action="{reverse("cohort_train", args=[cohort.pk])}"' in page
    assert "Train models on this cohort" in page
    assert f'{reverse("cohort_compare")}?a={cohort.pk}' in page


def test_without_a_seed_a_random_one_is_drawn_and_recorded(educator):
    _create(educator, seed="")
    cohort = Cohort.objects.get()
    assert cohort.seed is not None and 0 <= cohort.seed <= MAX_SEED
    entry = AuditEntry.objects.get(action="cohort.create")
    assert entry.detail["seed"] == cohort.seed and entry.detail["seed_drawn"] is True


@pytest.mark.parametrize("field, value", [
    ("n_patients", str(MIN_PATIENTS - 1)), ("n_patients", str(MAX_PATIENTS + 1)),
    ("n_patients", ""), ("n_patients", "abc"), ("n_patients", "1e308"), ("n_patients", "NaN"),
    ("n_patients", "500.5"), ("n_patients", "-300"), ("n_patients", "9" * 30),
    ("seed", "-1"), ("seed", str(MAX_SEED + 1)), ("seed", "1.5"), ("seed", "seven"),
    ("seed", "inf"),
    ("scenario", "no_such_scenario"), ("scenario", ""), ("scenario", "<script>alert(1)</script>"),
    ("name", "x" * 121), ("name", "line1\r\nline2"), ("name", "a\x00b"),
])
def test_bad_input_answers_400_naming_the_field_and_writes_nothing(educator, field, value):
    before = _writes()
    response = _create(educator, **{field: value})
    page = response.content.decode()
    assert response.status_code == 400
    assert f'data-field="{field}"' in page
    assert "<script>alert(1)</script>" not in page
    assert _writes() == before


def test_a_student_cannot_create_a_cohort(student):
    before = _writes()
    assert student.get(reverse("cohort_create")).status_code == 404
    assert _create(student).status_code == 404
    assert _writes() == before


def test_the_cohort_list_offers_creation_to_educators_only(client, make_user, demo_cohort):
    client.force_login(make_user("educator"))
    assert "New cohort from a scenario" in client.get(reverse("cohort_list")).content.decode()
    client.force_login(make_user("student"))
    page = client.get(reverse("cohort_list")).content.decode()
    assert "New cohort from a scenario" not in page
    assert reverse("cohort_compare") in page


# --- comparing two cohorts ----------------------------------------------------------------------


def _counts_shown(response) -> list:
    """Every patient count the comparison shows: arm sizes and distribution cells."""
    rows = response.context["rows"]
    counts = [side[k]["n"] for side in rows["arms"] for k in ("a", "b")]
    counts += [value for d in rows["distributions"] for _, *values in d["rows"] for value in values]
    return counts


def test_compare_shows_both_scenarios_and_suppresses_small_counts(student, demo_cohort):
    other = cohort_generate(n_patients=300, scenario=SCENARIO, seed=2)
    response = student.get(reverse("cohort_compare"), {"a": other.pk, "b": demo_cohort.pk})
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert SCENARIOS[SCENARIO].title in page and SCENARIOS["default"].title in page
    assert other.name in page and demo_cohort.name in page
    counts = _counts_shown(response)
    assert SUPPRESSED in counts  # 300 patients leave some arms and groups with fewer than 11
    assert all(n == SUPPRESSED or n is None or n == 0 or n >= 11 for n in counts), counts
    assert 'id="compare-arms"' in page and 'id="compare-ancestry"' in page


def test_compare_takes_the_newest_default_cohort_as_b(educator, demo_cohort):
    newer_default = cohort_generate(n_patients=300, seed=3)
    other = cohort_generate(n_patients=300, scenario=SCENARIO, seed=4)
    response = educator.get(reverse("cohort_compare"), {"a": other.pk})
    assert response.status_code == 200
    assert response.context["b"]["cohort"] == newer_default


def test_compare_without_a_query_shows_the_picker(student, demo_cohort):
    response = student.get(reverse("cohort_compare"))
    assert response.status_code == 200
    assert 'id="compare-form"' in response.content.decode()


@pytest.mark.parametrize("query, field", [
    ({"a": "abc"}, "a"), ({"a": "999999"}, "a"), ({"a": "-1"}, "a"), ({"a": "0"}, "a"),
    ({"a": "9" * 30}, "a"), ({"a": "1.5"}, "a"), ({"a": "1 OR 1=1"}, "a"), ({"a": ""}, "a"),
    ({"b": "{b}"}, "a"), ({"a": "{a}", "b": "xyz"}, "b"), ({"a": "{a}", "b": "999999"}, "b"),
])
def test_compare_with_invalid_ids_names_the_field(student, demo_cohort, query, field):
    query = {k: v.format(a=demo_cohort.pk, b=demo_cohort.pk) for k, v in query.items()}
    response = student.get(reverse("cohort_compare"), query)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def test_compare_without_a_default_cohort_names_b(student):
    if SCENARIO == "default" or Cohort.objects.filter(scenario="default").exists():
        pytest.skip("needs a scenario besides the default and no stored default cohort")
    other = cohort_generate(n_patients=300, scenario=SCENARIO, seed=6)
    response = student.get(reverse("cohort_compare"), {"a": other.pk})
    assert response.status_code == 400
    assert 'data-field="b"' in response.content.decode()


def test_compare_shows_each_run_s_aucs_as_stored(educator, trained):
    other = cohort_generate(n_patients=300, scenario=SCENARIO, seed=7)
    response = educator.get(reverse("cohort_compare"), {"a": other.pk, "b": trained.cohort.pk})
    page = response.content.decode()
    assert response.status_code == 200
    models = TrainedModel.objects.filter(run=trained, variant="full", arm__in=FIRST_LINE_ARMS)
    assert models.exists()
    for model in models:
        m = model.metrics
        shown = re.search(rf'data-model="{model.pk}">([0-9.]+)</a>\s*\(([0-9.]+)\u2013([0-9.]+)\)', page)
        assert shown, model
        assert shown.groups() == (f"{m['roc_auc']:.3f}", f"{m['roc_auc_low']:.3f}",
                                  f"{m['roc_auc_high']:.3f}")
        url = reverse("model_detail", args=[trained.pk, model.arm])
        assert html.escape(f"{url}?algorithm={model.algorithm}&variant=full") in page
    assert reverse("run_overview", args=[trained.cohort.pk]) in page
    # Cohort A has no run: an educator is offered to train it.
    assert f'action="{reverse("cohort_train", args=[other.pk])}"' in page
    # Only first-line, full-variant models are compared.
    assert TrainedModel.objects.filter(run=trained).exclude(
        variant="full").first().pk not in [c["model"].pk for arm in response.context["metrics"]
                                          for row in arm["rows"] for c in row["cells"] if c]


# --- the truth check beside the AUCs ------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_decoy(django_db_setup, django_db_blocker):
    """A decoy-biomarker cohort and its run (all-data variant only), committed for the module."""
    with committed_run(django_db_blocker, n_patients=800, cohort_seed=3, name="trained decoy",
                       scenario="decoy_biomarker", variants=("full",),
                       n_refits=2) as run:
        yield run


def _true_drivers(check: dict) -> list[str]:
    """What truly drives response, as the comparison shows it: the largest true shares over the
    model's features, the unobserved drivers and those the model does not use."""
    drivers = ([(row["label"], row["true_share"], "") for row in check["features"]]
               + [(u["label"], u["true_share"], " (not observed)") for u in check["unobserved"]]
               + [(u["label"], u["true_share"], " (not used)") for u in check["not_used"]])
    drivers = sorted((d for d in drivers if d[1] > 0), key=lambda d: -d[1])[:CREDITED_TOP]
    return [f"{label} {share * 100:.0f}%{note}" for label, share, note in drivers]


@pytest.mark.parametrize("role", sorted(MODEL_TRUTH_ROLES))
def test_compare_shows_beside_each_auc_what_the_models_credit_and_what_truly_drives_response(
        client, make_user, trained, trained_decoy, role):
    client.force_login(make_user(role))
    response = client.get(reverse("cohort_compare"),
                          {"a": trained_decoy.cohort.pk, "b": trained.cohort.pk})
    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    for side, run in enumerate((trained_decoy, trained)):
        models = TrainedModel.objects.filter(run=run, variant="full", arm__in=FIRST_LINE_ARMS)
        assert models.exists()
        for model in models:
            check = model.truth_check
            # The model's AUC cell, then the cell beside it: what the model credits.
            credited = re.search(rf'data-model="{model.pk}">.*?</td>\s*<td class="credited">(.*?)</td>',
                                 page, re.S).group(1)
            for row in check["features"][:CREDITED_TOP]:
                shown = f'{row["label"]} {row["model_share"] * 100:.0f}%'
                assert shown + (" ⚑" if row["flag"] else "<") in re.sub(r"</?mark>", "", credited)
            arm = re.search(rf'<tbody data-arm="{model.arm}">(.*?)</tbody>', page, re.S).group(1)
            drivers = re.search(r"What truly drives response</td>((?:\s*<td colspan=\"2\">.*?</td>){2})",
                                arm, re.S).group(1)
            cell = re.findall(r'<td colspan="2">(.*?)</td>', drivers, re.S)[side]
            assert re.findall(r"<li>(.*?)</li>", cell) == _true_drivers(check)


def test_compare_shows_students_no_truth_beside_the_aucs(student, trained, trained_decoy):
    response = student.get(reverse("cohort_compare"),
                           {"a": trained_decoy.cohort.pk, "b": trained.cohort.pk})
    page = html.unescape(response.content.decode())
    assert 'id="compare-metrics"' in page
    for shown_to_truth_roles in ('class="credited"', "What truly drives response", "the model credits",
                                 "⚑", "(not observed)", "(not used)"):
        assert shown_to_truth_roles not in page
