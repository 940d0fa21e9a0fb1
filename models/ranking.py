"""Treatment ranking: every eligible active arm's predicted response, with the spread over
bootstrap refits as its uncertainty interval."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_data import ARMS, FIRST_LINE_ARMS, TREATMENT_RESISTANT_ARMS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

RANKING_ALGORITHM = "logistic_regression"  # fast to refit, so its intervals are cheap
ACTIVE_ARMS = tuple(arm for arm in ARMS if arm != "placebo")
INTERVAL_PERCENTILES = (5, 95)


def eligible_arms(resistant: bool) -> tuple[str, ...]:
    """Active arms a patient may receive: rTMS and esketamine after two or more failures."""
    first_line = tuple(a for a in FIRST_LINE_ARMS if a in ACTIVE_ARMS)
    return first_line + TREATMENT_RESISTANT_ARMS if resistant else first_line


def _predict(pipeline, rows: pd.DataFrame) -> np.ndarray:
    return pipeline.predict_proba(rows[list(pipeline.feature_names_in_)])[:, 1]


def rank_treatments(rows: pd.DataFrame, point_models: dict, refits: dict) -> list[pd.DataFrame]:
    """Per patient, a frame of eligible arms sorted by predicted response (best first), with
    columns ``arm``, ``probability``, ``low`` and ``high`` (a 90% bootstrap interval)."""
    point = {arm: _predict(model, rows) for arm, model in point_models.items()}
    bounds = {arm: np.percentile(np.column_stack([_predict(m, rows) for m in refits[arm]]),
                                 INTERVAL_PERCENTILES, axis=1)
              for arm in point_models}
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
