"""Treatment ranking: every eligible active arm's predicted response, with the spread over
bootstrap refits as its uncertainty interval, by the algorithm a run validated best.

Which algorithm ranks is decided once per run by one rule (``choose_algorithm``): the highest
mean cross-validated ROC AUC over the run's models. Cross-validation sees only the training
patients, so the held-out metrics the pages report stay untouched by the choice. The model
page opens on an arm's best model by the same metric (``best_model``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from synthetic_data import ARMS, FIRST_LINE_ARMS, TREATMENT_RESISTANT_ARMS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .algorithms import ALGORITHM_LABELS, ALGORITHMS
from .features import VARIANTS, FeatureRows, prepare_rows

# Refitted by bootstrap at training (cheap for it alone), so only its rankings carry intervals;
# it also wins a tie of the validated metric.
RANKING_ALGORITHM = "logistic_regression"
ACTIVE_ARMS = tuple(arm for arm in ARMS if arm != "placebo")
INTERVAL_PERCENTILES = (5, 95)
SELECTION_METRIC = "cv_roc_auc_mean"  # cross-validated on the training split


@dataclass(frozen=True)
class AlgorithmChoice:
    """The algorithm that ranks a run's treatments, and every algorithm's score by the rule."""

    algorithm: str
    scores: dict[str, float]  # mean cross-validated ROC AUC over its models, ALGORITHMS order

    @property
    def reason(self) -> str:
        """Which algorithm ranks and why, in a sentence a page shows."""
        label = ALGORITHM_LABELS[self.algorithm]
        if not self.scores:
            return (f"{label} ranks the arms by default: no model of this training run has a "
                    "cross-validated ROC AUC.")
        if len(self.scores) == 1:
            return (f"{label} ranks the arms: the only algorithm this training run trained (mean "
                    f"cross-validated ROC AUC {self.scores[self.algorithm]:.3f}).")
        scores = ", ".join(f"{ALGORITHM_LABELS[a].lower()} {s:.3f}" for a, s in self.scores.items())
        return (f"{label} ranks the arms: chosen for this training run because its mean "
                f"cross-validated ROC AUC over the arms' models was the highest ({scores}). "
                "Cross-validation used training patients only, so the held-out results stay "
                "untouched by the choice.")


def choose_algorithm(models) -> AlgorithmChoice:
    """The algorithm whose models have the highest mean cross-validated ROC AUC (every arm and
    variant of a run); a tie goes to the earlier one in ``ALGORITHMS``.

    Parameters
    ----------
    models : iterable
        Objects with ``algorithm`` and ``metrics``: registry rows or fitted models.

    Returns
    -------
    AlgorithmChoice
        ``RANKING_ALGORITHM`` without scores when no model has the metric.
    """
    scores = defaultdict(list)
    for model in models:
        if model.metrics.get(SELECTION_METRIC) is not None:
            scores[model.algorithm].append(model.metrics[SELECTION_METRIC])
    means = {a: float(np.mean(scores[a])) for a in ALGORITHMS if scores[a]}
    if not means:
        return AlgorithmChoice(algorithm=RANKING_ALGORITHM, scores={})
    return AlgorithmChoice(algorithm=max(means, key=means.get), scores=means)


def best_model(models):
    """The model with the highest cross-validated ROC AUC (``choose_algorithm``'s metric); a tie
    goes to the earlier algorithm, then variant."""
    return max(models, key=lambda m: (m.metrics.get(SELECTION_METRIC, -np.inf),
                                      -ALGORITHMS.index(m.algorithm), -VARIANTS.index(m.variant)))


def eligible_arms(resistant: bool) -> tuple[str, ...]:
    """Active arms a patient may receive: rTMS and esketamine after two or more failures."""
    first_line = tuple(a for a in FIRST_LINE_ARMS if a in ACTIVE_ARMS)
    return first_line + TREATMENT_RESISTANT_ARMS if resistant else first_line


def bootstrap_coefficients(pipeline, rows: pd.DataFrame, *, n_refits: int, rng) -> np.ndarray:
    """Refit the ranking model's classifier on bootstrap resamples of its prepared training
    data. Returns one row per refit: the intercept, then a coefficient per prepared feature.

    Each resample draws responders and non-responders separately, as many of each as the data
    has: a plain resample of a small arm can draw one class alone, on which no classifier fits.
    """
    prepared = pipeline[:-1].transform(rows[list(pipeline.feature_names_in_)])
    y = rows["response"].to_numpy()
    classes = [np.flatnonzero(y == value) for value in np.unique(y)]
    refits = []
    for _ in range(n_refits):
        sample = np.concatenate([rng.choice(members, len(members)) for members in classes])
        classifier = clone(pipeline[-1]).fit(prepared[sample], y[sample])
        refits.append(np.concatenate([classifier.intercept_, classifier.coef_[0]]))
    return np.array(refits)


def predicted_responses(rows: pd.DataFrame | FeatureRows, point_models: dict, *,
                        prepared: dict | None = None) -> dict[str, np.ndarray]:
    """Each arm's predicted response for every patient in ``rows`` (arm -> array, row order);
    ``prepared`` (arm -> ``prepare_rows`` for its pipeline) saves preparing the rows again."""
    prepared = prepared or {arm: prepare_rows(pipeline, rows)
                            for arm, pipeline in point_models.items()}
    return {arm: pipeline[-1].predict_proba(prepared[arm])[:, 1]
            for arm, pipeline in point_models.items()}


def ranked_arms(rows: pd.DataFrame | FeatureRows, point: dict[str, np.ndarray]) -> list[list[str]]:
    """Per patient, the eligible arms of ``point`` (``predicted_responses``) best first. The one
    order of every ranking: by predicted response, and on a tie in the order of
    ``eligible_arms`` (a stable sort, so a tie never depends on the sorting algorithm)."""
    resistant = np.asarray(rows["prior_failures"]) >= TREATMENT_RESISTANT_MIN_FAILURES
    order = [a for a in eligible_arms(True) if a in point]
    if not order:
        return [[] for _ in resistant]
    values = np.column_stack([point[a] for a in order])
    eligible = np.array([[a in eligible_arms(bool(r)) for a in order] for r in (False, True)])
    values = np.where(eligible[resistant.astype(int)], values, -np.inf)
    sorted_columns = np.argsort(-values, axis=1, kind="stable")
    return [[order[j] for j in columns if np.isfinite(values[i, j])]
            for i, columns in enumerate(sorted_columns)]


def rank_treatments(rows: pd.DataFrame | FeatureRows, point_models: dict, refits: dict, *,
                    prepared: dict | None = None,
                    point: dict | None = None) -> list[pd.DataFrame]:
    """Per patient, a frame of eligible arms sorted by predicted response (best first,
    ``ranked_arms``), with columns ``arm``, ``probability``, ``low`` and ``high`` (a 90% bootstrap
    interval; NaN for an arm without refits).

    ``point_models`` maps arms to fitted ranking pipelines; ``refits`` to their
    ``bootstrap_coefficients`` (logistic regression only: other algorithms have none).
    ``prepared`` (arm -> ``prepare_rows``) and ``point`` (``predicted_responses``, say from exact
    explanations' additivity; it may leave out the arms no patient of ``rows`` is eligible for)
    save computing them again.
    """
    prepared = prepared or {arm: prepare_rows(pipeline, rows)
                            for arm, pipeline in point_models.items()}
    point = point or predicted_responses(rows, point_models, prepared=prepared)
    bounds = {}
    for arm in point:
        if refits.get(arm) is None:
            bounds[arm] = np.full((2, len(rows)), np.nan)
            continue
        coefficients = np.asarray(refits[arm])
        refit_p = 1 / (1 + np.exp(-(prepared[arm] @ coefficients[:, 1:].T + coefficients[:, 0])))
        bounds[arm] = np.percentile(refit_p, INTERVAL_PERCENTILES, axis=1)
    return [pd.DataFrame({
                "arm": arms,
                "probability": [point[a][i] for a in arms],
                "low": [bounds[a][0, i] for a in arms],
                "high": [bounds[a][1, i] for a in arms],
            })
            for i, arms in enumerate(ranked_arms(rows, point))]
