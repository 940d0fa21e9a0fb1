"""The consent gate: the one rule deciding which data classes of a patient may be used.

``permitted_classes`` is pure (no database, no clock): it takes a patient's consent history and
answers for one purpose at one moment. ``permitted_table`` states the same rule over many
patients' histories at once, column by column (a cohort of 100,000 patients holds 900,000
records: one Python call per patient took seconds); a property test holds the two equal over
random histories. ``selectors`` loads the records and calls them; every read of patient data for
a purpose is meant to go through those selectors, so this module is the only place where the
rule is written.

The rule, for each consent class and the asked purpose:

1. Only the newest record counts (history is append-only; a later record replaces an earlier
   one). Records recorded at the same instant are a tie that resolves to deny, so the answer
   never depends on the order the records arrive in.
2. That record permits only if its status is ``active``, its provision is ``permit`` and ``now``
   lies within its period ``[period_start, period_end)`` (an open end never lapses).
3. Anything else denies, and so does having no record at all.

``now`` is the moment of use, not a query into the past: records are not filtered by when they
were recorded, so a withdrawal written by a server whose clock runs ahead still applies at once.
To ask what was permitted at an earlier time, pass only the records recorded by then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from decision_support.lib.vocabulary import CONSENT_CLASS_OF, CONSENT_CLASSES, PURPOSES
from models.features import VARIANT_DATA_CLASSES

from .constants import Provision, Status

UNKNOWN_PURPOSE = "purpose must be one of {known}; got {value!r}"
UNKNOWN_DATA_CLASS = "data_class must be one of {known}; got {value!r}"
NAIVE_NOW = "now must be a timezone-aware datetime (UTC); got {value!r}"


class ConsentLike(Protocol):
    """What the gate reads from a record: a ``ConsentEntry`` or a ``ConsentRecord`` row."""

    data_class: str
    purpose: str
    status: str
    provision: str
    period_start: dt.datetime
    period_end: dt.datetime | None
    recorded_at: dt.datetime


@dataclass(frozen=True)
class ConsentEntry:
    """One consent decision as plain values (the fields of ``ConsentRecord`` the gate reads)."""

    data_class: str
    purpose: str
    status: str
    provision: str
    period_start: dt.datetime
    period_end: dt.datetime | None
    recorded_at: dt.datetime


def check_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(UNKNOWN_PURPOSE.format(known=", ".join(PURPOSES), value=purpose))
    return str(purpose)


def check_data_class(data_class: str) -> str:
    if data_class not in CONSENT_CLASSES:
        raise ValueError(UNKNOWN_DATA_CLASS.format(known=", ".join(CONSENT_CLASSES),
                                                   value=data_class))
    return str(data_class)


def check_now(now: dt.datetime) -> dt.datetime:
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(NAIVE_NOW.format(value=now))
    return now


def _grants(record: ConsentLike, now: dt.datetime) -> bool:
    return (record.status == Status.ACTIVE
            and record.provision == Provision.PERMIT
            and record.period_start <= now
            and (record.period_end is None or now < record.period_end))


def permitted_classes(records: Iterable[ConsentLike], *, purpose: str,
                      now: dt.datetime) -> frozenset[str]:
    """The consent classes a patient's records permit for ``purpose`` at ``now``.

    Parameters
    ----------
    records : iterable of ConsentEntry or ConsentRecord
        One patient's consent history, in any order. Records for other purposes are ignored.
    purpose : str
        A ``Purpose`` code (``TRAIN``, ``MLTRAIN``, ``HRESCH``).
    now : datetime
        Timezone-aware moment of use.

    Returns
    -------
    frozenset of str
        A subset of ``CONSENT_CLASSES``; empty when nothing is permitted or there is no record.

    Raises
    ------
    ValueError
        For an unknown purpose, a naive ``now``, or a record with an unknown data class.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> permit = ConsentEntry("genetic", "TRAIN", "active", "permit", t, None, t)
    >>> sorted(permitted_classes([permit], purpose="TRAIN", now=t))
    ['genetic']
    >>> sorted(permitted_classes([permit], purpose="HRESCH", now=t))
    []
    """
    check_purpose(purpose)
    check_now(now)
    newest: dict[str, tuple[dt.datetime, bool]] = {}
    for record in records:
        check_data_class(record.data_class)
        if record.purpose != purpose:
            continue
        grants = _grants(record, now)
        seen = newest.get(record.data_class)
        if seen is None or record.recorded_at > seen[0]:
            newest[record.data_class] = (record.recorded_at, grants)
        elif record.recorded_at == seen[0]:
            newest[record.data_class] = (seen[0], seen[1] and grants)  # a tie denies
    return frozenset(str(c) for c, (_, grants) in newest.items() if grants)


def permitted_table(records: pd.DataFrame, *, purpose: str, now: dt.datetime) -> pd.DataFrame:
    """``permitted_classes`` for many patients at once: the same rule, column by column.

    Parameters
    ----------
    records : DataFrame
        Consent records of any number of patients, in any order: a ``patient`` column and the
        fields of ``ConsentEntry`` (datetimes as timezone-aware ``datetime64``; a missing
        ``period_end`` is NaT). Records for other purposes are ignored.
    purpose, now
        As for ``permitted_classes``.

    Returns
    -------
    DataFrame
        One boolean column per consent class (``CONSENT_CLASSES``), indexed by patient: whether
        the class is permitted. A patient without a record for ``purpose`` has no row: the
        caller reindexes with ``False``, as the rule denies without a record.

    Raises
    ------
    ValueError
        As ``permitted_classes``.
    """
    check_purpose(purpose)
    check_now(now)
    unknown = records.loc[~records["data_class"].isin(CONSENT_CLASSES), "data_class"]
    if len(unknown):
        check_data_class(unknown.iloc[0])
    records = records[records["purpose"] == purpose]
    grants = ((records["status"] == Status.ACTIVE) & (records["provision"] == Provision.PERMIT)
              & (records["period_start"] <= now)
              & (records["period_end"].isna() | (now < records["period_end"])))
    keys = [records["patient"], records["data_class"]]
    # Only the newest record of each patient and class counts; every record at that instant
    # must grant (a tie denies).
    newest = records["recorded_at"] == records.groupby(keys)["recorded_at"].transform("max")
    decided = grants[newest].groupby([key[newest] for key in keys]).all()
    table = decided.unstack(fill_value=False) if len(decided) else pd.DataFrame(
        index=pd.Index([], name="patient"))
    return (table.reindex(columns=list(CONSENT_CLASSES), fill_value=False).astype(bool)
            .rename_axis(index="patient", columns=None))


# The consent classes each model variant reads, richest variant first.
_VARIANT_NEEDS = sorted(
    ((variant, frozenset(CONSENT_CLASS_OF[d] for d in classes))
     for variant, classes in VARIANT_DATA_CLASSES.items()),
    key=lambda item: -len(item[1]),
)


def model_variant_for(classes: Iterable[str]) -> str | None:
    """The richest model variant that reads only permitted consent classes.

    ``full`` needs clinical, biomarker and genetic consent; ``no_genetic`` clinical and biomarker;
    ``clinical_only`` clinical. Without clinical consent nothing can be predicted: ``None``.

    Examples
    --------
    >>> model_variant_for({"clinical", "biomarker"})
    'no_genetic'
    >>> model_variant_for({"biomarker", "genetic"}) is None
    True
    """
    permitted = frozenset(check_data_class(c) for c in classes)
    for variant, needs in _VARIANT_NEEDS:
        if needs <= permitted:
            return variant
    return None


def variant_permitted(classes: Iterable[str], variant: str) -> bool:
    """Whether a model variant reads only permitted consent classes."""
    return dict(_VARIANT_NEEDS)[variant] <= frozenset(classes)
