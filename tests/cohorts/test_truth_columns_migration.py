"""Upgrading a database whose ground truth kept each patient's probabilities and potential
responses as JSON by arm (before cohorts 0012): every value moves to its arm's column, and going
back restores the JSON."""

import pytest

from decision_support.cohorts.models import GroundTruth, Patient
from decision_support.cohorts.selectors import truth_frame
from synthetic_data import ARMS
from tests.migrations import migrate_to, migrate_to_latest

BEFORE = [("cohorts", "0011_aggregate_permitted_classes")]
AFTER = [("cohorts", "0012_truth_columns_per_arm")]
# Probabilities with every digit a double holds, and potential responses stored as 0/1 (as
# cohort_store wrote them) for one patient and as JSON booleans for the other.
TRUTHS = [
    ({arm: 0.1 + i / 9 + 1e-13 for i, arm in enumerate(ARMS)},
     {arm: i % 2 for i, arm in enumerate(ARMS)}),
    ({arm: 0.987654321012345 - i / 11 for i, arm in enumerate(ARMS)},
     {arm: i % 3 == 0 for i, arm in enumerate(ARMS)}),
]


@pytest.mark.django_db(transaction=True)
def test_the_truths_json_by_arm_becomes_a_column_per_arm_and_back():
    old = migrate_to(BEFORE)
    course, _ = old.get_model("courses", "Course").objects.get_or_create(
        is_default=True, defaults={"name": "Demo course"})
    cohort = old.get_model("cohorts", "Cohort").objects.create(
        name="old", scenario="default", n_patients=2, seed=1, source="generated",
        fingerprint="f" * 64, course=course)
    for number, (probabilities, responses) in enumerate(TRUTHS, start=1):
        patient = old.get_model("cohorts", "Patient").objects.create(
            cohort=cohort, pseudonym=f"p{number}", place_key=f"k{number}", number=number,
            arm="ssri", response=True, remission=False)
        old.get_model("cohorts", "GroundTruth").objects.create(
            patient=patient, inflammation_z=0.5, illness_burden_z=-1.0, genetic_liability_z=2.0,
            p_response=probabilities, potential_response=responses)

    migrate_to(AFTER)
    stored = truth_frame(Patient.objects.order_by("number"))
    for row, (probabilities, responses) in zip(stored.itertuples(index=False), TRUTHS):
        values = row._asdict()
        assert {arm: values[f"p_response_{arm}"] for arm in ARMS} == probabilities
        assert {arm: values[f"response_{arm}"] for arm in ARMS} == {
            arm: int(response) for arm, response in responses.items()}
    assert GroundTruth.objects.filter(inflammation_z=0.5, illness_burden_z=-1.0,
                                      genetic_liability_z=2.0).count() == 2

    old = migrate_to(BEFORE)
    back = old.get_model("cohorts", "GroundTruth").objects.order_by("patient__number")
    assert [(t.p_response, t.potential_response) for t in back] == [
        (probabilities, {arm: int(response) for arm, response in responses.items()})
        for probabilities, responses in TRUTHS]
    migrate_to_latest()
