"""Giving, withdrawing and seeding consent, the append-only history, and the gate on stored rows."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from decision_support.cohorts.models import Patient
from decision_support.cohorts.models import Cohort
from decision_support.cohorts.services import cohort_store
from synthetic_data import make_cohort
from decision_support.consent.constants import CONSENT_TEXT_VERSION
from decision_support.consent.models import ConsentRecord
from decision_support.consent.selectors import (
    consent_permitted_classes,
    permitted_classes_by_patient,
)
from decision_support.consent.services import (
    consent_give,
    consent_seed_cohort,
    consent_withdraw,
)
from decision_support.lib.appendonly import AppendOnlyError
from decision_support.lib.vocabulary import CONSENT_CLASSES, PURPOSES, Purpose

pytestmark = pytest.mark.django_db
EDU, ML, RES = Purpose.EDUCATION, Purpose.MODEL_TRAINING, Purpose.RESEARCH_EXPORT


def _cohort_without_consent(n_patients: int, seed: int) -> Cohort:
    """A stored cohort with no consent records (cohort_generate would seed a mix)."""
    generated = make_cohort(n_patients, random_state=seed)
    return cohort_store(patients=generated.patients, truth=generated.truth, name="bare",
                        scenario="default", seed=seed, source=Cohort.Source.GENERATED)


@pytest.fixture
def cohort():
    return _cohort_without_consent(12, 3)


@pytest.fixture
def patient(cohort):
    return cohort.patients.first()


@pytest.fixture
def steward(django_user_model):
    """Any signed-in person may record a decision here; who may is the views' concern. No
    password: hashing one would dominate these tests' run time."""
    return django_user_model.objects.create_user(username="steward")


def test_giving_and_withdrawing_take_the_same_steps_and_flip_the_gate(patient, steward):
    decision = {"patient": patient, "data_class": "genetic", "purpose": EDU, "actor": steward}
    assert consent_permitted_classes(patient, purpose=EDU) == set()

    consent_give(**decision)
    assert consent_permitted_classes(patient, purpose=EDU) == {"genetic"}

    consent_withdraw(**decision)
    assert consent_permitted_classes(patient, purpose=EDU) == set()

    given, withdrawn = ConsentRecord.objects.filter(patient=patient)
    assert (given.provision, withdrawn.provision) == ("permit", "deny")
    for record in (given, withdrawn):
        assert record.status == "active"
        assert (record.data_class, record.purpose) == ("genetic", "TRAIN")
        assert record.consent_text_version == CONSENT_TEXT_VERSION
        assert record.recorded_by == steward.get_username()
        assert record.actor_id == steward.pk
        assert record.recorded_at.utcoffset() == dt.timedelta(0)
        assert record.period_start == record.recorded_at
        assert record.period_end is None
    assert given.recorded_at < withdrawn.recorded_at


def test_giving_again_after_withdrawal_appends_a_third_record(patient, steward):
    decision = {"patient": patient, "data_class": "clinical", "purpose": RES, "actor": steward}
    consent_give(**decision)
    consent_withdraw(**decision)
    consent_give(**decision)
    assert ConsentRecord.objects.filter(patient=patient).count() == 3
    assert consent_permitted_classes(patient, purpose=RES) == {"clinical"}


def test_the_latest_decision_wins_even_after_a_record_from_a_clock_ahead(patient, steward):
    ahead = timezone.now() + dt.timedelta(hours=1)
    ConsentRecord.objects.create(
        patient=patient, status="active", provision="permit", data_class="genetic", purpose=EDU,
        period_start=ahead - dt.timedelta(hours=2), consent_text_version=CONSENT_TEXT_VERSION,
        recorded_at=ahead, recorded_by="other server")
    withdrawn = consent_withdraw(patient=patient, data_class="genetic", purpose=EDU, actor=steward)
    assert withdrawn.recorded_at > ahead
    assert consent_permitted_classes(patient, purpose=EDU) == set()


def test_withdrawing_for_one_purpose_leaves_the_others(patient, steward):
    for purpose in PURPOSES:
        consent_give(patient=patient, data_class="biomarker", purpose=purpose, actor=steward)
    consent_withdraw(patient=patient, data_class="biomarker", purpose=ML, actor=steward)
    assert consent_permitted_classes(patient, purpose=ML) == set()
    assert consent_permitted_classes(patient, purpose=EDU) == {"biomarker"}
    assert consent_permitted_classes(patient, purpose=RES) == {"biomarker"}


def test_a_consent_with_an_end_lapses(patient, steward):
    end = timezone.now() + dt.timedelta(days=30)
    consent_give(patient=patient, data_class="clinical", purpose=EDU, actor=steward,
                 period_end=end)
    assert consent_permitted_classes(patient, purpose=EDU, now=end - dt.timedelta(seconds=1)) \
        == {"clinical"}
    assert consent_permitted_classes(patient, purpose=EDU, now=end) == set()


@pytest.mark.parametrize("period_end", [
    dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2999, 1, 1),  # naive
    "2999-01-01",
])
def test_a_period_end_that_is_not_ahead_is_refused(patient, steward, period_end):
    with pytest.raises(ValueError, match="^period_end must be"):
        consent_give(patient=patient, data_class="clinical", purpose=EDU, actor=steward,
                     period_end=period_end)
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize("service", [consent_give, consent_withdraw])
@pytest.mark.parametrize(("field", "value"), [
    ("data_class", "epigenetic"), ("data_class", "Genetic"), ("data_class", ""),
    ("purpose", "TREAT"), ("purpose", "education"), ("purpose", None),
])
def test_an_unknown_data_class_or_purpose_is_refused_naming_the_field(
        patient, steward, service, field, value):
    decision = {"patient": patient, "data_class": "genetic", "purpose": EDU, "actor": steward,
                field: value}
    with pytest.raises(ValueError, match=f"^{field} must be one of"):
        service(**decision)
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize("service", [consent_give, consent_withdraw])
def test_a_decision_needs_a_signed_in_actor(patient, service):
    from django.contrib.auth.models import AnonymousUser

    for actor in (None, AnonymousUser()):
        with pytest.raises(ValueError, match="^actor must be a signed-in user"):
            service(patient=patient, data_class="genetic", purpose=EDU, actor=actor)
    assert not ConsentRecord.objects.exists()


# Append-only history

@pytest.fixture
def record(patient, steward):
    return consent_give(patient=patient, data_class="genetic", purpose=EDU, actor=steward)


def test_a_stored_record_cannot_be_saved_again(record):
    record.provision = "deny"
    with pytest.raises(AppendOnlyError):
        record.save()
    assert ConsentRecord.objects.get().provision == "permit"


def test_a_new_record_cannot_take_an_existing_records_place(record):
    copy = ConsentRecord.objects.get()
    copy._state.adding = True
    copy.provision = "deny"
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    assert ConsentRecord.objects.get().provision == "permit"


@pytest.mark.parametrize("attempt", [
    lambda r: r.delete(),
    lambda r: ConsentRecord.objects.filter(pk=r.pk).delete(),
    lambda r: ConsentRecord.objects.all().delete(),
    lambda r: ConsentRecord.objects.filter(pk=r.pk).update(provision="deny"),
    lambda r: ConsentRecord.objects.bulk_update([r], ["provision"]),
    lambda r: ConsentRecord.objects.update_or_create(pk=r.pk, defaults={"provision": "deny"}),
    lambda r: r.patient.consent_records.all().delete(),
    lambda r: r.save(update_fields=["provision"]),
], ids=["instance delete", "filtered delete", "delete all", "update", "bulk_update",
        "update_or_create", "related manager delete", "save update_fields"])
def test_the_model_layer_refuses_edits_and_deletes(record, attempt):
    # Its own savepoint: bulk_update fails inside an atomic block without one.
    with pytest.raises(AppendOnlyError, match="append-only"), transaction.atomic():
        attempt(record)
    assert list(ConsentRecord.objects.values_list("pk", "provision")) == [(record.pk, "permit")]


def test_deleting_a_patient_erases_its_consent_records_and_no_others(cohort, steward):
    erased, kept = cohort.patients.all()[:2]
    for p in (erased, kept):
        consent_give(patient=p, data_class="clinical", purpose=EDU, actor=steward)
        consent_withdraw(patient=p, data_class="clinical", purpose=EDU, actor=steward)
    erased_pk = erased.pk
    erased.delete()
    assert not ConsentRecord.objects.filter(patient_id=erased_pk).exists()
    assert ConsentRecord.objects.filter(patient=kept).count() == 2


def test_deleting_a_cohort_erases_its_consent_records(cohort):
    consent_seed_cohort(cohort=cohort, random_state=0)
    cohort.delete()
    assert not ConsentRecord.objects.exists()


# Reads for many patients

def test_the_bulk_gate_answers_for_every_patient_in_one_query(
        cohort, steward, django_assert_num_queries):
    first, second, *_ = cohort.patients.all()
    consent_give(patient=first, data_class="clinical", purpose=EDU, actor=steward)
    consent_give(patient=second, data_class="genetic", purpose=RES, actor=steward)
    ids = list(cohort.patients.values_list("pk", flat=True))
    with django_assert_num_queries(1):
        answer = permitted_classes_by_patient(ids, purpose=EDU)
    assert set(answer) == set(ids)
    assert answer[first.pk] == {"clinical"}
    assert all(answer[pk] == set() for pk in ids if pk != first.pk)


def test_the_gate_on_stored_rows_refuses_an_unknown_purpose(patient):
    with pytest.raises(ValueError, match="^purpose must be one of"):
        consent_permitted_classes(patient, purpose="TREAT")
    with pytest.raises(ValueError, match="^purpose must be one of"):
        permitted_classes_by_patient([patient.pk], purpose="research")


# The demo mix

def _decisions(cohort):
    """Each patient's records by position in the cohort, so two cohorts can be compared."""
    pks = cohort.patients.order_by("pk").values_list("pk", flat=True)
    position = {pk: i for i, pk in enumerate(pks)}
    rows = (ConsentRecord.objects.filter(patient__cohort=cohort)
            .values_list("patient_id", "data_class", "purpose", "provision"))
    return sorted((position[pk], *rest) for pk, *rest in rows)


def test_the_seeded_mix_is_reproducible_from_its_seed():
    first, second, third = (_cohort_without_consent(200, s) for s in (1, 2, 3))
    consent_seed_cohort(cohort=first, random_state=7)
    consent_seed_cohort(cohort=second, random_state=7)
    consent_seed_cohort(cohort=third, random_state=8)
    assert _decisions(first) == _decisions(second)
    assert _decisions(first) != _decisions(third)


def test_the_seeded_mix_has_the_asked_for_shares_of_decliners():
    cohort = _cohort_without_consent(2_000, 11)
    summary = consent_seed_cohort(cohort=cohort, genetic_decline_rate=0.20,
                                  training_decline_rate=0.05, random_state=0)
    assert summary["patients"] == 2_000
    assert summary["records"] == ConsentRecord.objects.count() == 2_000 * 9
    ids = list(cohort.patients.values_list("pk", flat=True))
    gate = {purpose: permitted_classes_by_patient(ids, purpose=purpose) for purpose in PURPOSES}
    everything = set(CONSENT_CLASSES)
    no_genetic = everything - {"genetic"}

    declined_genetic = sum(gate[EDU][pk] == no_genetic for pk in ids)
    declined_training = sum(gate[ML][pk] == set() for pk in ids)
    assert abs(declined_genetic / 2_000 - 0.20) < 0.04
    assert abs(declined_training / 2_000 - 0.05) < 0.02
    assert (declined_genetic, declined_training) == (summary["declined_genetic"],
                                                     summary["declined_training"])
    for pk in ids:
        # Genetic decliners decline it for every purpose; training decliners only for training.
        assert gate[EDU][pk] == gate[RES][pk] in (everything, no_genetic)
        assert gate[ML][pk] in (set(), gate[EDU][pk])
    seeded = ConsentRecord.objects.first()
    assert (seeded.status, seeded.recorded_by, seeded.actor_id) == ("active", "demo seed", None)
    assert seeded.consent_text_version == CONSENT_TEXT_VERSION


def test_seeding_twice_is_refused(cohort):
    consent_seed_cohort(cohort=cohort, random_state=0)
    with pytest.raises(ValueError, match="already has consent records"):
        consent_seed_cohort(cohort=cohort, random_state=1)
    assert ConsentRecord.objects.count() == 12 * 9


@pytest.mark.parametrize(("field", "value"), [
    ("genetic_decline_rate", 1.5), ("genetic_decline_rate", -0.1),
    ("genetic_decline_rate", float("nan")), ("training_decline_rate", "0.05"),
    ("training_decline_rate", None), ("training_decline_rate", True),
])
def test_a_bad_decline_rate_is_refused_naming_the_field(cohort, field, value):
    with pytest.raises(ValueError, match=f"^{field} must be a number from 0 to 1"):
        consent_seed_cohort(cohort=cohort, random_state=0, **{field: value})
    assert not ConsentRecord.objects.exists()


def test_rates_of_zero_and_one_give_nobody_and_everybody(cohort):
    summary = consent_seed_cohort(cohort=cohort, genetic_decline_rate=1, training_decline_rate=0,
                                  random_state=0)
    assert (summary["declined_genetic"], summary["declined_training"]) == (12, 0)
    ids = list(Patient.objects.filter(cohort=cohort).values_list("pk", flat=True))
    assert set(permitted_classes_by_patient(ids, purpose=ML).values()) == {
        frozenset({"clinical", "biomarker"})}
