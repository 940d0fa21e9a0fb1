"""Writes of human oversight (recorded treatment decisions, the prediction pause) and the stored
summaries of patients' rankings that the patient list's filters search."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import truth_frame
from decision_support.consent.reads import consented_patient, consented_patients
from decision_support.courses.readonly import course_check_open
from decision_support.registry.loading import fitted_model
from decision_support.registry.models import TrainingRun
from decision_support.registry.selectors import latest_run, ranking_choice

from models.features import VARIANT_DATA_CLASSES
from models.policy import oracle_arms
from models.ranking import ACTIVE_ARMS, predicted_responses, ranked_arms
from synthetic_data import ARM_LABELS, DATA_DICTIONARY
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .models import CaseRanking, PredictionPause, TreatmentDecision
from .selectors import decision_options, patient_ranking, prediction_pause, ranking_models


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


PAUSE_REASON_REQUIRED = "Say why you pause predictions: every user sees the reason."


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
def predictions_pause(*, actor, reason: str, purpose: str) -> tuple[PredictionPause, bool]:
    """Pause every prediction (rankings, explanations, recommendations) until resumed, for the
    ``reason`` every user will read (required: ``ValidationError`` on ``reason`` without one).

    Returns the state in force and whether this call changed it; pausing while paused records
    nothing. Audited ``predictions.pause``.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": PAUSE_REASON_REQUIRED})
    return _pause_set(actor=actor, paused=True, reason=reason, purpose=purpose)


@transaction.atomic
def predictions_resume(*, actor, reason: str = "", purpose: str) -> tuple[PredictionPause, bool]:
    """Resume predictions. Audited ``predictions.resume``; resuming while running records
    nothing."""
    return _pause_set(actor=actor, paused=False, reason=reason, purpose=purpose)


# --- The stored rankings the patient list's filters search ----------------------------------------


def case_rankings_store(*, run: TrainingRun, patient_ids, purpose: str, actor) -> int:
    """Store (or replace) the ``CaseRanking`` of each of ``patient_ids`` (patients of the run's
    cohort) by ``run``, in the model variant their consent for ``purpose`` allows now, and return
    how many were stored. Patients without a variant (no clinical consent) get none, and nothing
    is computed while predictions are paused.

    The top arm is the first of the ranking a patient page shows (``models.ranking.ranked_arms``
    over the run's ranking algorithm, as ``selectors.patient_ranking``), computed for all the
    patients of one variant at once, from only the data their consent releases. Audited
    ``case_rankings.store`` in the transaction of the write.
    """
    if prediction_pause() is not None:
        return 0
    patients = Patient.objects.filter(cohort=run.cohort_id, pk__in=list(patient_ids))
    consented = consented_patients(patients, purpose=purpose)
    truth = truth_frame(patients)
    rows = []
    for variant in VARIANT_DATA_CLASSES:
        members = [pk for pk, v in consented.variants.items() if v == variant]
        if members:
            rows += _case_rankings(run, variant, consented.frame.loc[members], truth)
    with transaction.atomic():
        CaseRanking.objects.filter(run=run, patient__in=patients).delete()
        CaseRanking.objects.bulk_create(rows, ignore_conflicts=True)
        audit_record(actor=actor, purpose=purpose, action="case_rankings.store",
                     object_type="training_run", object_ref=str(run.pk), outcome="allowed",
                     detail={"patients": len(rows)})
    return len(rows)


def _case_rankings(run: TrainingRun, variant: str, frame, truth) -> list[CaseRanking]:
    """The rankings of the patients in ``frame`` whose consent allows ``variant``: only the
    variant's data classes reach its models."""
    classes = VARIANT_DATA_CLASSES[variant]
    frame = frame[[c for c in frame.columns
                   if c in DATA_DICTIONARY and DATA_DICTIONARY[c].data_class in classes]]
    algorithms = sorted(set(run.models.filter(variant=variant).values_list("algorithm", flat=True)))
    first = {}
    for algorithm in algorithms:
        models = ranking_models(run, variant, algorithm)
        point = predicted_responses(frame, {arm: fitted_model(m).pipeline
                                            for arm, m in models.items() if arm in ACTIVE_ARMS})
        first[algorithm] = [arms[0] if arms else "" for arms in ranked_arms(frame, point)]
    top = first.get(ranking_choice(run).algorithm, [""] * len(frame))
    best = [""] * len(frame)
    known = frame.index.isin(truth.index)
    if known.all() and len(truth):
        resistant = frame["prior_failures"].to_numpy() >= TREATMENT_RESISTANT_MIN_FAILURES
        true_p = truth.loc[frame.index, [f"p_response_{arm}" for arm in ACTIVE_ARMS]]
        true_p.columns = list(ACTIVE_ARMS)
        best = oracle_arms(true_p, resistant)
    return [CaseRanking(run=run, patient_id=pk, variant=variant, top_arm=top[i],
                        algorithms_disagree=len({tops[i] for tops in first.values()}) > 1,
                        true_best_arm=best[i])
            for i, pk in enumerate(frame.index)]
