"""Writes: generating, importing and storing cohorts. Each runs in one transaction.

A cohort's identity is its data (``fingerprints``): storing data that was stored before (a
cohort re-created from its seed, a file imported again) leaves out every patient erased from an
earlier copy and carries over the consent decisions recorded in earlier copies.
"""

import secrets
from collections.abc import Callable
from contextlib import closing
from functools import partial

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import models, transaction

from synthetic_data import (GENERATOR_VERSION, get_site_scenario, make_cohort,
                            make_multisite_cohort, read_patients_csv)

from decision_support.audit.services import audit_record
from decision_support.consent.models import Tombstone
from decision_support.consent.services import consent_carry_over, consent_seed_cohort
from decision_support.courses.models import Course
from decision_support.courses.readonly import course_check_open
from decision_support.lib.bulk import bulk_insert, prepared_ahead

from .fingerprints import data_fingerprint
from .models import Cohort, GroundTruth, Patient, RECORD_MODELS
from .pseudonyms import patient_place_key, patient_pseudonym

STORE_BATCH_SIZE = 10_000
# The phases of making a cohort, as ``Progress`` reports them.
GENERATING, STORING, SEEDING_CONSENT = "generating", "storing", "seeding consent"
# Called with the phase, the patients done in it and the patients in all.
Progress = Callable[[str, int, int], None]


def bar_progress(bar) -> Progress:
    """A ``Progress`` that shows the phase on a ``tqdm`` bar (the commands') and moves it by the
    patients stored."""
    def report(phase: str, done: int, total: int) -> None:
        bar.total = total
        bar.set_description(phase.capitalize(), refresh=False)
        if phase == STORING:
            bar.update(done - bar.n)
        else:
            bar.refresh()
    return report

_RECORD_TABLES = [m for m in dict.fromkeys(RECORD_MODELS.values()) if m is not Patient]


def _fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if not f.is_relation and not f.primary_key]


def _erased(place_keys: list[str]) -> set[str]:
    """The place keys among ``place_keys`` that have a tombstone. Erasures are few beside a
    cohort's patients: every tombstone's key is read and matched here, which costs less than
    sending the cohort's keys as query parameters."""
    return set(place_keys).intersection(
        Tombstone.objects.values_list("place_key", flat=True).iterator())


@transaction.atomic
def cohort_store(*, patients: pd.DataFrame, truth: pd.DataFrame | None, name: str, scenario: str,
                 seed: int | None, source: str, generator_version: str = "",
                 is_demo: bool = False, consent: pd.DataFrame | None = None, actor=None,
                 course: Course | None = None, progress: Progress | None = None) -> Cohort:
    """Store a validated patients frame (and its ground truth, if known) as a new cohort.

    The cohort's fingerprint identifies the data (``fingerprints``: a digest of every patient's
    data, before anyone is left out). A patient erased from any copy of the same data is left
    out (``erased_left_out`` counts them; ``n_patients`` counts those stored).
    Patients are stored under keyed pseudonyms; their data classes go to separate tables, and a
    multi-site frame's ``site`` column to ``Patient.site``.
    ``consent`` (the generator's decisions, aligned with ``patients``) seeds the consent
    records; then the decisions recorded in earlier copies are carried over
    (``consent_carry_over``, audited as done by ``actor``). ``progress`` is called with the
    phase (``STORING``), the patients stored so far and all to store, before the first batch
    and after each, then before seeding consent (``SEEDING_CONSENT``). The cohort belongs to
    ``course`` (the default course if none is given), which must not be archived
    (``CourseArchived``).
    """
    course = course or Course.objects.default()
    course_check_open(course.pk)
    fingerprint = data_fingerprint(patients)
    # Serialised with erasure and consent decisions in earlier copies (consent.services.
    # lock_copies): what they write is either seen here or reaches this copy.
    list(Cohort.objects.select_for_update().order_by("pk").filter(fingerprint=fingerprint)
         .values_list("pk", flat=True))
    place_keys = [patient_place_key(fingerprint, i) for i in patients["patient_id"]]
    erased = _erased(place_keys)
    kept = np.array([key not in erased for key in place_keys])
    patients, place_keys = patients[kept], [k for k in place_keys if k not in erased]
    if progress:
        progress(STORING, 0, len(patients))
    cohort = Cohort.objects.create(
        name=name, scenario=scenario, n_patients=len(patients), seed=seed, source=source,
        generator_version=generator_version, is_demo=is_demo, fingerprint=fingerprint,
        erased_left_out=len(kept) - len(patients), course=course,
    )
    truth = None if truth is None else truth[kept]
    batches = prepared_ahead(Patient, partial(_batch_columns, cohort, patients, place_keys, truth),
                             range(0, len(patients), STORE_BATCH_SIZE))
    with closing(batches):
        for patient_columns, tables in batches:
            bulk_insert(Patient, patient_columns)
            numbers = patient_columns["number"]
            pks = list(Patient.objects.filter(cohort=cohort,
                                              number__range=(numbers[0], numbers[-1]))
                       .order_by("number").values_list("pk", flat=True))
            for model, columns in tables:
                bulk_insert(model, {"patient_id": pks, **columns})
            if progress:
                progress(STORING, numbers[-1], len(patients))
    if progress:
        progress(SEEDING_CONSENT, 0, len(patients))
    if consent is not None:
        consent_seed_cohort(cohort=cohort, decisions=consent[kept])
    consent_carry_over(cohort=cohort, actor=actor)
    return cohort


def _batch_columns(cohort: Cohort, patients: pd.DataFrame, place_keys: list[str],
                   truth: pd.DataFrame | None, start: int) -> tuple[dict, list]:
    """The columns of one batch of patients, from position ``start``: the patients' own, and
    each other table's (model, columns) but for the patients' keys (known once the patients
    are stored)."""
    chunk = patients.iloc[start:start + STORE_BATCH_SIZE]
    patient_columns = {
        "cohort_id": [cohort.pk] * len(chunk),
        "pseudonym": [patient_pseudonym(str(cohort.uid), i) for i in chunk["patient_id"]],
        "place_key": place_keys[start:start + STORE_BATCH_SIZE],
        "number": range(start + 1, start + len(chunk) + 1),
        **_stored(Patient, chunk, [f for f in _fields(Patient) if f in chunk.columns])}
    tables = [(model, _stored(model, chunk, _fields(model))) for model in _RECORD_TABLES]
    if truth is not None:
        truth_chunk = truth.iloc[start:start + STORE_BATCH_SIZE]
        tables.append((GroundTruth, _stored(GroundTruth, truth_chunk, _fields(GroundTruth))))
    return patient_columns, tables


def _stored(model, frame: pd.DataFrame, names: list[str]) -> dict[str, list]:
    """Columns of ``frame`` as ``model``'s fields store them (``lib.bulk``): Python values,
    flags as booleans."""
    return {name: (frame[name].astype(bool)
                   if isinstance(model._meta.get_field(name), models.BooleanField)
                   else frame[name]).tolist() for name in names}


@transaction.atomic
def cohort_generate(*, n_patients: int, scenario: str = "default", seed: int | None = None,
                    name: str = "", is_demo: bool = False, actor=None,
                    course: Course | None = None, progress: Progress | None = None,
                    site_scenario: str | None = None) -> Cohort:
    """Generate a cohort with ``synthetic_data`` and store it (``cohort_store``) with its ground
    truth and the consent decisions the generator drew (some patients decline genetic use or
    model training; in the ``consent_selection`` scenario, who declines depends on the patient).

    With ``site_scenario`` (a name in ``synthetic_data.SITE_SCENARIOS``) the cohort is drawn
    at each of its sites, ``n_patients`` per site (``make_multisite_cohort``, with the site
    scenario's true model; ``scenario`` is not used), and its ``scenario`` is the site
    scenario's name.

    Without a seed, a random one is drawn and recorded, so every cohort can be regenerated; a
    regenerated cohort is a copy of the same data (same fingerprint).
    """
    if seed is None:
        seed = secrets.randbelow(2**31)
    lesson = get_site_scenario(site_scenario) if site_scenario else None
    if progress:
        progress(GENERATING, 0, n_patients * (len(lesson.sites) if lesson else 1))
    if lesson is None:
        generated = make_cohort(n_patients, scenario=scenario, random_state=seed)
    else:
        generated = make_multisite_cohort(dict.fromkeys(lesson.sites, n_patients),
                                          scenario=lesson.scenario, random_state=seed)
        scenario = site_scenario
    return cohort_store(
        patients=generated.patients, truth=generated.truth, consent=generated.consent,
        name=name or f"{scenario} cohort of {len(generated.patients):,} (seed {seed})",
        scenario=scenario, seed=seed, source=Cohort.Source.GENERATED,
        generator_version=GENERATOR_VERSION, is_demo=is_demo, actor=actor, course=course,
        progress=progress,
    )


@transaction.atomic
def cohort_create(*, actor, purpose: str, scenario: str, n_patients: int, seed: int | None,
                  name: str, is_demo: bool = False, course: Course | None = None,
                  progress: Progress | None = None, site_scenario: str | None = None) -> Cohort:
    """``cohort_generate`` for an educator's generation job (``jobs``) or a command
    (``generate_cohort``), audited (``cohort.create``) in the same transaction."""
    cohort = cohort_generate(n_patients=n_patients, scenario=scenario, seed=seed, name=name,
                             is_demo=is_demo, actor=actor, course=course, progress=progress,
                             site_scenario=site_scenario)
    audit_record(actor=actor, purpose=purpose, action="cohort.create", object_type="cohort",
                 object_ref=str(cohort.uid), outcome="allowed",
                 detail={"cohort": cohort.pk, "course": cohort.course_id, "scenario": cohort.scenario, "n_patients": n_patients,
                         "seed": cohort.seed, "seed_drawn": seed is None,
                         "fingerprint": cohort.fingerprint,
                         "erased_left_out": cohort.erased_left_out})
    return cohort


@transaction.atomic
def cohort_import(*, actor, purpose: str, data: bytes, name: str, course: Course | None = None,
                  progress: Progress | None = None) -> Cohort:
    """Validate a CSV file of patients and store it as a cohort without ground truth, audited
    (``cohort.import``) in the same transaction.

    Raises ``synthetic_data.CohortImportError`` naming row and column of every problem; a file
    is stored whole or not at all.
    """
    patients = read_patients_csv(data, max_bytes=settings.COHORT_IMPORT_MAX_BYTES)
    cohort = cohort_store(patients=patients, truth=None, name=name, scenario="imported", seed=None,
                          source=Cohort.Source.IMPORTED, actor=actor, course=course,
                          progress=progress)
    audit_record(actor=actor, purpose=purpose, action="cohort.import", object_type="cohort",
                 object_ref=str(cohort.uid), outcome="allowed",
                 detail={"cohort": cohort.pk, "course": cohort.course_id, "n_patients": cohort.n_patients,
                         "fingerprint": cohort.fingerprint,
                         "erased_left_out": cohort.erased_left_out})
    return cohort
