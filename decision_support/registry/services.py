"""Writes: training runs (train the suite on a stored cohort, keep every model in the registry).
Training jobs, which carry them out for a page or the command line: ``jobs``."""

import platform
import time
from collections.abc import Callable
from importlib.metadata import version

from django.db import transaction

from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.selectors import patients_frame, truth_frame
from decision_support.consent.reads import model_training_permitted
from models.persistence import model_to_bytes
from models.ranking import RANKING_ALGORITHM
from models.training import ModelSuite, Progress, TrainedModel as FittedModel, train_suite

from .models import ModelArtifact, TrainedModel, TrainingRun

_VERSIONED_LIBRARIES = ("scikit-learn", "shap", "skops", "numpy", "pandas")
STORING_LABEL = "storing the models"


def library_versions() -> dict:
    return {"python": platform.python_version(),
            **{name: version(name) for name in _VERSIONED_LIBRARIES}}


def training_run_create(*, cohort: Cohort, seed: int | None = None,
                        progress: Progress | None = None,
                        on_stored: Callable[[TrainingRun], None] | None = None) -> TrainingRun:
    """Train the default suite on a cohort and store it (the store is one transaction, which ends
    with ``on_stored(run)``: a training job records its end in it)."""
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
    return _store_suite(cohort, suite, duration=time.perf_counter() - started, on_stored=on_stored)


@transaction.atomic
def _store_suite(cohort: Cohort, suite: ModelSuite, *, duration: float,
                 on_stored: Callable[[TrainingRun], None] | None = None) -> TrainingRun:
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
    if on_stored:
        on_stored(run)
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
