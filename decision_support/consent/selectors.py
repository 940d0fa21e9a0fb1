"""Reads: the consent gate applied to stored consent records.

Every read of patient data for a purpose asks one of these two functions which consent classes it
may use; both only load records and leave the decision to ``gate.permitted_classes``.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import fields

from django.utils import timezone

from .gate import ConsentEntry, check_purpose, permitted_classes
from .models import ConsentRecord

# Patients per query; large enough that any demo cohort takes one query, small enough for
# every database's limit on query parameters.
GATE_BATCH_SIZE = 20_000
_ENTRY_FIELDS = [f.name for f in fields(ConsentEntry)]


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
    empty set."""
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
