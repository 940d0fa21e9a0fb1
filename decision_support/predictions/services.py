"""Writes of human oversight: recorded treatment decisions and the prediction pause."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient
from decision_support.courses.readonly import course_check_open
from decision_support.registry.selectors import latest_run

from synthetic_data import ARM_LABELS
from .models import PredictionPause, TreatmentDecision
from .selectors import decision_options, patient_ranking


DECISION_ARM_NOT_ELIGIBLE = ("{arm} is not an arm this patient is eligible for; "
                             "choose one of: {arms}.")
DECISION_REASON_REQUIRED = ("A reason is required: you chose {chosen}, not the top recommendation "
                            "({recommended}). Say why.")


def decision_record(*, patient: Patient, actor, arm: str, reason: str,
                    purpose: str) -> TreatmentDecision:
    """Record the treatment a person chose for one patient, beside the recommendation shown.

    The recommendation is computed here, on the server, through the same gate as the page
    (``selectors.patient_ranking``): none while predictions are paused. A reason is required
    when the chosen arm differs from the top recommendation. Raises ``ValidationError`` keyed by
    field (``arm``, ``reason``) and writes nothing on bad input, and ``CourseArchived`` in an
    archived course; on success the decision and its audit entry (``decision.record``) commit
    together. The reason text stays out of the audit
    log, which outlives erasure.
    """
    course_check_open(patient.cohort.course_id)
    consented = consented_patient(patient, purpose=purpose)
    run = latest_run(patient.cohort)
    options = decision_options(consented, patient_ranking(consented, run))
    reason = (reason or "").strip()
    if arm not in options.arms:
        raise ValidationError({"arm": DECISION_ARM_NOT_ELIGIBLE.format(
            arm=ARM_LABELS.get(arm, arm), arms=", ".join(ARM_LABELS[a] for a in options.arms))})
    if options.recommended and arm != options.recommended and not reason:
        raise ValidationError({"reason": DECISION_REASON_REQUIRED.format(
            chosen=ARM_LABELS[arm], recommended=ARM_LABELS[options.recommended])})
    decision = TreatmentDecision(
        patient=patient, run=run if options.recommended else None, arm=arm,
        recommended_arm=options.recommended or "", reason=reason,
        decided_by=actor.get_username(), actor_id=actor.pk, decided_at=timezone.now())
    decision.full_clean()
    with transaction.atomic():
        decision.save()
        audit_record(actor=actor, purpose=purpose, action="decision.record",
                     object_type="patient", object_ref=patient.pseudonym, outcome="allowed",
                     detail={"decision": decision.pk, "arm": arm,
                             "recommended_arm": decision.recommended_arm,
                             "follows_recommendation": decision.follows_recommendation,
                             "run": decision.run_id, "reason_given": bool(reason)})
    return decision


def _pause_set(*, actor, paused: bool, reason: str, purpose: str) -> tuple[PredictionPause, bool]:
    latest = PredictionPause.objects.order_by("-at", "-id").first()
    if (latest.paused if latest else False) == paused:
        return latest, False  # already in that state: nothing to record
    state = PredictionPause(paused=paused, by=actor.get_username(), actor_id=actor.pk,
                            at=timezone.now(), reason=(reason or "").strip())
    state.full_clean()
    state.save()
    audit_record(actor=actor, purpose=purpose,
                 action="predictions.pause" if paused else "predictions.resume",
                 object_type="predictions", object_ref="all", outcome="allowed",
                 detail={"state": state.pk, "reason_given": bool(state.reason)})
    return state, True


@transaction.atomic
def predictions_pause(*, actor, reason: str = "", purpose: str) -> tuple[PredictionPause, bool]:
    """Pause every prediction (rankings, explanations, recommendations) until resumed.

    Returns the state in force and whether this call changed it; pausing while paused records
    nothing. Audited ``predictions.pause``.
    """
    return _pause_set(actor=actor, paused=True, reason=reason, purpose=purpose)


@transaction.atomic
def predictions_resume(*, actor, reason: str = "", purpose: str) -> tuple[PredictionPause, bool]:
    """Resume predictions. Audited ``predictions.resume``; resuming while running records
    nothing."""
    return _pause_set(actor=actor, paused=False, reason=reason, purpose=purpose)
