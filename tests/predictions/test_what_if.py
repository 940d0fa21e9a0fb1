"""The what-if explorer: changed values beside the original predictions, nothing saved, bad input
refused naming the field, genetic values only where role and consent allow, truth for educators,
nothing while predictions are paused."""

import re

import pytest
from django.apps import apps
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import patients_frame
from decision_support.consent.reads import consented_patient
from decision_support.consent.services import consent_withdraw
from decision_support.lib.vocabulary import ConsentClass, Purpose
from decision_support.predictions.services import predictions_pause

pytestmark = pytest.mark.django_db

GENETIC = ("cyp2c19_phenotype", "cyp2d6_phenotype", "polygenic_score_z", "httlpr_genotype",
           "bdnf_met_carrier", "fkbp5_methylation")


def _client(client, make_user, role):
    client.force_login(make_user(role, username=f"what_if_{role}"))
    return client


@pytest.fixture
def educator(client, make_user):
    return _client(client, make_user, Role.EDUCATOR)


@pytest.fixture
def student(client, make_user):
    return _client(client, make_user, Role.STUDENT)


def _what_if(client, patient, **query):
    return client.get(reverse("patient_what_if", args=[patient.pseudonym]), query)


def _crp(patient) -> float:
    return float(consented_patient(patient, purpose=Purpose.EDUCATION).values["crp_mg_l"])


def _other_crp(patient) -> str:
    return "0.05" if _crp(patient) > 5 else "60"


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_changing_crp_changes_the_ssri_prediction_and_waterfall(educator, patient):
    original = _what_if(educator, patient, explain="ssri")
    changed = _what_if(educator, patient, crp_mg_l=_other_crp(patient), explain="ssri")
    assert original.status_code == changed.status_code == 200
    assert original.context["changed"] == {}
    assert set(changed.context["changed"]) == {"crp_mg_l"}
    ssri = next(row for row in changed.context["comparison"] if row["arm"] == "ssri")
    assert ssri["original"] != ssri["changed"]
    assert ssri["difference"] not in ("+0.0", "-0.0")
    before, after = changed.context["waterfalls"]
    assert (before["chart"].id, after["chart"].id) == ("before-waterfall-ssri", "after-waterfall-ssri")
    assert before["chart"].table_rows != after["chart"].table_rows
    assert before["probability"] == pytest.approx(ssri["original"], abs=0.2)
    body = changed.content.decode()
    assert 'id="what-if-ssri"' in body and 'data-chart="after-waterfall-ssri"' in body


def test_nothing_is_written_but_the_one_audit_entry(educator, patient):
    frame = patients_frame(Patient.objects.filter(pk=patient.pk))
    counts = _row_counts()
    response = _what_if(educator, patient, crp_mg_l=_other_crp(patient), hamd17="30")
    assert response.status_code == 200
    after = _row_counts()
    assert after.pop("audit.AuditEntry") == counts.pop("audit.AuditEntry") + 1
    assert after == counts
    assert patients_frame(Patient.objects.filter(pk=patient.pk)).equals(frame)
    entry = AuditEntry.objects.order_by("-id").first()
    assert (entry.action, entry.object_ref) == ("patient.what_if", patient.pseudonym)
    assert entry.detail["changed"] == ["crp_mg_l", "hamd17"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("query, field", [
    ({"crp_mg_l": "301"}, "crp_mg_l"),
    ({"crp_mg_l": "nan"}, "crp_mg_l"),
    ({"il6_pg_ml": "inf"}, "il6_pg_ml"),
    ({"hamd17": "-1"}, "hamd17"),
    ({"age": "forty"}, "age"),
    ({"anxious_depression": "2"}, "anxious_depression"),
    ({"sex": "male"}, "sex"),
    ({"ancestry": "EAS"}, "ancestry"),
    ({"cyp2c19_phenotype": "PM"}, "cyp2c19_phenotype"),
    ({"explain": "placebo"}, "explain"),
])
def test_bad_values_are_refused_naming_the_field(educator, patient, query, field):
    entries = AuditEntry.objects.count()
    response = _what_if(educator, patient, **query)
    assert response.status_code == 400
    body = response.content.decode()
    assert f"({field})" in body
    assert "comparison" not in response.context and "waterfalls" not in response.context
    assert "chart-specs" not in body
    assert AuditEntry.objects.count() == entries


def test_immutable_variables_are_shown_read_only(educator, patient):
    body = _what_if(educator, patient).content.decode()
    for name in ("sex", "ancestry", "cyp2c19_phenotype", "fkbp5_methylation"):
        assert f'id="immutable-{name}"' in body
        assert f'name="{name}"' not in body
    assert 'name="crp_mg_l"' in body and 'min="0.01" max="300" step="0.01"' in body
    assert 'type="checkbox" name="anxious_depression"' in body


def test_a_student_gets_no_genetic_fields(student, patient):
    response = _what_if(student, patient)
    assert response.status_code == 200
    body = response.content.decode()
    for name in GENETIC:
        assert f'row-{name}"' not in body
    assert 'id="immutable-note"' in body and "not shown to students" in body
    assert _what_if(student, patient, polygenic_score_z="1").status_code == 400


def test_without_genetic_consent_no_genetic_fields_and_the_no_genetic_variant(
        educator, patient, make_user):
    consent_withdraw(patient=patient, data_class=ConsentClass.GENETIC,
                     purpose=Purpose.EDUCATION, actor=make_user(Role.DATA_STEWARD))
    response = _what_if(educator, patient, crp_mg_l=_other_crp(patient))
    assert response.status_code == 200
    body = response.content.decode()
    for name in GENETIC:
        assert f'row-{name}"' not in body
    assert response.context["predictions"].variant == "no_genetic"
    assert all(item.model.variant == "no_genetic"
               for item in response.context["predictions"].explanations)
    assert "no_genetic" in body
    # Something is withheld, so the truth (which needs the whole row) is not shown.
    assert "truth_rows" not in response.context


def test_educators_see_the_truth_before_and_after_and_students_do_not(client, make_user, patient):
    crp = _other_crp(patient)
    educator = _client(client, make_user, Role.EDUCATOR)
    rows = _what_if(educator, patient, crp_mg_l=crp).context["truth_rows"]
    assert {row["arm"] for row in rows} >= {"ssri"}
    assert all(0 < row["before"] < 1 and 0 < row["after"] < 1 for row in rows)
    client.logout()
    student = _client(client, make_user, Role.STUDENT)
    response = _what_if(student, patient, crp_mg_l=crp)
    assert "truth_rows" not in response.context
    assert 'id="what-if-truth"' not in response.content.decode()


def test_the_truth_before_a_change_is_the_stored_truth_of_the_patient(client, make_user, patient):
    educator = _client(client, make_user, Role.EDUCATOR)
    rows = _what_if(educator, patient, crp_mg_l=_other_crp(patient)).context["truth_rows"]
    for row in rows:
        assert row["before"] == pytest.approx(getattr(patient.truth, f"p_response_{row['arm']}"),
                                              abs=1e-9)


def test_a_cohort_of_an_older_generator_says_why_its_truth_after_a_change_is_absent(
        client, make_user, patient):
    """Its stored truth came from another simulation: recomputing it now would show a second,
    different "before" beside the patient page's."""
    Cohort = apps.get_model("cohorts", "Cohort")
    Cohort.objects.filter(pk=patient.cohort_id).update(generator_version="1.1.0")
    educator = _client(client, make_user, Role.EDUCATOR)
    response = _what_if(educator, patient, crp_mg_l=_other_crp(patient))
    assert "truth_rows" not in response.context
    note = response.content.decode().split('id="truth-absent">', 1)[1].split("</p>", 1)[0]
    assert "generator 1.1.0" in note and "Create the cohort again" in note


def test_paused_predictions_show_nothing(educator, patient, make_user):
    predictions_pause(actor=make_user(Role.EDUCATOR, username="pauser"), reason="audit",
                      purpose=Purpose.EDUCATION)
    response = _what_if(educator, patient, crp_mg_l=_other_crp(patient))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="paused"' in body
    assert "comparison" not in response.context
    assert not re.search(r'data-chart="(before|after)-waterfall', body)


def test_the_patient_page_links_to_the_what_if_explorer(educator, patient):
    body = educator.get(reverse("patient_detail", args=[patient.pseudonym])).content.decode()
    assert f'href="{reverse("patient_what_if", args=[patient.pseudonym])}" id="what-if-link"' in body


@pytest.mark.parametrize("failures", ["0", "3"])
def test_changing_prior_failures_changes_the_eligible_arms_without_failing(educator, patient,
                                                                           failures):
    response = _what_if(educator, patient, prior_failures=failures, explain="ssri")
    assert response.status_code == 200
    assert response.context["waterfalls"]
