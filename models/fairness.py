"""Fairness audit of one model's held-out predictions, by sex, ancestry group and age band.

Every number comes from fairlearn's ``MetricFrame`` on the stored held-out outcomes and
predicted probabilities: per group ROC AUC, true- and false-positive rate and selection rate at a
threshold, and calibration (mean predicted probability beside the observed response rate, and the
Brier score); between groups fairlearn's ``difference()`` and ``ratio()``. Each group's value has
a seeded percentile-bootstrap interval (patients resampled within the group). The overall ROC AUC
with its interval, and the Brier score, can be passed in as stored at training, so that no page
shows a second value or interval of them.

Small cells (the project's rule: no count of 1 to 10 patients, no rate over fewer than 11):

- a group of fewer than ``MIN_GROUP`` (11) patients is flagged and every metric of it hidden;
- a metric is shown only when the patients it is computed over number at least 11 (all of the
  group for selection rate and calibration, its responders for the true-positive rate, its
  non-responders for the false-positive rate, both for ROC AUC), and a rate is hidden when its
  numerator or the rest of its denominator is 1 to 10 patients (rate x size would give them back);
- differences and ratios compare only the groups whose value is shown.

Hidden values are ``None`` with a reason; they never leave this module. Plain Python, no Django.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from contextlib import contextmanager

import numpy as np
import pandas as pd
from fairlearn.metrics import (MetricFrame, false_positive_rate, selection_rate,
                               true_positive_rate)
from scipy.stats import rankdata
from sklearn.metrics import brier_score_loss, roc_auc_score

from synthetic_data.parameters import ANCESTRIES, SEXES

from .evaluation import AGE_BANDS, GROUP_ATTRIBUTES, SMALL_TEST_SET

MIN_GROUP = 11  # fewer patients than this behind a number: the number is hidden
DEFAULT_THRESHOLD = 0.5
N_RESAMPLES = 200
CI_LEVEL = 0.95

METRICS = ("roc_auc", "true_positive_rate", "false_positive_rate", "selection_rate",
           "mean_predicted", "observed_rate", "brier")
METRIC_LABELS = {
    "roc_auc": "ROC AUC",
    "true_positive_rate": "True-positive rate (sensitivity)",
    "false_positive_rate": "False-positive rate (1 - specificity)",
    "selection_rate": "Selection rate (predicted responders)",
    "mean_predicted": "Mean predicted probability",
    "observed_rate": "Observed response rate",
    "brier": "Brier score",
}
ATTRIBUTE_LABELS = {"sex": "Sex", "ancestry": "Ancestry group", "age_band": "Age band"}
GROUP_ORDER = {"sex": SEXES, "ancestry": ANCESTRIES, "age_band": tuple(b for _, b in AGE_BANDS)}

SMALL_GROUP = f"fewer than {MIN_GROUP} patients in this group"
TOO_FEW_CLASSES = f"fewer than {MIN_GROUP} responders or non-responders in this group"
TOO_FEW_POSITIVES = f"fewer than {MIN_GROUP} responders in this group"
TOO_FEW_NEGATIVES = f"fewer than {MIN_GROUP} non-responders in this group"
SMALL_NUMERATOR = "the rate would reveal a count of 1 to 10 patients"

LENGTH_MISMATCH = ("outcomes, probabilities and every group list must have the same length; got "
                   "{lengths}")
NOT_BINARY = "outcomes must be 0 or 1"
NO_GROUPS = "at least one attribute to group patients by is needed"
BAD_THRESHOLD = "threshold must lie strictly between 0 and 1; got {threshold!r}"


@contextmanager
def _quiet():
    """fairlearn under pandas 3 warns (Pandas4Warning) about its own pandas calls: silence that
    one class only, so every other warning still fails the tests."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        yield


def metric_functions(threshold: float) -> dict:
    """The audit's metrics as fairlearn metric callables ``f(y_true, y_prob)``; the thresholded
    ones call fairlearn's own functions on ``y_prob >= threshold``. An undefined value (no
    responders, say) is NaN rather than an error."""

    def roc_auc(y, p):
        y = np.asarray(y)
        return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else np.nan

    def tpr(y, p):
        y = np.asarray(y)
        return float(true_positive_rate(y, np.asarray(p) >= threshold)) if y.sum() else np.nan

    def fpr(y, p):
        y = np.asarray(y)
        return (float(false_positive_rate(y, np.asarray(p) >= threshold))
                if (y == 0).sum() else np.nan)

    return {
        "roc_auc": roc_auc,
        "true_positive_rate": tpr,
        "false_positive_rate": fpr,
        "selection_rate": lambda y, p: float(selection_rate(y, np.asarray(p) >= threshold)),
        "mean_predicted": lambda y, p: float(np.mean(p)),
        "observed_rate": lambda y, p: float(np.mean(y)),
        "brier": lambda y, p: float(brier_score_loss(y, p)),
    }


def metric_frame(y_true, y_prob, sensitive_features, *, threshold: float = DEFAULT_THRESHOLD,
                 metrics=METRICS) -> MetricFrame:
    """fairlearn's ``MetricFrame`` of the audit's metrics (Pandas4Warning silenced)."""
    functions = metric_functions(threshold)
    with _quiet():
        return MetricFrame(metrics={m: functions[m] for m in metrics}, y_true=np.asarray(y_true),
                           y_pred=np.asarray(y_prob, dtype=float),
                           sensitive_features=sensitive_features)


def fairness_audit(y_true, y_prob, groups: Mapping[str, list], *,
                   threshold: float = DEFAULT_THRESHOLD, n_resamples: int = N_RESAMPLES,
                   random_state=None, stored_metrics: Mapping | None = None) -> dict:
    """Per-group metrics, bootstrap intervals, differences and ratios, small cells hidden.

    Parameters
    ----------
    y_true : array-like of 0/1
        Held-out outcomes (a model's ``evaluation["test_outcomes"]``).
    y_prob : array-like of float
        Predicted probabilities of response, aligned with ``y_true``.
    groups : mapping
        Attribute name (``sex``, ``ancestry``, ``age_band``) to one label per patient, aligned
        with ``y_true`` (a model's ``evaluation["test_groups"]``).
    threshold : float
        Probability at or above which a patient counts as a predicted responder.
    n_resamples : int
        Bootstrap resamples per group.
    random_state : int, numpy Generator or None
        Seeds the bootstrap: the same seed gives the same intervals.
    stored_metrics : mapping, optional
        The model's held-out metrics as stored at training time
        (``models.evaluation.held_out_metrics``). When given, the overall ROC AUC with its
        interval (``roc_auc``, ``roc_auc_low``, ``roc_auc_high``) and Brier score (``brier``)
        are these rather than computed again, so every page shows one value and one interval.
        They are shown even over fewer than 11 patients: the model page and the API show them
        anyway, so hiding them here would protect nothing.

    Returns
    -------
    dict
        ``overall`` (value, interval and hidden reason per metric, over every patient) and, per
        attribute in ``attributes``, its ``groups`` (``group``, ``n``, ``small``, ``imprecise``
        (shown, but fewer than ``SMALL_TEST_SET`` patients: too few to compare), ``metrics``,
        ``ci``, ``hidden``; hidden values are ``None``), ``absent`` (the attribute's known groups
        with no held-out patient: the model was never tested on them), and ``differences``,
        ``ratios`` and ``compared`` (the groups each was computed over) per metric.

    Examples
    --------
    >>> audit = fairness_audit([0, 1] * 30, [0.2, 0.7] * 30, {"sex": ["female"] * 60},
    ...                        random_state=0)
    >>> audit["attributes"]["sex"]["groups"][0]["metrics"]["roc_auc"]
    1.0
    """
    y = np.asarray(y_true)
    p = np.asarray(y_prob, dtype=float)
    lengths = {"outcomes": len(y), "probabilities": len(p),
               **{name: len(labels) for name, labels in groups.items()}}
    if len(set(lengths.values())) != 1:
        raise ValueError(LENGTH_MISMATCH.format(lengths=lengths))
    if not np.isin(y, (0, 1)).all():
        raise ValueError(NOT_BINARY)
    if not 0 < float(threshold) < 1:
        raise ValueError(BAD_THRESHOLD.format(threshold=threshold))
    threshold = float(threshold)
    if not groups:
        raise ValueError(NO_GROUPS)
    y = y.astype(int)
    rng = np.random.default_rng(random_state)
    overall = None
    attributes = {}
    for attribute, labels in groups.items():
        labels = np.asarray(labels).astype(str)
        frame = metric_frame(y, p, pd.Series(labels, name=attribute), threshold=threshold)
        if overall is None:  # every attribute's frame has the same overall values
            overall = _cell(y, p, dict(frame.overall), threshold, rng, n_resamples)
            if stored_metrics is not None:
                _use_stored(overall, stored_metrics)
        rows = []
        for group in _ordered(attribute, frame.by_group.index):
            mask = labels == group
            values = dict(frame.by_group.loc[group])
            rows.append({"group": group, **_cell(y[mask], p[mask], values, threshold, rng,
                                                 n_resamples)})
        attributes[attribute] = {"label": ATTRIBUTE_LABELS.get(attribute, attribute),
                                 "groups": rows,
                                 "absent": [g for g in GROUP_ORDER.get(attribute, ())
                                            if g not in set(frame.by_group.index)],
                                 **_between_groups(frame, y, p, labels, attribute, rows,
                                                   threshold)}
    return {"threshold": threshold, "n": int(len(y)), "min_group": MIN_GROUP,
            "n_resamples": int(n_resamples), "ci_level": CI_LEVEL, "overall": overall,
            "attributes": attributes}


def _use_stored(overall: dict, stored: Mapping) -> None:
    """Put the stored overall ROC AUC, its interval and the Brier score into ``overall``."""
    overall["metrics"]["roc_auc"] = float(stored["roc_auc"])
    overall["ci"]["roc_auc"] = (float(stored["roc_auc_low"]), float(stored["roc_auc_high"]))
    overall["metrics"]["brier"] = float(stored["brier"])
    overall["hidden"]["roc_auc"] = overall["hidden"]["brier"] = None


def _ordered(attribute: str, present) -> list[str]:
    known = [g for g in GROUP_ORDER.get(attribute, ()) if g in set(present)]
    return known + sorted(set(present) - set(known))


def _small(count: int) -> bool:
    return 0 < count < MIN_GROUP


def hidden_reasons(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, str | None]:
    """Why each metric of one group is hidden (``None``: shown), by the module's small-cell rule."""
    n = len(y)
    positives = int(y.sum())
    negatives = n - positives
    predicted = p >= threshold
    tp = int((predicted & (y == 1)).sum())
    fp = int((predicted & (y == 0)).sum())
    selected = int(predicted.sum())
    if n < MIN_GROUP:
        return dict.fromkeys(METRICS, SMALL_GROUP)

    def rate(denominator, numerator, too_few):
        if denominator < MIN_GROUP:
            return too_few
        return SMALL_NUMERATOR if _small(numerator) or _small(denominator - numerator) else None

    return {
        "roc_auc": TOO_FEW_CLASSES if min(positives, negatives) < MIN_GROUP else None,
        "true_positive_rate": rate(positives, tp, TOO_FEW_POSITIVES),
        "false_positive_rate": rate(negatives, fp, TOO_FEW_NEGATIVES),
        "selection_rate": rate(n, selected, SMALL_GROUP),
        "mean_predicted": None,
        "observed_rate": rate(n, positives, SMALL_GROUP),
        "brier": None,
    }


def _cell(y, p, values: dict, threshold, rng, n_resamples) -> dict:
    hidden = hidden_reasons(y, p, threshold)
    intervals = _bootstrap(y, p, threshold, rng, n_resamples) if len(y) >= MIN_GROUP else {}
    shown = {m: (None if hidden[m] or pd.isna(values[m]) else float(values[m])) for m in METRICS}
    return {
        "n": int(len(y)),
        "small": len(y) < MIN_GROUP,
        # Shown, but too few to compare: the rule of a model's small-sample flag.
        "imprecise": MIN_GROUP <= len(y) < SMALL_TEST_SET,
        "metrics": shown,
        "ci": {m: (intervals.get(m) if shown[m] is not None else None) for m in METRICS},
        "hidden": hidden,
    }


def _bootstrap(y, p, threshold, rng, n_resamples) -> dict[str, tuple[float, float] | None]:
    """Percentile intervals of every metric over resamples of the group's patients."""
    samples = rng.integers(0, len(y), (n_resamples, len(y)))
    labels, scores = y[samples].astype(bool), p[samples]
    predicted = scores >= threshold
    positives = labels.sum(axis=1)
    negatives = labels.shape[1] - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        ranks = rankdata(scores, axis=1)
        auc = ((ranks * labels).sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)
        statistics = {
            "roc_auc": auc,
            "true_positive_rate": (predicted & labels).sum(axis=1) / positives,
            "false_positive_rate": (predicted & ~labels).sum(axis=1) / negatives,
            "selection_rate": predicted.mean(axis=1),
            "mean_predicted": scores.mean(axis=1),
            "observed_rate": labels.mean(axis=1),
            "brier": ((scores - labels) ** 2).mean(axis=1),
        }
    tail = (1 - CI_LEVEL) / 2 * 100
    intervals = {}
    for metric, values in statistics.items():
        values = values[np.isfinite(values)]  # resamples without responders (or without others)
        if len(values) == 0:
            intervals[metric] = None
            continue
        low, high = np.percentile(values, [tail, 100 - tail])
        intervals[metric] = (float(low), float(high))
    return intervals


def _between_groups(frame, y, p, labels, attribute, rows, threshold) -> dict:
    """fairlearn's ``difference()`` (largest minus smallest) and ``ratio()`` (smallest over
    largest) per metric, over the groups whose value is shown; ``None`` with fewer than two.

    Metrics shown for the same groups share one ``MetricFrame`` (the attribute's own ``frame``
    when every group is shown), since each frame costs tens of milliseconds."""
    every_group = tuple(r["group"] for r in rows)
    by_shown: dict[tuple, list[str]] = {}
    for metric in METRICS:
        shown = tuple(r["group"] for r in rows if r["metrics"][metric] is not None)
        by_shown.setdefault(shown, []).append(metric)
    differences, ratios, compared = {}, {}, {}
    for shown, metrics in by_shown.items():
        for metric in metrics:
            compared[metric] = list(shown)
            differences[metric] = ratios[metric] = None
        if len(shown) < 2:
            continue
        subset = frame
        if shown != every_group:
            mask = np.isin(labels, shown)
            subset = metric_frame(y[mask], p[mask], pd.Series(labels[mask], name=attribute),
                                  threshold=threshold, metrics=metrics)
        with _quiet():
            difference, ratio = subset.difference(), subset.ratio()
        for metric in metrics:
            differences[metric] = None if pd.isna(difference[metric]) else float(difference[metric])
            ratios[metric] = None if pd.isna(ratio[metric]) else float(ratio[metric])
    return {"differences": {m: differences[m] for m in METRICS},
            "ratios": {m: ratios[m] for m in METRICS},
            "compared": {m: compared[m] for m in METRICS}}


def subgroup_rows(audit: dict, metrics=METRICS) -> list[dict]:
    """The audit flattened to one row per attribute and group (for tables and model cards)."""
    return [{"attribute": attribute, "attribute_label": info["label"], **row,
             "values": [(m, row["metrics"][m], row["ci"][m], row["hidden"][m]) for m in metrics]}
            for attribute, info in audit["attributes"].items() for row in info["groups"]]


__all__ = ["ATTRIBUTE_LABELS", "DEFAULT_THRESHOLD", "GROUP_ATTRIBUTES", "METRICS",
           "METRIC_LABELS", "MIN_GROUP", "fairness_audit", "hidden_reasons", "metric_frame",
           "metric_functions", "subgroup_rows"]
