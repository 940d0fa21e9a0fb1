"""Upgrading a database stored before fingerprints: existing cohorts, patients, tombstones and
privacy spends get them, so that the erasure and the spent budget hold when such a cohort is
re-created after the upgrade."""

from decimal import Decimal

import pytest

from decision_support.cohorts.fingerprints import data_fingerprint
from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.pseudonyms import patient_place_key, patient_pseudonym
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.models import Tombstone
from decision_support.privacy.models import PrivacySpend
from synthetic_data import GENERATOR_VERSION, make_cohort
from tests.migrations import migrate_to, migrate_to_latest

BEFORE = [("cohorts", "0001_initial"), ("consent", "0002_tombstone"),
          ("privacy", "0001_initial")]
N, SEED = 3, 7


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_fills_fingerprints_so_a_recreated_cohort_keeps_erasure_and_budget():
    old = migrate_to(BEFORE)
    cohort = old.get_model("cohorts", "Cohort").objects.create(
        name="old", scenario="default", n_patients=N, seed=SEED,
        generator_version=GENERATOR_VERSION, source="generated")
    pseudonyms = {i: patient_pseudonym(str(cohort.uid), i) for i in range(1, N + 1)}
    for i in (1, 3):  # patient 2 was erased before the upgrade
        old.get_model("cohorts", "Patient").objects.create(
            cohort=cohort, pseudonym=pseudonyms[i], arm="ssri", response=True, remission=False)
    old.get_model("consent", "Tombstone").objects.create(pseudonym=pseudonyms[2], cohort=cohort,
                                                        erased_by="steward")
    user = old.get_model("auth", "User").objects.create(username="researcher")
    old.get_model("privacy", "PrivacySpend").objects.create(
        user=user, cohort=cohort, epsilon=Decimal("3.0"), query="responders_by_arm")

    migrate_to_latest()

    fingerprint = data_fingerprint(make_cohort(N, random_state=SEED).patients)
    assert Cohort.objects.get(pk=cohort.pk).fingerprint == fingerprint
    assert dict(Patient.objects.values_list("pseudonym", "place_key")) == {
        pseudonyms[i]: patient_place_key(fingerprint, i) for i in (1, 3)}
    assert Tombstone.objects.get().place_key == patient_place_key(fingerprint, 2)
    assert PrivacySpend.objects.get().fingerprint == fingerprint
    again = cohort_generate(n_patients=N, seed=SEED)
    assert (again.fingerprint, again.n_patients, again.erased_left_out) == (fingerprint, N - 1, 1)
    assert PrivacySpend.objects.spent(user=user.pk, cohort=again) == Decimal("3.0")
