"""Writes: training runs (train the suite on a stored cohort, keep every model in the registry),
training jobs started from a page, recorded treatment decisions and the prediction pause."""

import math
import platform
import time
from datetime import datetime
from functools import lru_cache
from importlib.metadata import version

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.selectors import patients_frame, truth_frame
from decision_support.consent.reads import consented_patient, model_training_permitted
from models.persistence import model_from_bytes, model_to_bytes
from models.ranking import RANKING_ALGORITHM
from models.training import ModelSuite, Progress, TrainedModel as FittedModel, train_suite

from .models import (ModelArtifact, PredictionPause, TrainedModel, TrainingJob, TrainingRun,
                     TreatmentDecision)

_VERSIONED_LIBRARIES = ("scikit-learn", "shap", "skops", "numpy", "pandas")
STORING_LABEL = "storing the models"


def library_versions() -> dict:
    return {"python": platform.python_version(),
            **{name: version(name) for name in _VERSIONED_LIBRARIES}}


def training_run_create(*, cohort: Cohort, seed: int | None = None,
                        progress: Progress | None = None) -> TrainingRun:
    """Train the default suite on a cohort and store it (the store is one transaction)."""
    patients = Patient.objects.filter(cohort=cohort)
    frame = patients_frame(patients)
    truth = truth_frame(patients) if cohort.source == Cohort.Source.GENERATED else None
    permitted = model_training_permitted(frame.index)
    started = time.perf_counter()
    seen = {"total": 0}

    def tracked(done: int, total: int, label: str) -> None:
        seen["total"] = total
        progress(done, total, label)

    suite = train_suite(frame, truth=truth, scenario=cohort.scenario, random_state=seed,
                        permitted=permitted, progress=tracked if progress else None)
    if progress:
        # Skipped arms are never reported, so say here that fitting is over and storing begins.
        progress(seen["total"], seen["total"], STORING_LABEL)
    return _store_suite(cohort, suite, duration=time.perf_counter() - started)


@transaction.atomic
def _store_suite(cohort: Cohort, suite: ModelSuite, *, duration: float) -> TrainingRun:
    run = TrainingRun.objects.create(
        cohort=cohort, scenario=cohort.scenario, seed=suite.random_state,
        n_patients=suite.n_patients, library_versions=library_versions(),
        policy_value=suite.policy, skipped_arms=suite.skipped, duration_seconds=duration,
        excluded_by_consent=suite.excluded, excluded_by_split=suite.excluded_by_split)
    TrainedModel.objects.bulk_create([
        TrainedModel(
            run=run, arm=m.arm, algorithm=m.algorithm, variant=m.variant,
            artifact=_artifact(m.pipeline), features=m.features, metrics=m.metrics,
            evaluation={"roc": m.roc, "calibration": m.calibration,
                        "test_outcomes": m.test_outcomes,
                        "test_probabilities": m.test_probabilities,
                        "test_groups": m.test_groups},
            explanation={"background_mean": m.background_mean.round(10).tolist(),
                         "medians": m.medians, "global_importance": m.global_importance,
                         "beeswarm": m.beeswarm},
            truth_check=m.truth_check,
            refit_coefficients=_refits(suite, m))
        for m in suite.models.values()
    ])
    return run


def _refits(suite: ModelSuite, model: FittedModel) -> list | None:
    if model.algorithm != RANKING_ALGORITHM:
        return None
    return suite.refits[(model.arm, model.variant)].round(10).tolist()


def _artifact(obj) -> ModelArtifact:
    data, sha256 = model_to_bytes(obj)
    artifact, _ = ModelArtifact.objects.get_or_create(
        sha256=sha256, defaults={"data": data, "size_bytes": len(data)})
    return artifact


@lru_cache(maxsize=512)
def load_artifact(sha256: str):
    """The fitted object behind a digest, verified and loaded once per process."""
    data = bytes(ModelArtifact.objects.values_list("data", flat=True).get(sha256=sha256))
    return model_from_bytes(data, sha256=sha256)


@lru_cache(maxsize=512)
def _fitted_model(row_pk: int, sha256: str) -> FittedModel:
    row = TrainedModel.objects.get(pk=row_pk)
    return FittedModel(
        arm=row.arm, algorithm=row.algorithm, variant=row.variant, features=row.features,
        pipeline=load_artifact(sha256),
        background_mean=np.asarray(row.explanation["background_mean"]),
        medians=row.explanation["medians"], metrics=row.metrics,
        roc=row.evaluation["roc"], calibration=row.evaluation["calibration"],
        test_outcomes=row.evaluation["test_outcomes"],
        test_probabilities=row.evaluation["test_probabilities"],
        global_importance=row.explanation["global_importance"],
        beeswarm=row.explanation["beeswarm"], truth_check=row.truth_check)


def fitted_model(row: TrainedModel) -> FittedModel:
    """A registry row as a fitted model that predicts and explains (cached per process)."""
    return _fitted_model(row.pk, row.artifact_id)


@lru_cache(maxsize=512)
def _refit_coefficients(row_pk: int, sha256: str) -> np.ndarray:
    return np.asarray(TrainedModel.objects.values_list("refit_coefficients", flat=True)
                      .get(pk=row_pk), dtype=float)


def refit_coefficients(row: TrainedModel) -> np.ndarray:
    """A ranking model's bootstrap refits (intercept first) as an array, cached per process
    like ``fitted_model``: a stored run never changes."""
    return _refit_coefficients(row.pk, row.artifact_id)


def warm_model_cache() -> int:
    """Load every model of each cohort's latest training run into this process's cache, with
    its explainer, and return how many models that is.

    Pages then never pay a model's first load (reading and verifying the skops bytes, building
    the SHAP explainer). gunicorn's master calls it once before forking its workers
    (``decision_support/gunicorn.conf.py``), so the workers share the loaded models
    copy-on-write. Runs trained later, and older runs, still load on first use.
    """
    latest = TrainingRun.objects.filter(cohort=OuterRef("run__cohort")).values("pk")[:1]
    rows = TrainedModel.objects.filter(run=Subquery(latest))
    count = 0
    for row in rows.only("pk", "algorithm", "artifact"):
        fitted_model(row).explainer  # noqa: B018 (a cached property: built once, here)
        if row.algorithm == RANKING_ALGORITHM:
            refit_coefficients(row)
        count += 1
    return count


# --- Human oversight ----------------------------------------------------------------------------
# The selectors import this module (``fitted_model``), so the functions below import them inside.

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
    field (``arm``, ``reason``) and writes nothing on bad input; on success the decision and its
    audit entry (``decision.record``) commit together. The reason text stays out of the audit
    log, which outlives erasure.
    """
    from .selectors import ARM_LABELS, decision_options, latest_run, patient_ranking

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


TRAINING_REFUSED = ("Training job {job} is already {status} for cohort {cohort}. If it makes no "
                    "more progress, it counts as interrupted at {retry_at:%Y-%m-%d %H:%M:%S} UTC "
                    "(in {minutes} minute{s}), and training can be started again then.")


class TrainingAlreadyRunning(Exception):
    """A cohort has a queued or running training job: ``job``. Training can start again when that
    job finishes, or at ``retry_at`` (in ``retry_minutes``, rounded up) if it makes no more
    progress: it then counts as stale (``jobs.stale_at``)."""

    def __init__(self, job: TrainingJob, *, retry_at: datetime):
        self.job, self.retry_at = job, retry_at
        self.retry_minutes = max(1, math.ceil((retry_at - timezone.now()).total_seconds() / 60))
        super().__init__(TRAINING_REFUSED.format(job=job.pk, status=job.status,
                                                 cohort=job.cohort_id, retry_at=retry_at,
                                                 minutes=self.retry_minutes,
                                                 s="" if self.retry_minutes == 1 else "s"))


def training_job_start(*, cohort: Cohort, actor, purpose: str,
                       inline: bool | None = None) -> TrainingJob:
    """Start training the model suite on ``cohort`` as a job whose progress a page can follow.

    The job runs in a background thread once this transaction commits, or right here when
    ``inline`` (default: the ``PREDICTIONS_TRAINING_INLINE`` setting; tests set it so that a job
    finishes deterministically). One queued or running job per cohort: a second raises
    ``TrainingAlreadyRunning`` (a partial unique index enforces it against races too).
    Audited ``training.start`` with the job.
    """
    from . import jobs

    inline = getattr(settings, "PREDICTIONS_TRAINING_INLINE", False) if inline is None else inline
    with transaction.atomic():
        jobs.expire_stale_jobs(cohort)
        active = TrainingJob.objects.filter(cohort=cohort, status__in=TrainingJob.ACTIVE).first()
        if active is not None:
            raise TrainingAlreadyRunning(active, retry_at=jobs.stale_at(active))
        try:
            with transaction.atomic():
                job = TrainingJob.objects.create(
                    cohort=cohort, started_by=actor.get_username(), actor_id=actor.pk,
                    message="Waiting to start")
        except IntegrityError:
            active = TrainingJob.objects.get(cohort=cohort, status__in=TrainingJob.ACTIVE)
            raise TrainingAlreadyRunning(active, retry_at=jobs.stale_at(active)) from None
        audit_record(actor=actor, purpose=purpose, action="training.start",
                     object_type="cohort", object_ref=str(cohort.uid), outcome="allowed",
                     detail={"job": job.pk, "cohort": cohort.pk, "inline": inline})
        if not inline:
            transaction.on_commit(lambda: jobs.start_in_background(job.pk))
    if inline:
        jobs.run_training_job(job.pk)
        job.refresh_from_db()
    return job
