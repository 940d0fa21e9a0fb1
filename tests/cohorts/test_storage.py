import hashlib

import pandas as pd
import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from decision_support.cohorts import services
from decision_support.cohorts.models import (
    RECORD_MODELS,
    BiomarkerRecord,
    ClinicalRecord,
    GeneticRecord,
    GroundTruth,
    Patient,
)
from decision_support.cohorts.selectors import patients_frame, truth_frame
from decision_support.cohorts.services import cohort_generate
from synthetic_data import DATA_DICTIONARY, TRUTH_COLUMNS, make_cohort

pytestmark = pytest.mark.django_db


def test_a_generated_cohort_is_stored_with_every_value_intact():
    cohort = cohort_generate(n_patients=250, seed=4)
    expected = make_cohort(250, random_state=4).patients.drop(columns="patient_id")
    stored = patients_frame(Patient.objects.filter(cohort=cohort))[expected.columns]
    for column in expected.columns:
        assert stored[column].tolist() == expected[column].astype(object).tolist(), column
    assert cohort.seed == 4 and cohort.n_patients == 250 and cohort.scenario == "default"
    assert cohort.generator_version


def test_each_data_class_has_its_own_table_and_truth_is_kept_apart():
    cohort = cohort_generate(n_patients=40, seed=2)
    for model in (ClinicalRecord, BiomarkerRecord, GeneticRecord, GroundTruth):
        assert model.objects.filter(patient__cohort=cohort).count() == 40
    observed_tables = {Patient, ClinicalRecord, BiomarkerRecord, GeneticRecord}
    truth_fields = {f.name for f in GroundTruth._meta.concrete_fields if not f.is_relation}
    for variable in DATA_DICTIONARY.values():
        holders = [m for m in observed_tables if variable.name in {f.name for f in m._meta.get_fields()}]
        if variable.data_class in ("ground_truth", "identifier"):
            assert holders == [], f"{variable.name} must not sit beside observed data"
        else:
            assert holders == [RECORD_MODELS[variable.data_class]], variable.name
    assert truth_fields == set(TRUTH_COLUMNS[1:])


def test_ground_truth_keeps_every_arms_probability_and_potential_outcome():
    cohort = cohort_generate(n_patients=30, seed=6)
    truth = make_cohort(30, random_state=6).truth
    stored = truth_frame(Patient.objects.filter(cohort=cohort))
    pd.testing.assert_frame_equal(stored.reset_index(drop=True),
                                  truth.drop(columns="patient_id"))


def test_patients_are_stored_under_keyed_pseudonyms_not_their_numbers():
    cohort = cohort_generate(n_patients=50, seed=1)
    other = cohort_generate(n_patients=50, seed=1)
    pseudonyms = list(Patient.objects.filter(cohort=cohort).values_list("pseudonym", flat=True))
    assert len(set(pseudonyms)) == 50
    plain_hashes = {hashlib.sha256(str(i).encode()).hexdigest()[: len(pseudonyms[0])] for i in range(1, 51)}
    assert plain_hashes.isdisjoint(pseudonyms)
    assert not {str(i) for i in range(1, 51)} & set(pseudonyms)
    assert set(pseudonyms).isdisjoint(Patient.objects.filter(cohort=other).values_list("pseudonym", flat=True))


def test_a_failure_while_storing_leaves_nothing_behind(monkeypatch):
    counts_before = {m: m.objects.count() for m in apps.get_models()}

    def fail_at_the_truth(model, *args, **kwargs):
        if model is GroundTruth:  # the last table of a batch: the others hold rows by now
            raise RuntimeError("disk full")
        insert(model, *args, **kwargs)

    insert = services.bulk_insert
    monkeypatch.setattr(services, "STORE_BATCH_SIZE", 10)
    monkeypatch.setattr(services, "bulk_insert", fail_at_the_truth)
    with pytest.raises(RuntimeError):
        cohort_generate(n_patients=35, seed=3)
    assert {m: m.objects.count() for m in apps.get_models()} == counts_before


@pytest.mark.parametrize("field, value", [("age", 5), ("sex", "unknown"), ("prior_failures", 9)])
def test_the_database_refuses_values_outside_the_dictionary(field, value):
    cohort = cohort_generate(n_patients=1, seed=1)
    record = ClinicalRecord.objects.get(patient__cohort=cohort)
    setattr(record, field, value)
    with pytest.raises(IntegrityError), transaction.atomic():
        record.save()


@pytest.mark.parametrize("value", [-0.01, 1.01])
def test_the_database_refuses_a_true_probability_outside_zero_to_one(value):
    cohort = cohort_generate(n_patients=1, seed=1)
    truth = GroundTruth.objects.get(patient__cohort=cohort)
    truth.p_response_cbt = value
    with pytest.raises(IntegrityError), transaction.atomic():
        truth.save()
