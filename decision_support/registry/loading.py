"""Fitted models out of the registry: each artifact's bytes verified against its digest, loaded
with skops, and kept once per process (a stored run never changes), with the warm-up that loads
the latest runs before a server forks its workers."""

from functools import lru_cache

import numpy as np
from django.db.models import OuterRef, Subquery

from models.persistence import model_from_bytes
from models.ranking import RANKING_ALGORITHM
from models.training import TrainedModel as FittedModel

from .models import ModelArtifact, TrainedModel, TrainingRun


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
def _refit_coefficients(row_pk: int, sha256: str) -> np.ndarray | None:
    stored = TrainedModel.objects.values_list("refit_coefficients", flat=True).get(pk=row_pk)
    return None if stored is None else np.asarray(stored, dtype=float)


def refit_coefficients(row: TrainedModel) -> np.ndarray | None:
    """A model's bootstrap refits (intercept first) as an array, None for an algorithm that has
    none (``models.ranking.RANKING_ALGORITHM`` alone has), cached per process like
    ``fitted_model``: a stored run never changes."""
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
