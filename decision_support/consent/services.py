"""Writes: giving and withdrawing consent, and the demo cohort's consent mix.

Giving and withdrawing are the same steps with the opposite provision (GDPR 7(3): withdrawing as
easy as giving): each appends one active record, starting now, carrying the current consent-text
version, the UTC time and who recorded it (one in each stored copy of the same data: it is the
person's decision), and writes one audit entry (``consent.give`` or ``consent.withdraw``) in the
same transaction. Nothing is ever overwritten. Seeding a demo cohort
is bulk work and is not audited row by row.

Each decision a person records is also kept by the patient's place in the cohort's data
(``PlaceConsent``). A new copy of the same data (same fingerprint: a cohort re-created from its
seed, a file imported again) starts, after seeding, from the newest such decision per place,
data class and purpose (``consent_carry_over``): each is appended as a record of the new copy
and audited (``consent.carry_over``), so what the gate decides is the same in every copy.

Resetting a course after a class brings its patients' consent back to what the seed drew
(``consent_restore_seeded``): by appending decisions, like giving and withdrawing, never by
deleting history.

Every write here (and erasure) that changes what the gate answers for a cohort raises the
cohort's consent version (``consent_version_raise``) in its transaction: the aggregates stored
for the older version (``cohorts.aggregates``) are computed again by a task queued on commit, or
by the next read if it comes first.
"""

import datetime as dt
import math

import numpy as np
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from sklearn.utils import check_random_state

from decision_support.audit.services import audit_record
from decision_support.cohorts.aggregates import aggregates_refresh_later
from decision_support.cohorts.models import Cohort, Patient
from decision_support.lib.bulk import bulk_insert
from decision_support.lib.vocabulary import CONSENT_CLASSES, PURPOSES, Purpose
from decision_support.predictions.models import CaseRanking

from .constants import CONSENT_TEXT_VERSION, SEED_RECORDED_BY, Provision, Status
from .gate import check_data_class, check_purpose
from .models import ConsentRecord, PlaceConsent
from .selectors import consent_departures_from_seed, patient_copies

# The purpose of use of recording consent and erasing: running the teaching tool (the steward's
# pages have the same purpose in accounts.access).
AUDIT_PURPOSE = Purpose.EDUCATION
NO_ACTOR = "actor must be a signed-in user; got {value!r}"
PATIENT_GONE = "patient {pk} is not stored (erased?)"
BAD_PERIOD_END = "period_end must be a timezone-aware datetime after now; got {value!r}"
BAD_RATE = "{name} must be a number from 0 to 1; got {value!r}"
ALREADY_SEEDED = ("cohort {cohort!r} already has consent records; seeding again would override "
                  "decisions recorded since")
BAD_DECISIONS = ("decisions must have the columns declines_genetic and declines_training and one "
                 "row per patient ({expected}); got {got}")
ONE_MICROSECOND = dt.timedelta(microseconds=1)
CARRIED_OVER = "from an earlier copy of the same data, where the person recorded it"
_CARRIED_FIELDS = ("status", "provision", "data_class", "purpose", "period_start", "period_end",
                   "consent_text_version", "recorded_by", "actor_id")


@transaction.atomic
def consent_give(*, patient: Patient, data_class: str, purpose: str, actor,
                 period_end: dt.datetime | None = None) -> ConsentRecord:
    """Record that ``patient`` permits ``data_class`` (a consent class) for ``purpose`` from now
    until ``period_end`` (exclusive; ``None``: until withdrawn)."""
    return _consent_append(patient=patient, data_class=data_class, purpose=purpose, actor=actor,
                           provision=Provision.PERMIT, period_end=period_end,
                           action="consent.give")


@transaction.atomic
def consent_withdraw(*, patient: Patient, data_class: str, purpose: str,
                     actor) -> ConsentRecord:
    """Record that ``patient`` denies ``data_class`` for ``purpose`` from now on."""
    return _consent_append(patient=patient, data_class=data_class, purpose=purpose, actor=actor,
                           provision=Provision.DENY, period_end=None, action="consent.withdraw")


def consent_version_raise(*, cohort_ids) -> None:
    """Mark the consent of ``cohort_ids``' patients changed: every write that changes what the
    gate answers (a decision, seeding, carrying over, erasure) calls this in its transaction, so
    the aggregates stored for an older version are computed again: by a task queued when the
    transaction commits, or by the next read if it comes first (``cohorts.aggregates``)."""
    cohort_ids = list(cohort_ids)
    Cohort.objects.filter(pk__in=cohort_ids).update(consent_version=F("consent_version") + 1)
    aggregates_refresh_later(cohort_ids)


def lock_copies(patient: Patient) -> list[Patient]:
    """``patient`` and the same person in every other stored copy of the data, locked in pk
    order: serialises decisions and erasure about one person, without deadlocks. Raises
    ``Patient.DoesNotExist`` if the patient is gone.

    The copies' cohort rows are locked first, as ``cohorts.services.cohort_store`` locks them
    before it reads tombstones and decisions: a copy stored meanwhile is either found here or
    sees what this transaction writes.
    """
    list(Cohort.objects.select_for_update().order_by("pk")
         .filter(fingerprint__in=Cohort.objects.filter(patients=patient.pk).values("fingerprint"))
         .values_list("pk", flat=True))
    copies = list(patient_copies(patient).select_for_update())
    if not any(copy.pk == patient.pk for copy in copies):
        raise Patient.DoesNotExist(PATIENT_GONE.format(pk=patient.pk))
    return copies


def _now_after(records) -> dt.datetime:
    """Now, or just after the newest of ``records`` if its clock ran ahead: keeps each history
    strictly increasing in time, so the decision about to be recorded is the newest."""
    latest = records.aggregate(latest=Max("recorded_at"))["latest"]
    now = timezone.now()
    return latest + ONE_MICROSECOND if latest is not None and latest >= now else now


def _consent_append(*, patient: Patient, data_class: str, purpose: str, actor, provision: str,
                    period_end: dt.datetime | None, action: str) -> ConsentRecord:
    data_class = check_data_class(data_class)
    purpose = check_purpose(purpose)
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.pk is None:
        raise ValueError(NO_ACTOR.format(value=actor))
    # The person's decision holds in every stored copy of the data.
    copies = lock_copies(patient)
    now = _now_after(ConsentRecord.objects.filter(patient__in=copies, data_class=data_class,
                                                  purpose=purpose))
    if period_end is not None and (not isinstance(period_end, dt.datetime)
                                   or period_end.tzinfo is None or period_end <= now):
        raise ValueError(BAD_PERIOD_END.format(value=period_end))
    decision = dict(status=Status.ACTIVE, provision=provision, data_class=data_class,
                    purpose=purpose, period_start=now, period_end=period_end,
                    consent_text_version=CONSENT_TEXT_VERSION, recorded_at=now,
                    recorded_by=actor.get_username(), actor_id=actor.pk)
    records = {copy.pk: ConsentRecord(patient=copy, **decision) for copy in copies}
    for record in records.values():
        record.full_clean()
        record.save()
    PlaceConsent(place_key=copies[0].place_key, **decision).save()
    # A stored ranking or aggregate may have read the data this decision concerns: computed
    # again on demand.
    CaseRanking.objects.filter(patient__in=copies).delete()
    consent_version_raise(cohort_ids={copy.cohort_id for copy in copies})
    detail = {"data_class": data_class, "purpose": purpose}
    others = [copy.pseudonym for copy in copies if copy.pk != patient.pk]
    if others:
        detail["other_copies"] = others
    audit_record(actor=actor, purpose=AUDIT_PURPOSE, action=action,
                 outcome="allowed",
                 object_type="patient", object_ref=patient.pseudonym, detail=detail)
    return records[patient.pk]


@transaction.atomic
def consent_restore_seeded(*, patients, actor) -> int:
    """Bring each of ``patients``' consent back to what their cohort's seed drew; return how many
    decisions were restored.

    Each class and purpose whose standing departs from the seed's
    (``selectors.consent_departures_from_seed``) gets one appended decision, open-ended, with the
    seed's provision: the same step as giving and withdrawing (it holds in every stored copy of
    the same data and is kept by place for later copies), audited ``consent.restore``. Nothing is
    deleted; an erased patient is gone and stays gone.
    """
    by_pk = {patient.pk: patient for patient in patients}
    departures = consent_departures_from_seed(by_pk)
    for patient_id, data_class, purpose, provision in departures:
        _consent_append(patient=by_pk[patient_id], data_class=data_class, purpose=purpose,
                        actor=actor, provision=provision, period_end=None,
                        action="consent.restore")
    return len(departures)


def _check_rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 <= value <= 1:
        raise ValueError(BAD_RATE.format(name=name, value=value))
    return float(value)


@transaction.atomic
def consent_seed_cohort(*, cohort: Cohort, genetic_decline_rate: float = 0.20,
                        training_decline_rate: float = 0.05, random_state=None,
                        decisions=None) -> dict[str, int]:
    """Give every patient of a (demo) cohort a consent history: permit every consent class for
    every purpose, except that some patients decline genetic use (genetic denied for all
    purposes) and some decline model training (every class denied for ``MLTRAIN``).

    ``decisions`` (a frame with boolean ``declines_genetic`` and ``declines_training``, one row
    per patient in pk order, such as ``synthetic_data.make_cohort(...).consent``) says who
    declines; the generator's scenario then decides whether declining depends on the patient.
    Without it, independent random shares decline at the given rates, reproducible from
    ``random_state`` (patients are drawn in pk order). Refuses a cohort that already has
    consent records, since a fresh mix would override later decisions.

    Returns
    -------
    dict
        ``patients``, ``records``, ``declined_genetic`` and ``declined_training`` counts.
    """
    genetic_decline_rate = _check_rate("genetic_decline_rate", genetic_decline_rate)
    training_decline_rate = _check_rate("training_decline_rate", training_decline_rate)
    rng = check_random_state(random_state)
    if ConsentRecord.objects.filter(patient__cohort=cohort).exists():
        raise ValueError(ALREADY_SEEDED.format(cohort=str(cohort)))
    patient_ids = list(cohort.patients.order_by("pk").values_list("pk", flat=True))
    if decisions is None:
        declines_genetic = rng.random_sample(len(patient_ids)) < genetic_decline_rate
        declines_training = rng.random_sample(len(patient_ids)) < training_decline_rate
    else:
        try:
            declines_genetic, declines_training = (
                np.asarray(decisions[c], dtype=bool)
                for c in ("declines_genetic", "declines_training"))
        except (KeyError, TypeError, ValueError):
            raise ValueError(BAD_DECISIONS.format(expected=len(patient_ids),
                                                  got=type(decisions).__name__)) from None
        if not declines_genetic.shape == declines_training.shape == (len(patient_ids),):
            raise ValueError(BAD_DECISIONS.format(expected=len(patient_ids),
                                                  got=f"shape {declines_genetic.shape}"))
    now = timezone.now()
    # Every patient's record of every class and purpose, in that order.
    grid = [(data_class, purpose) for data_class in CONSENT_CLASSES for purpose in PURPOSES]
    denied = np.array([[c == "genetic", p == Purpose.MODEL_TRAINING] for c, p in grid])
    denies = (np.outer(declines_genetic, denied[:, 0])
              | np.outer(declines_training, denied[:, 1])).ravel()
    records = len(denies)
    bulk_insert(ConsentRecord, {
        "patient_id": np.repeat(patient_ids, len(grid)).tolist(),
        "provision": np.where(denies, Provision.DENY.value, Provision.PERMIT.value).tolist(),
        "data_class": [c for c, _ in grid] * len(patient_ids),
        "purpose": [p for _, p in grid] * len(patient_ids),
    }, constants={"status": Status.ACTIVE, "period_start": now, "period_end": None,
                  "consent_text_version": CONSENT_TEXT_VERSION, "recorded_at": now,
                  "recorded_by": SEED_RECORDED_BY, "actor_id": None, "carried_over": False})
    consent_version_raise(cohort_ids=[cohort.pk])
    return {
        "patients": len(patient_ids),
        "records": records,
        "declined_genetic": int(declines_genetic.sum()),
        "declined_training": int(declines_training.sum()),
    }


@transaction.atomic
def consent_carry_over(*, cohort: Cohort, actor) -> int:
    """Append to ``cohort`` the newest decision recorded in any copy of the same data, per
    patient place, data class and purpose; return how many were carried over.

    Each record keeps the decision's provision, period, text version and who recorded it, is
    marked ``carried_over`` and is recorded after every record the cohort holds (its seed), so
    the gate reads it as the patient's current decision. One audit entry per record
    (``consent.carry_over``), naming ``actor``, who created the copy.
    """
    patients = dict(cohort.patients.values_list("place_key", "pk"))
    # The gate reads only the newest record of each class and purpose, so the newest decision
    # (with any recorded at the same instant: a tie the gate resolves) is all a copy needs.
    newest: dict[tuple, list[PlaceConsent]] = {}
    for decision in PlaceConsent.objects.filter(place_key__in=cohort.patients.values("place_key")):
        key = decision.place_key, decision.data_class, decision.purpose
        if key not in newest or decision.recorded_at > newest[key][0].recorded_at:
            newest[key] = [decision]
        elif decision.recorded_at == newest[key][0].recorded_at:
            newest[key].append(decision)
    if not newest:
        return 0
    now = _now_after(ConsentRecord.objects.filter(patient__cohort=cohort))
    records = [ConsentRecord(
        patient_id=patients[decision.place_key], carried_over=True, recorded_at=now,
        **{f: getattr(decision, f) for f in _CARRIED_FIELDS})
        for tied in newest.values() for decision in tied]
    ConsentRecord.objects.bulk_create(records, batch_size=2_000)
    consent_version_raise(cohort_ids=[cohort.pk])
    pseudonyms = dict(cohort.patients.values_list("pk", "pseudonym"))
    for record in records:
        audit_record(actor=actor, purpose=AUDIT_PURPOSE, action="consent.carry_over",
                     outcome="allowed", object_type="patient",
                     object_ref=pseudonyms[record.patient_id],
                     detail={"data_class": record.data_class, "purpose": record.purpose,
                             "provision": record.provision, "cohort": cohort.pk,
                             "carried_over": CARRIED_OVER})
    return len(records)
