"""Treatment ranking: every eligible active arm's predicted response, with the spread over
bootstrap refits as its uncertainty interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from synthetic_data import ARMS, FIRST_LINE_ARMS, TREATMENT_RESISTANT_ARMS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .features import prepare_rows

RANKING_ALGORITHM = "logistic_regression"  # fast to refit, so its intervals are cheap
ACTIVE_ARMS = tuple(arm for arm in ARMS if arm != "placebo")
INTERVAL_PERCENTILES = (5, 95)


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


def rank_treatments(rows: pd.DataFrame, point_models: dict, refits: dict) -> list[pd.DataFrame]:
    """Per patient, a frame of eligible arms sorted by predicted response (best first), with
    columns ``arm``, ``probability``, ``low`` and ``high`` (a 90% bootstrap interval).

    ``point_models`` maps arms to fitted ranking pipelines; ``refits`` to their
    ``bootstrap_coefficients``.
    """
    point, bounds = {}, {}
    for arm, pipeline in point_models.items():
        prepared = prepare_rows(pipeline, rows)
        point[arm] = pipeline[-1].predict_proba(prepared)[:, 1]
        coefficients = np.asarray(refits[arm])
        refit_p = 1 / (1 + np.exp(-(prepared @ coefficients[:, 1:].T + coefficients[:, 0])))
        bounds[arm] = np.percentile(refit_p, INTERVAL_PERCENTILES, axis=1)
    resistant = rows["prior_failures"].to_numpy() >= TREATMENT_RESISTANT_MIN_FAILURES
    rankings = []
    for i, is_resistant in enumerate(resistant):
        arms = [a for a in eligible_arms(bool(is_resistant)) if a in point]
        frame = pd.DataFrame({
            "arm": arms,
            "probability": [point[a][i] for a in arms],
            "low": [bounds[a][0, i] for a in arms],
            "high": [bounds[a][1, i] for a in arms],
        })
        rankings.append(frame.sort_values("probability", ascending=False, ignore_index=True))
    return rankings
