"""Storing a cohort (and seeding its consent) through the bulk path (``lib.bulk``: COPY on
PostgreSQL, multi-row INSERTs elsewhere) stores exactly the rows the ORM stores."""

import json

import pytest
from django.db import models

from decision_support.cohorts import services
from decision_support.cohorts.models import (BiomarkerRecord, Cohort, ClinicalRecord,
                                             GeneticRecord, GroundTruth, Patient)
from decision_support.consent import services as consent_services
from decision_support.consent.models import ConsentRecord
from synthetic_data import get_site_scenario, make_cohort, make_multisite_cohort

pytestmark = pytest.mark.django_db

TABLES = [Patient, ClinicalRecord, BiomarkerRecord, GeneticRecord, GroundTruth, ConsentRecord]
# What names the copy or the moment it was stored.
COPY_COLUMNS = ("id", "cohort_id", "pseudonym", "period_start", "recorded_at")


def _orm_insert(model, columns, constants=None):
    """The reference: the same values through model instances and ``bulk_create``."""
    fields = [model._meta.get_field(name) for name in columns]
    model.objects.bulk_create([
        model(**{f.attname: json.loads(v) if isinstance(f, models.JSONField) else v
                 for f, v in zip(fields, row)}, **(constants or {}))
        for row in zip(*columns.values())])


def _rows(cohort: Cohort) -> dict[str, list[tuple]]:
    """Every stored row of ``cohort``'s tables (consent records included) by patient number,
    without what names the copy (ids, the cohort, pseudonyms) or when it was stored."""
    numbers = dict(Patient.objects.filter(cohort=cohort).values_list("pk", "number"))
    rows = {}
    for model in TABLES:
        names = [f.attname for f in model._meta.concrete_fields
                 if f.attname not in COPY_COLUMNS]
        stored = model.objects.filter(**({"cohort": cohort} if model is Patient
                                         else {"patient__cohort": cohort})).values_list(*names)
        rows[model.__name__] = sorted(
            tuple(numbers[v] if n == "patient_id" else v for n, v in zip(names, row))
            for row in stored)
    return rows


@pytest.mark.parametrize("generated", [
    pytest.param(lambda: make_cohort(45, random_state=7), id="one site"),
    pytest.param(lambda: make_multisite_cohort(
        dict.fromkeys(get_site_scenario("trial_to_clinic").sites, 15), random_state=7),
        id="multi-site"),
])
def test_the_bulk_path_stores_the_rows_the_orm_stores(monkeypatch, generated):
    data = generated()
    monkeypatch.setattr(services, "STORE_BATCH_SIZE", 20)  # several batches

    def store():
        return services.cohort_store(patients=data.patients, truth=data.truth, name="copy",
                                     consent=data.consent, scenario="default", seed=7,
                                     source="generated")

    bulk = store()
    monkeypatch.setattr(services, "bulk_insert", _orm_insert)
    monkeypatch.setattr(consent_services, "bulk_insert", _orm_insert)
    orm = store()
    assert bulk.fingerprint == orm.fingerprint
    bulk_rows, orm_rows = _rows(bulk), _rows(orm)
    assert {t: len(r) for t, r in bulk_rows.items()} == {
        **dict.fromkeys(bulk_rows, len(data.patients)), "ConsentRecord": 9 * len(data.patients)}
    assert bulk_rows == orm_rows
