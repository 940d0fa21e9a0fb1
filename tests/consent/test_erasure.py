"""Erasure (GDPR 17): no trace of the patient in any table but the tombstone and the audit log."""

import json

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from decision_support.audit.models import AuditEntry
from decision_support.audit.verify import verify_chain
from decision_support.cohorts.models import Patient
from decision_support.consent.erasure import patient_erase, runs_trained_on
from decision_support.consent.models import ConsentRecord, Tombstone
from decision_support.consent.selectors import consent_permitted_classes, erased_patients_in_run
from decision_support.consent.services import consent_give, consent_withdraw
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.registry.models import TrainingRun

pytestmark = pytest.mark.django_db
ML = Purpose.MODEL_TRAINING


@pytest.fixture
def patient(demo_cohort):
    """A patient whose consent let model training use every data class."""
    return next(p for p in demo_cohort.patients.order_by("pk")
                if consent_permitted_classes(p, purpose=ML) == set(CONSENT_CLASSES))


def _run(cohort) -> TrainingRun:
    """A registry row standing in for a training run (which models it holds does not matter)."""
    return TrainingRun.objects.create(cohort=cohort, scenario=cohort.scenario, seed=1,
                                      n_patients=cohort.patients.count(), library_versions={},
                                      duration_seconds=0.0)


def _erase_url(patient) -> str:
    return reverse("patient_erase", args=[patient.pseudonym])


def _traces(pk: int, *texts: str) -> list[str]:
    """Every row of every model, but tombstones and audit entries, that holds the patient's pk
    as a foreign key to Patient or one of ``texts`` (the pseudonym, the place key) in any field
    (text, JSON, bytes)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model in (Tombstone, AuditEntry) or model._meta.proxy:
            continue
        for row in model._base_manager.all():
            for field in model._meta.concrete_fields:
                value = field.value_from_object(row)
                if isinstance(field, models.ForeignKey) and field.related_model is Patient:
                    hit = value == pk
                elif isinstance(value, (bytes, memoryview)):
                    hit = any(text.encode() in bytes(value) for text in texts)
                else:
                    hit = any(text in json.dumps(value, default=str) for text in texts)
                if hit:
                    found.append(f"{model._meta.label}.{field.name} (row {row.pk})")
    return found


def test_erasure_leaves_only_the_tombstone_and_the_audit_entry(steward_client, steward, patient):
    pk, pseudonym, cohort = patient.pk, patient.pseudonym, patient.cohort
    run = _run(cohort)
    assert _traces(pk, pseudonym)  # the scan finds the patient before erasure
    response = steward_client.post(_erase_url(patient), {"confirmation": pseudonym})
    assert response.status_code == 302 and response["Location"] == reverse("erasure_list")

    assert _traces(pk, pseudonym) == []
    tombstone = Tombstone.objects.get(pseudonym=pseudonym)
    assert (tombstone.cohort, tombstone.erased_by, tombstone.affected_run_ids) == (
        cohort, steward.username, [run.pk])
    assert erased_patients_in_run(run) == 1
    entry = AuditEntry.objects.order_by("sequence").last()
    assert (entry.action, entry.actor, entry.role, entry.object_ref, entry.outcome) == (
        "patient.erase", steward.username, "data_steward", pseudonym, "allowed")
    assert entry.detail["deleted"]["consent.ConsentRecord"] == 9
    assert entry.detail["affected_run_ids"] == [run.pk]
    assert verify_chain().ok
    assert cohort.patients.count() == cohort.n_patients - 1


@pytest.mark.parametrize("decide", [consent_give, consent_withdraw])
def test_erasure_also_removes_the_decisions_kept_for_later_copies(steward_client, steward,
                                                                   patient, decide):
    pk, pseudonym, place_key = patient.pk, patient.pseudonym, patient.place_key
    decide(patient=patient, data_class="genetic", purpose=ML, actor=steward)
    assert "consent.PlaceConsent.place_key" in " ".join(_traces(pk, place_key))
    steward_client.post(_erase_url(patient), {"confirmation": pseudonym})
    assert _traces(pk, pseudonym, place_key) == []
    assert Tombstone.objects.get(pseudonym=pseudonym).place_key == place_key


def test_the_erasure_list_shows_tombstones_newest_first_with_their_runs(steward_client, steward,
                                                                        demo_cohort):
    first, second = demo_cohort.patients.order_by("pk")[:2]
    run = _run(demo_cohort)
    trained_on = sum(run in runs_trained_on(p) for p in (first, second))
    patient_erase(first, actor=steward)
    patient_erase(second, actor=steward)
    page = steward_client.get(reverse("erasure_list")).content.decode()
    assert page.index(second.pseudonym) < page.index(first.pseudonym)
    assert erased_patients_in_run(run) == trained_on


def test_the_confirmation_page_lists_what_goes_what_stays_and_the_runs_to_flag(steward_client,
                                                                               patient):
    run = _run(patient.cohort)
    response = steward_client.get(_erase_url(patient))
    page = response.content.decode()
    assert response.status_code == 200
    plan = page.split('id="erase-plan"')[1].split("</table>")[0]
    for table, rows in [("Patients", 1), ("Consent records", 9), ("Genetic records", 1),
                        ("Ground truths", 1)]:
        assert f'<th scope="row">{table}</th><td class="num">{rows}</td>' in plan
    assert "tombstone" in page and "audit log" in page
    assert f"run {run.pk} (" in page.split('id="affected-runs"')[1].split("</p>")[0]


def test_only_runs_trained_while_training_consent_held_are_flagged(steward, patient):
    consent_withdraw(patient=patient, data_class="clinical", purpose=ML, actor=steward)
    before_consent = _run(patient.cohort)
    consent_give(patient=patient, data_class="clinical", purpose=ML, actor=steward)
    after_consent = _run(patient.cohort)
    tombstone = patient_erase(patient, actor=steward)
    assert tombstone.affected_run_ids == [after_consent.pk]
    assert (erased_patients_in_run(before_consent), erased_patients_in_run(after_consent)) == (0, 1)


@pytest.mark.parametrize("typed", ["", "wrong", "UPPER", "pseudonym\r\n", "pseudonym\n",
                                   " pseudonym", "<script>alert(1)</script>", "x" * 65])
def test_a_wrong_confirmation_is_a_400_naming_the_field_and_deletes_nothing(steward_client,
                                                                           patient, typed):
    typed = {"UPPER": patient.pseudonym.upper()}.get(typed, typed).replace(
        "pseudonym", patient.pseudonym)
    counts = (Patient.objects.count(), ConsentRecord.objects.count(), AuditEntry.objects.count())
    response = steward_client.post(_erase_url(patient), {"confirmation": typed})
    page = response.content.decode()
    assert response.status_code == 400
    assert '<li data-field="confirmation">confirmation ' in page
    assert "<script>alert" not in page and "\r" not in page  # never echoed
    assert (Patient.objects.count(), ConsentRecord.objects.count(),
            AuditEntry.objects.count()) == counts
    assert not Tombstone.objects.exists()


def test_an_unknown_pseudonym_is_404(steward_client):
    url = reverse("patient_erase", args=["0123456789abcdef01234567"])
    assert steward_client.get(url).status_code == 404
    assert steward_client.post(url, {"confirmation": "0123456789abcdef01234567"}).status_code == 404


def test_an_educator_cannot_erase(signed_in_client, patient):
    response = signed_in_client.post(_erase_url(patient), {"confirmation": patient.pseudonym})
    assert response.status_code == 404
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_a_model_protecting_the_patient_blocks_erasure_and_nothing_is_deleted(
        steward_client, patient, monkeypatch):
    from decision_support.consent import erasure

    plan = erasure.erasure_plan(patient)
    monkeypatch.setattr(erasure, "erasure_plan", lambda p: erasure.ErasurePlan(
        deleted=plan.deleted, blocked_by=["treatment decisions"], affected_runs=[],
        other_copies=[]))
    response = steward_client.post(_erase_url(patient), {"confirmation": patient.pseudonym})
    assert response.status_code == 409
    assert "rows in treatment decisions protect" in response.content.decode()
    assert Patient.objects.filter(pk=patient.pk).exists() and not Tombstone.objects.exists()
