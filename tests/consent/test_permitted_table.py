"""A cohort's consent read as a table (``selectors.permitted_classes_table``, the gate's table
form over stored records) answers as the gate does patient by patient, over random histories."""

import datetime as dt
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.services import cohort_store
from decision_support.consent.constants import Provision, Status
from decision_support.consent.models import ConsentRecord
from decision_support.consent.gate import model_variant_for
from decision_support.consent.selectors import (NO_PATIENT, PermittedByNumber, classes_code,
                                                permitted_classes_by_patient,
                                                permitted_classes_table, variants_of_codes)
from decision_support.lib.vocabulary import CONSENT_CLASSES, PURPOSES
from synthetic_data import make_cohort

pytestmark = pytest.mark.django_db

CET = dt.timezone(dt.timedelta(hours=1))


def _random_history(patients: list[int], *, seed: int, now: dt.datetime) -> None:
    """Records around ``now`` for random patients: few instants (ties happen, some a
    microsecond apart), periods that start or end either side of ``now``, other purposes."""
    rng = np.random.default_rng(seed)
    records = []
    for _ in range(400):
        start = now + dt.timedelta(minutes=int(rng.integers(-5, 3)))
        end = (None if rng.random() < 0.5
               else start + dt.timedelta(minutes=int(rng.integers(1, 8)),
                                         microseconds=int(rng.integers(0, 2))))
        recorded = now + dt.timedelta(minutes=int(rng.integers(-3, 3)),
                                      microseconds=int(rng.integers(0, 2)))
        records.append(ConsentRecord(
            patient_id=int(rng.choice(patients)), data_class=str(rng.choice(CONSENT_CLASSES)),
            purpose=str(rng.choice(PURPOSES)), status=str(rng.choice(Status.values)),
            provision=str(rng.choice(Provision.values)),
            period_start=start.astimezone(CET) if rng.random() < 0.3 else start,
            period_end=end, recorded_at=recorded, consent_text_version="test",
            recorded_by="test"))
    ConsentRecord.objects.bulk_create(records)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_table_matches_the_gate_patient_by_patient(demo_cohort, seed):
    now = timezone.now().replace(microsecond=500_000)
    patients = Patient.objects.filter(cohort=demo_cohort)
    ids = list(patients.order_by("pk").values_list("pk", flat=True))
    _random_history(ids[:60], seed=seed, now=now)
    numbers = pd.Series(dict(patients.values_list("pk", "number")))
    for purpose in PURPOSES:
        for at in (now, now + dt.timedelta(minutes=2, microseconds=1)):
            table = permitted_classes_table(patients, purpose=purpose, now=at)
            assert list(table.index) == ids
            assert list(table.columns) == list(CONSENT_CLASSES)
            by_patient = permitted_classes_by_patient(ids, purpose=purpose, now=at)
            assert {pk: frozenset(c for c in CONSENT_CLASSES if row[c])
                    for pk, row in table.iterrows()} == by_patient
            stored = PermittedByNumber.from_table(table, numbers)
            assert dict(zip(ids, stored.classes_of(numbers[ids]))) == by_patient


def test_patients_without_records_are_denied_every_class(db):
    generated = make_cohort(20, random_state=3)
    cohort = cohort_store(patients=generated.patients, truth=None, name="no consent",
                          scenario=generated.scenario, seed=3,
                          source=Cohort.Source.GENERATED)  # no consent mix: no records
    table = permitted_classes_table(cohort.patients.all(), purpose=PURPOSES[0])
    assert len(table) == 20
    assert not table.to_numpy().any()


def test_an_unknown_purpose_raises_naming_the_field(demo_cohort):
    with pytest.raises(ValueError, match=r"^purpose must be one of"):
        permitted_classes_table(demo_cohort.patients.all(), purpose="TREAT")


def test_the_stored_form_answers_none_for_a_case_number_the_cohort_did_not_hold(demo_cohort):
    """A number read with no patient behind it (one erased since the rows were read) has no
    classes, rather than another patient's."""
    patients = Patient.objects.filter(cohort=demo_cohort).exclude(number=2)
    numbers = pd.Series(dict(patients.values_list("pk", "number")))
    stored = PermittedByNumber.from_table(
        permitted_classes_table(patients, purpose=PURPOSES[0]), numbers)
    last = int(numbers.max())
    classes = stored.classes_of([1, 0, 2, last, last + 1, -1])
    assert classes[0] is not None and classes[3] is not None
    assert classes[1] is classes[2] is classes[4] is classes[5] is None


def test_the_byte_form_names_each_set_of_classes_and_the_variant_it_allows():
    """The patient list filters by the stored bytes: every set of classes has its own byte,
    read back as that set, and the model variant a byte allows is the gate's for its set."""
    sets = [frozenset(c) for n in range(len(CONSENT_CLASSES) + 1)
            for c in combinations(CONSENT_CLASSES, n)]
    codes = [classes_code(classes) for classes in sets]
    assert len(set(codes)) == len(sets) and NO_PATIENT not in codes
    table = pd.DataFrame([{c: c in classes for c in CONSENT_CLASSES} for classes in sets],
                         index=range(1, len(sets) + 1))
    stored = PermittedByNumber.from_table(table, pd.Series(table.index, index=table.index))
    numbers = [*table.index, len(sets) + 1]
    assert stored.classes_of(numbers) == [*sets, None]
    assert stored.codes_of(numbers).tolist() == [*codes, NO_PATIENT]
    assert variants_of_codes(stored.codes_of(numbers)).tolist() == [
        *(model_variant_for(classes) or "" for classes in sets), ""]
