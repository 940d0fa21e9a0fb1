"""Honest evaluation: held-out metrics with bootstrap intervals, calibration, fairness groups
(the policy value: ``models.policy``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.calibration import calibration_curve
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, roc_auc_score, roc_curve

CALIBRATION_BINS = 5
SMALL_TEST_SET = 100  # fewer held-out patients than this: the page warns the sample is too small
# The attributes a fairness audit groups held-out patients by, and the age bands (inclusive lower
# bounds; the cohort's ages run 18-75): young adults, early and late middle age, older adults.
GROUP_ATTRIBUTES = ("sex", "ancestry", "age_band")
AGE_BANDS = ((18, "18-29"), (30, "30-44"), (45, "45-59"), (60, "60+"))


def bootstrap_auc_interval(y: np.ndarray, p: np.ndarray, *, n_resamples: int, rng,
                           level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of ROC AUC over resamples of the held-out patients."""
    y, p = np.asarray(y).astype(bool), np.asarray(p)
    samples = rng.integers(0, len(y), (n_resamples, len(y)))
    labels, scores = y[samples], p[samples]
    # Mann-Whitney form of the AUC, one resample per row (average ranks handle ties).
    ranks = rankdata(scores, axis=1)
    positives = labels.sum(axis=1)
    negatives = labels.shape[1] - positives
    usable = (positives > 0) & (negatives > 0)
    positives, negatives = positives[usable], negatives[usable]
    rank_sums = (ranks * labels).sum(axis=1)[usable]
    aucs = (rank_sums - positives * (positives + 1) / 2) / (positives * negatives)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(aucs, [tail, 100 - tail])
    return float(low), float(high)


def held_out_metrics(y: np.ndarray, p: np.ndarray, *, n_resamples: int, rng) -> dict:
    low, high = bootstrap_auc_interval(y, p, n_resamples=n_resamples, rng=rng)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "roc_auc_low": low,
        "roc_auc_high": high,
        "balanced_accuracy": float(balanced_accuracy_score(y, p >= 0.5)),
        "brier": float(brier_score_loss(y, p)),
        "n_test": int(len(y)),
        "small_sample": bool(len(y) < SMALL_TEST_SET),
    }


def roc_points(y: np.ndarray, p: np.ndarray) -> dict:
    fpr, tpr, thresholds = roc_curve(y, p, drop_intermediate=True)
    return {"fpr": fpr.round(4).tolist(), "tpr": tpr.round(4).tolist()}


def calibration_points(y: np.ndarray, p: np.ndarray) -> dict:
    """Observed response rate against mean predicted probability, in quantile bins."""
    observed, predicted = calibration_curve(y, p, n_bins=CALIBRATION_BINS, strategy="quantile")
    return {"predicted": predicted.round(4).tolist(), "observed": observed.round(4).tolist()}


def age_band(age) -> str:
    """The band of ``AGE_BANDS`` an age falls in (ages below 18 count as 18-29)."""
    label = AGE_BANDS[0][1]
    for lower, name in AGE_BANDS:
        if age >= lower:
            label = name
    return label


def group_labels(rows: pd.DataFrame) -> dict[str, list[str]]:
    """Each held-out patient's sex, ancestry group and age band, in row order, stored with the
    predictions so a fairness audit can group them later without the patients' data."""
    return {"sex": rows["sex"].astype(str).tolist(),
            "ancestry": rows["ancestry"].astype(str).tolist(),
            "age_band": [age_band(int(a)) for a in rows["age"]]}


def confusion_at(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    predicted = np.asarray(p) >= threshold
    y = np.asarray(y).astype(bool)
    return {"true_positive": int((predicted & y).sum()), "false_positive": int((predicted & ~y).sum()),
            "false_negative": int((~predicted & y).sum()), "true_negative": int((~predicted & ~y).sum())}


def auc_or_none(y: np.ndarray, scores: np.ndarray) -> float | None:
    y = np.asarray(y)
    return float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else None
