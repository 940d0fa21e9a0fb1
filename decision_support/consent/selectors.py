"""Reads: the consent gate applied to stored consent records.

``consent_permitted_classes``, ``permitted_classes_by_patient`` and ``permitted_classes_table``
answer which consent classes a purpose may use; they only load records and leave the decision to
the gate (``gate.permitted_classes``, or its table form ``gate.permitted_table`` for a cohort).
``PermittedByNumber`` is the table's compact form, stored per consent version with a cohort's
aggregates.
Patient data itself is read through ``reads``, which calls them. ``erased_patients_in_run``
counts the patients erased since a training run learnt from them; ``carried_over_decisions`` the
decisions a cohort took over from earlier copies of its data; ``patient_copies`` finds one person
in every stored copy of the same data; ``consent_departures_from_seed`` what a course reset
restores.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from django.db.models import CharField, Min, Q
from django.db.models.functions import Cast
from django.utils import timezone

from decision_support.cohorts.models import Patient
from decision_support.lib.vocabulary import CONSENT_CLASSES, PURPOSES

from .constants import SEED_RECORDED_BY, Provision
from .gate import ConsentEntry, check_purpose, model_variant_for, permitted_classes, permitted_table
from .models import ConsentRecord, Tombstone

# Patients per query; large enough that any demo cohort takes one query, small enough for
# every database's limit on query parameters.
GATE_BATCH_SIZE = 20_000
_ENTRY_FIELDS = [f.name for f in fields(ConsentEntry)]
_DATETIME_FIELDS = ("period_start", "period_end", "recorded_at")


def consent_permitted_classes(patient, *, purpose: str,
                              now: dt.datetime | None = None) -> frozenset[str]:
    """The consent classes ``patient`` (a Patient or its pk) permits for ``purpose`` at ``now``
    (default: the current time); empty without records."""
    patient_id = getattr(patient, "pk", patient)
    return permitted_classes_by_patient([patient_id], purpose=purpose, now=now)[patient_id]


def permitted_classes_by_patient(patient_ids: Iterable[int], *, purpose: str,
                                 now: dt.datetime | None = None) -> dict[int, frozenset[str]]:
    """``{patient pk: permitted consent classes}`` for many patients, in one query per
    ``GATE_BATCH_SIZE`` patients. Every given pk is a key; patients without records map to an
    empty set. For a whole cohort, ``permitted_classes_table`` is faster."""
    check_purpose(purpose)
    now = timezone.now() if now is None else now
    ids = list(dict.fromkeys(int(pk) for pk in patient_ids))
    histories: dict[int, list[ConsentEntry]] = defaultdict(list)
    for start in range(0, len(ids), GATE_BATCH_SIZE):
        rows = (ConsentRecord.objects
                .filter(patient_id__in=ids[start:start + GATE_BATCH_SIZE], purpose=purpose)
                .order_by()
                .values_list("patient_id", *_ENTRY_FIELDS))
        for patient_id, *values in rows:
            histories[patient_id].append(ConsentEntry(*values))
    return {pk: permitted_classes(histories.get(pk, ()), purpose=purpose, now=now) for pk in ids}


def permitted_classes_table(patients, *, purpose: str,
                            now: dt.datetime | None = None) -> pd.DataFrame:
    """Whether each patient of ``patients`` (a Patient queryset, such as a cohort's) permits each
    consent class for ``purpose`` at ``now`` (default: the current time): a boolean frame indexed
    by pk, one column per class of ``CONSENT_CLASSES``, in one query joined to ``patients``.

    The gate's table form (``gate.permitted_table``): at 100,000 patients about three times
    faster than ``permitted_classes_by_patient`` (most of what remains is reading 300,000 rows),
    and slower for a handful (a page's patients)."""
    check_purpose(purpose)
    now = timezone.now() if now is None else now
    # Datetimes are read as text and parsed by pandas all at once: converting each into a
    # datetime object on its own took longer than the rest of the gate. The purpose is known.
    columns = [f for f in _ENTRY_FIELDS if f != "purpose"]
    records = pd.DataFrame.from_records(
        list(ConsentRecord.objects.filter(patient__in=patients.order_by().values("pk"),
                                          purpose=purpose).order_by()
             .values_list("patient_id", *(Cast(f, CharField()) if f in _DATETIME_FIELDS else f
                                          for f in columns))),
        columns=["patient", *columns])
    records["purpose"] = purpose
    for name in _DATETIME_FIELDS:
        records[name] = pd.to_datetime(records[name], format="ISO8601", utc=True)
    ids = pd.Index(patients.order_by("pk").values_list("pk", flat=True), name="pk")
    return permitted_table(records, purpose=purpose, now=now).reindex(ids, fill_value=False)


# A patient's permitted classes as one byte: bit i set when ``CONSENT_CLASSES[i]`` is permitted.
_CLASSES_OF_CODE = tuple(frozenset(c for i, c in enumerate(CONSENT_CLASSES) if code >> i & 1)
                         for code in range(1 << len(CONSENT_CLASSES)))
NO_PATIENT = 0xFF
# The model variant each code's classes allow (``gate.model_variant_for``); "" for none.
_VARIANT_OF_CODE = np.array([model_variant_for(classes) or "" for classes in _CLASSES_OF_CODE]
                            + [""] * (NO_PATIENT + 1 - len(_CLASSES_OF_CODE)), dtype=object)


def classes_code(classes) -> int:
    """The byte ``PermittedByNumber`` stores for the permitted ``classes``."""
    return sum(1 << i for i, c in enumerate(CONSENT_CLASSES) if c in classes)


def variants_of_codes(codes: np.ndarray) -> np.ndarray:
    """The model variant the classes of each of ``codes`` allow (``gate.model_variant_for``),
    "" where they allow none or the code is ``NO_PATIENT``: an object array."""
    return _VARIANT_OF_CODE[codes]


@dataclass(frozen=True)
class PermittedByNumber:
    """``permitted_classes_table``'s answers for a whole cohort in the form they are stored in
    (``cohorts.aggregates``): one byte per case number, its bit i set when the patient permits
    ``CONSENT_CLASSES[i]``; ``NO_PATIENT`` where the cohort holds no patient of that number."""

    codes: bytes

    @classmethod
    def from_table(cls, table: pd.DataFrame, numbers: pd.Series) -> "PermittedByNumber":
        """From ``permitted_classes_table``'s frame and each of its patients' case number
        (``numbers``, indexed by pk)."""
        bits = table[list(CONSENT_CLASSES)].to_numpy(dtype=np.uint8) \
            @ (1 << np.arange(len(CONSENT_CLASSES), dtype=np.uint8))
        cases = numbers.reindex(table.index).to_numpy(dtype=np.int64)
        codes = np.full(cases.max(initial=0) + 1, NO_PATIENT, dtype=np.uint8)
        codes[cases] = bits
        return cls(codes.tobytes())

    def classes_of(self, numbers) -> list[frozenset[str] | None]:
        """The classes the patients of case ``numbers`` permit, in order; None for a number
        the cohort held no patient of when its consent was read (patients are only ever taken
        away, so: one erased since)."""
        return [None if code == NO_PATIENT else _CLASSES_OF_CODE[code]
                for code in self.codes_of(numbers).tolist()]

    def codes_of(self, numbers) -> np.ndarray:
        """``classes_of`` as the stored bytes (``classes_code``; ``NO_PATIENT`` for None)."""
        numbers = np.asarray(numbers, dtype=np.int64)
        stored = np.frombuffer(self.codes, dtype=np.uint8)
        inside = (numbers >= 0) & (numbers < len(stored))
        return np.where(inside, stored[np.where(inside, numbers, 0)], NO_PATIENT).astype(np.uint8)


def next_consent_boundary(cohort, *, purpose: str, now: dt.datetime) -> dt.datetime | None:
    """The first instant after ``now`` at which a consent period of ``cohort``'s patients for
    ``purpose`` starts or ends (None: none does): the gate's answers for the cohort hold until
    then, unless a decision is recorded."""
    bounds = ConsentRecord.objects.filter(patient__cohort=cohort, purpose=purpose).aggregate(
        start=Min("period_start", filter=Q(period_start__gt=now)),
        end=Min("period_end", filter=Q(period_end__gt=now)))
    return min((b for b in bounds.values() if b is not None), default=None)


def erased_patients_in_run(run) -> int:
    """How many erased patients were in ``run``'s training set (tombstones listing the run)."""
    # Counted in Python: SQLite has no JSON ``contains`` lookup; one cohort's tombstones are few.
    return sum(run.pk in ids for ids in Tombstone.objects.filter(cohort_id=run.cohort_id)
               .values_list("affected_run_ids", flat=True))


def carried_over_decisions(cohort) -> int:
    """How many consent decisions ``cohort`` carried over from earlier copies of its data."""
    return ConsentRecord.objects.filter(patient__cohort=cohort, carried_over=True).count()


def patient_copies(patient):
    """``patient`` (a Patient or its pk) and the same person in every other stored copy of the
    data (the patients sharing its place key), in pk order."""
    pk = getattr(patient, "pk", patient)
    return (Patient.objects.filter(place_key__in=Patient.objects.filter(pk=pk).values("place_key"))
            .order_by("pk"))


def _standing(records: list[ConsentEntry], purpose: str, now: dt.datetime) -> dict[str, tuple]:
    """Per consent class: whether the records permit it for ``purpose`` at ``now``, and whether
    that permit lapses (its newest record has an end)."""
    permitted = permitted_classes(records, purpose=purpose, now=now)
    newest: dict[str, ConsentEntry] = {}
    for record in records:
        if record.purpose == purpose and (record.data_class not in newest or record.recorded_at
                                          > newest[record.data_class].recorded_at):
            newest[record.data_class] = record
    return {c: (c in permitted, c in permitted and newest[c].period_end is not None)
            for c in CONSENT_CLASSES}


def consent_departures_from_seed(patient_ids: Iterable[int], *, now: dt.datetime | None = None
                                 ) -> list[tuple[int, str, str, str]]:
    """``(patient pk, consent class, purpose, seeded provision)`` for every class and purpose
    whose standing (permitted now, and whether the permit lapses) differs from what the patient's
    seed records alone would give: the decisions a course reset restores. A class and purpose
    without a seed record (an imported cohort has none) was seeded as deny, as the gate denies
    without a record. Loads the histories in one query per ``GATE_BATCH_SIZE`` patients."""
    now = timezone.now() if now is None else now
    ids = list(dict.fromkeys(int(pk) for pk in patient_ids))
    histories: dict[int, list[ConsentEntry]] = defaultdict(list)
    seeds: dict[int, list[ConsentEntry]] = defaultdict(list)
    for start in range(0, len(ids), GATE_BATCH_SIZE):
        rows = (ConsentRecord.objects.filter(patient_id__in=ids[start:start + GATE_BATCH_SIZE])
                .order_by().values_list("patient_id", "recorded_by", "carried_over",
                                        *_ENTRY_FIELDS))
        for patient_id, recorded_by, carried_over, *values in rows:
            entry = ConsentEntry(*values)
            histories[patient_id].append(entry)
            if recorded_by == SEED_RECORDED_BY and not carried_over:
                seeds[patient_id].append(entry)
    departures = []
    for pk in ids:
        for purpose in PURPOSES:
            seeded = _standing(seeds[pk], purpose, now)
            current = _standing(histories[pk], purpose, now)
            departures.extend(
                (pk, c, purpose, Provision.PERMIT if seeded[c][0] else Provision.DENY)
                for c in CONSENT_CLASSES if current[c] != seeded[c])
    return departures
