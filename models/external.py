"""External validation: does a model trained at one site hold at another?

A suite trained at one site (``models.training.train_suite``) is scored on the patients of
another site, each arm's models on the patients who received that arm there, beside the same
figures on the training site's held-out patients ("internal", as stored at training: ROC AUC
with its interval, Brier score and calibration curve are the stored ones, never a second value):

- ROC AUC with its bootstrap interval, balanced accuracy and Brier score
  (``models.evaluation.held_out_metrics``), the calibration curve in the same quantile bins
  (``models.evaluation.calibration_points``);
- calibration-in-the-large: the intercept ``a`` of ``logit P(y) = a + logit(p)`` (the predicted
  probability's logit as offset); 0 when predictions are right on average, negative when they
  are too high;
- calibration slope: the coefficient ``b`` of ``logit P(y) = a + b logit(p)``; 1 when the
  predictions' spread is right, below 1 when they are too extreme (the model overfitted or the
  new site's case mix is narrower), above 1 when too timid;

  both with percentile intervals over bootstrap resamples of the patients (Van Calster et al.
  2019, BMC Medicine 17:230; Steyerberg, Clinical Prediction Models, 2nd ed. 2019, ch. 15);
- the policy value at the new site against the best single treatment, with the simulation's
  truth (``models.policy`` through ``models.training.suite_policy``).

Also: the leave-one-site-out table of a multi-site cohort; logistic recalibration on a small
local sample of the new site (Cox 1958; Steyerberg et al. 2004, Statistics in Medicine
23:2567), scored on the rest of that site: it can repair calibration-in-the-large and slope,
never the ranking of patients (a monotone transform leaves ROC AUC unchanged); and global SHAP
importance at each site side by side (``models.explain.global_importance``).

The two calibration regressions are fitted by Newton's method, many bootstrap resamples at once
(a resample is a row of patient counts). Plain Python, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from synthetic_data import ARMS

from .evaluation import calibration_points, held_out_metrics
from .explain import global_importance
from .training import (GLOBAL_SHAP_ROWS, ModelSuite, TrainedModel, ranking_variants, suite_policy,
                       train_suite)

INTERVAL_LEVEL = 0.95
# A forest can predict exactly 0 or 1, whose logit is infinite: probabilities are clipped first.
PROBABILITY_FLOOR = 1e-6
NEWTON_STEPS = 100
NEWTON_TOLERANCE = 1e-10
STEP_HALVINGS = 40
MAX_CONDITION = 1e12  # of a Newton step's Hessian; beyond it the fit is taken not to exist
RECALIBRATION_SIZES = (50, 500)  # the local sample a user may choose, inclusive
LEAVE_ONE_SITE_OUT_ALGORITHMS = ("logistic_regression",)
INTERNAL = "internal"  # the setting of the training site's held-out figures
EXTERNAL = "external"

MISSING_COLUMNS = "the site's patients lack the columns {columns}"
# No counts in a reason: pages show it as it is, and a count of 1-10 may not be shown.
TOO_FEW_AT_SITE = ("too few patients at this site: among those who received {arm}, at least one "
                   "responder and one non-responder needed")
BAD_LOCAL_SIZE = ("the local sample must be a whole number of patients from {low} to {high}; got "
                  "{n_local!r}")
LOCAL_TOO_LARGE = ("a local sample of {n_local} leaves {rest} of the {n} patients who received "
                   "{arm} at this site to evaluate on: {reason}")
LOCAL_UNUSABLE = ("no logistic recalibration fits this local sample: it needs responders and "
                  "non-responders whose predicted probabilities overlap")
TOO_FEW_SITES = "leave-one-site-out needs at least two sites in column {column!r}; found {sites}"
INDEX_NOT_UNIQUE = "the patients' index must be unique (one row per patient across sites)"
RESERVED_SITE = f"a site may not be called {INTERNAL!r}: that column holds the training figures"
NO_PATIENTS_OF_ARM = "no patient at site {site!r} received {arm}"


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    return np.log(p / (1 - p))


def _estimable(x: np.ndarray, y: np.ndarray, weights: np.ndarray, *, slope: bool) -> np.ndarray:
    """Per row of ``weights``, whether the maximum-likelihood fit exists: both outcomes present
    and, with a slope, neither outcome's ``x`` wholly at or beyond the other's (a separation
    sends the slope to infinity)."""
    present = weights > 0
    responders, others = present & (y == 1), present & (y == 0)
    usable = responders.any(axis=1) & others.any(axis=1)
    if slope:
        def highest(mask):
            return np.where(mask, x, -np.inf).max(axis=1)

        def lowest(mask):
            return np.where(mask, x, np.inf).min(axis=1)

        usable &= (highest(others) > lowest(responders)) & (highest(responders) > lowest(others))
    return usable


def _fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, *, slope: bool) -> np.ndarray:
    """Logistic regressions of ``y`` on ``x``, one per row of ``weights`` (each patient's count):
    with ``slope`` columns (intercept, coefficient of ``x``), without it the intercept alone with
    ``x`` as offset. NaN where the fit does not exist (``_estimable``), or where Newton's method
    meets a singular Hessian or has not converged after ``NEWTON_STEPS``."""
    design = np.column_stack([np.ones_like(x), x]) if slope else np.ones((len(x), 1))
    offset = np.zeros_like(x) if slope else x
    fits = np.full((len(weights), design.shape[1]), np.nan)
    usable = _estimable(x, y, weights, slope=slope)
    counts = weights[usable]
    k = design.shape[1]

    def log_likelihood(beta):
        eta = beta @ design.T + offset
        return (counts * (y * eta - np.logaddexp(0.0, eta))).sum(axis=1)

    # Per patient the outer product of its design row, flattened: each fit's Hessian is then
    # one matrix product with its weights.
    outer = (design[:, :, None] * design[:, None, :]).reshape(len(x), k * k)
    beta = np.zeros((len(counts), k))
    current = log_likelihood(beta)
    failed = np.zeros(len(counts), dtype=bool)
    converged = np.zeros(len(counts), dtype=bool)
    for _ in range(NEWTON_STEPS):
        mu = expit(beta @ design.T + offset)
        gradient = (counts * (y - mu)) @ design
        hessian = ((counts * mu * (1 - mu)) @ outer).reshape(-1, k, k)
        failed |= ~(np.linalg.cond(hessian) < MAX_CONDITION)
        hessian[failed], gradient[failed] = np.eye(k), 0.0
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        # From far away a full Newton step can overshoot into saturated predictions: halve it
        # until the (concave) log-likelihood does not fall.
        scale = np.ones(len(counts))
        for _ in range(STEP_HALVINGS):
            trial = log_likelihood(beta + scale[:, None] * step)
            worse = trial < current - 1e-12 * np.abs(current)
            if not worse.any():
                break
            scale[worse] /= 2
        beta += scale[:, None] * step
        current = log_likelihood(beta)
        converged = np.abs(step).max(axis=1, initial=0.0) < NEWTON_TOLERANCE
        if converged.all():
            break
    beta[failed | ~converged] = np.nan
    fits[usable] = beta
    return fits


def logistic_recalibration(y, p) -> tuple[float, float]:
    """(intercept, slope) of ``logit P(y) = intercept + slope logit(p)``: the calibration slope
    and the intercept that goes with it, which recalibration applies. NaN when no fit exists."""
    x = logit(p)
    intercept, slope = _fit_logistic(x, np.asarray(y, dtype=float), np.ones((1, len(x))),
                                     slope=True)[0]
    return float(intercept), float(slope)


def calibration_figures(y, p, *, n_resamples: int, rng) -> dict:
    """Calibration-in-the-large and calibration slope, each with a percentile interval over
    ``n_resamples`` bootstrap resamples of the patients (resamples where a fit does not exist
    are left out; NaN where none exists)."""
    y, x = np.asarray(y, dtype=float), logit(p)
    n = len(y)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n)
                       for _ in range(n_resamples)]).astype(float)
    weights = np.vstack([np.ones(n), counts])  # row 0: the patients themselves
    fits = {"calibration_in_the_large": _fit_logistic(x, y, weights, slope=False)[:, 0],
            "calibration_slope": _fit_logistic(x, y, weights, slope=True)[:, 1]}
    tail = (1 - INTERVAL_LEVEL) / 2 * 100
    figures = {}
    for name, values in fits.items():
        resampled = values[1:][np.isfinite(values[1:])]
        low, high = (np.percentile(resampled, [tail, 100 - tail]) if len(resampled)
                     else (np.nan, np.nan))
        figures |= {name: float(values[0]), f"{name}_low": float(low), f"{name}_high": float(high)}
    return figures


def site_figures(y, p, *, n_resamples: int, rng) -> dict:
    """Every figure of one model on one site's patients (outcomes ``y``, predictions ``p``):
    ``held_out_metrics``, ``calibration_figures`` and the calibration curve (``calibration``)."""
    y, p = np.asarray(y), np.asarray(p, dtype=float)
    return {**held_out_metrics(y, p, n_resamples=n_resamples, rng=rng),
            **calibration_figures(y, p, n_resamples=n_resamples, rng=rng),
            "calibration": calibration_points(y, p)}


def internal_figures(model: TrainedModel, *, n_resamples: int, rng) -> dict:
    """``site_figures`` on the model's held-out patients: the metrics and calibration curve as
    stored at training, calibration-in-the-large and slope computed from the stored outcomes and
    predictions."""
    stored = {k: v for k, v in model.metrics.items() if not k.startswith("cv_") and k != "n_train"}
    return {**stored,
            **calibration_figures(model.test_outcomes, model.test_probabilities,
                                  n_resamples=n_resamples, rng=rng),
            "calibration": model.calibration}


@dataclass
class ExternalValidation:
    """A suite's models scored at another site beside their internal (held-out) figures."""

    # (arm, algorithm, variant) -> {"internal": figures, "external": figures} (``site_figures``)
    results: dict[tuple[str, str, str], dict]
    skipped: dict[str, str]  # arm -> why its models could not be scored at the site
    n_patients: int
    policy: dict | None = None  # ``suite_policy`` over every patient of the site (with truth)
    excluded: dict[str, int] | None = None  # per variant: left out by ``permitted``

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per model and setting ("internal", "external"), every figure a column."""
        rows = [{"arm": arm, "algorithm": algorithm, "variant": variant, "setting": setting,
                 **figures}
                for (arm, algorithm, variant), result in self.results.items()
                for setting, figures in result.items()]
        return pd.DataFrame(rows)


def _check_columns(patients: pd.DataFrame, features) -> None:
    missing = sorted({"arm", "response", *features} - set(patients.columns))
    if missing:
        raise ValueError(MISSING_COLUMNS.format(columns=", ".join(missing)))


def _too_few(received: pd.DataFrame, arm: str) -> str | None:
    responders = int(received["response"].sum())
    if 0 < responders < len(received):
        return None
    return TOO_FEW_AT_SITE.format(arm=arm)


def external_validation(suite: ModelSuite, patients: pd.DataFrame, *,
                        truth: pd.DataFrame | None = None, permitted: dict | None = None,
                        n_resamples: int = 200,
                        random_state: int | None = None) -> ExternalValidation:
    """Score every model of ``suite`` on another site's patients.

    Parameters
    ----------
    suite : ModelSuite
        As ``train_suite`` returns it, trained at another site.
    patients : pandas.DataFrame
        The new site's patients as ``make_cohort(...).patients``: features, ``arm``, ``response``.
        Each arm's models are scored on the patients who received that arm.
    truth : pandas.DataFrame, optional
        The new site's ground truth, aligned with ``patients``: enables the policy value.
    permitted : dict, optional
        Per variant, a boolean Series over ``patients.index``: the patients that variant's
        models may be scored on (consent to model training), as ``train_suite`` takes it; the
        policy value ranks each patient with the richest variant permitted and leaves out those
        permitted none. Everyone when omitted.
    n_resamples : int
        Bootstrap resamples for every interval.
    random_state : int, optional
        Seed of the resamples: the same seed gives the same figures.

    Returns
    -------
    ExternalValidation
        ``results[(arm, algorithm, variant)]`` is ``{"internal": ..., "external": ...}``, each
        a dict with ``roc_auc``, ``roc_auc_low``, ``roc_auc_high``, ``balanced_accuracy``,
        ``brier``, ``n_test``, ``small_sample``, ``calibration_in_the_large`` and
        ``calibration_slope`` each with ``_low`` and ``_high``, and ``calibration``
        (``{"predicted": [...], "observed": [...]}``); ``skipped`` (arm -> reason) lists the arms
        the site cannot score; ``policy`` is ``models.policy.policy_values``'s dict with
        ``n_excluded``, over every patient of the site (None without truth); ``excluded``
        counts, per variant, the patients ``permitted`` left out.
    """
    _check_columns(patients, {f for model in suite.models.values() for f in model.features})
    rng = np.random.default_rng(random_state)
    variants = {variant for _, _, variant in suite.models}
    everyone = pd.Series(True, index=patients.index)
    usable = {v: (permitted[v].loc[patients.index] if permitted else everyone).to_numpy()
              for v in variants}
    results, skipped = {}, {}
    for (arm, algorithm, variant), model in suite.models.items():
        received = patients[usable[variant] & (patients["arm"] == arm).to_numpy()]
        if reason := _too_few(received, arm):
            skipped[arm] = reason
            continue
        results[(arm, algorithm, variant)] = {
            INTERNAL: internal_figures(model, n_resamples=n_resamples, rng=rng),
            EXTERNAL: site_figures(received["response"].to_numpy(), model.predict(received),
                                   n_resamples=n_resamples, rng=rng),
        }
    policy = None
    if truth is not None:
        policy = suite_policy(suite, patients, truth, patients.index,
                              ranking_variants(patients.index, variants, permitted),
                              n_resamples=n_resamples)
    return ExternalValidation(results=results, skipped=skipped, n_patients=len(patients),
                              policy=policy,
                              excluded={v: int((~usable[v]).sum()) for v in sorted(variants)})


def leave_one_site_out(patients: pd.DataFrame, *, site_column: str = "site", arms=ARMS,
                       algorithms=LEAVE_ONE_SITE_OUT_ALGORITHMS, variants=("full",),
                       n_resamples: int = 200, random_state: int | None = None) -> pd.DataFrame:
    """Train on every site but one, score at the one left out, for each site in turn.

    Parameters
    ----------
    patients : pandas.DataFrame
        A multi-site cohort's patients, with a unique index and a ``site_column``.
    arms, algorithms, variants
        What ``train_suite`` trains on each fold (logistic regression in "full" by default: one
        fold costs one cheap suite).
    n_resamples : int
        Bootstrap resamples for every interval.
    random_state : int, optional
        One seed for every fold's training split and resamples.

    Returns
    -------
    pandas.DataFrame
        ``ExternalValidation.metrics`` of every fold with a ``left_out`` column: per left-out
        site, arm, algorithm and variant, an "internal" row (held out at the training sites) and
        an "external" row (the left-out site). Arms a fold could not train or score are absent.
    """
    if not patients.index.is_unique:
        raise ValueError(INDEX_NOT_UNIQUE)
    sites = list(dict.fromkeys(patients[site_column]))
    if len(sites) < 2:
        raise ValueError(TOO_FEW_SITES.format(column=site_column, sites=sites))
    seed = int(np.random.default_rng(random_state).integers(2**31))
    folds = []
    for site in sites:
        left_out = (patients[site_column] == site).to_numpy()
        # No ranking intervals (n_refits=0): the table ranks no patient.
        suite = train_suite(patients[~left_out], arms=arms, algorithms=algorithms,
                            variants=variants, n_resamples=n_resamples, n_refits=0,
                            random_state=seed)
        validation = external_validation(suite, patients[left_out], n_resamples=n_resamples,
                                         random_state=seed)
        folds.append(validation.metrics.assign(left_out=site))
    table = pd.concat(folds, ignore_index=True)
    return table[["left_out", *table.columns.drop("left_out")]]


def recalibrate(model: TrainedModel, patients: pd.DataFrame, *, n_local: int,
                n_resamples: int = 200, random_state: int | None = None) -> dict:
    """Logistic recalibration of one model on a random local sample of a new site, scored on
    the rest of that site.

    Of the site's patients who received ``model.arm``, ``n_local`` drawn at random fit
    ``logit P(y) = intercept + slope logit(p)``; the recalibrated prediction is
    ``expit(intercept + slope logit(p))``. The others are scored before and after, with the same
    bootstrap resamples: a positive slope keeps every patient's rank, so ROC AUC and its interval
    are unchanged. A negative slope (the local sample ranks its patients against the model, as a
    weak model on a small sample can by chance) reverses every rank: the AUC becomes 1 - AUC.

    Parameters
    ----------
    model : TrainedModel
    patients : pandas.DataFrame
        The new site's patients (features, ``arm``, ``response``).
    n_local : int
        Size of the local sample, ``RECALIBRATION_SIZES`` (50 to 500) inclusive.
    n_resamples : int
        Bootstrap resamples for the intervals.
    random_state : int, optional
        Seed of the local sample and the resamples.

    Returns
    -------
    dict
        ``arm``, ``algorithm``, ``variant``, ``n_local``, ``n_evaluated`` (the rest),
        ``intercept`` and ``slope`` (the recalibration fitted), ``before`` and ``after``
        (``site_figures`` on the rest, original and recalibrated predictions).
    """
    low, high = RECALIBRATION_SIZES
    if isinstance(n_local, bool) or not isinstance(n_local, (int, np.integer)) \
            or not low <= n_local <= high:
        raise ValueError(BAD_LOCAL_SIZE.format(low=low, high=high, n_local=n_local))
    _check_columns(patients, model.features)
    received = patients[patients["arm"] == model.arm]
    rng = np.random.default_rng(random_state)
    local = np.zeros(len(received), dtype=bool)
    local[rng.choice(len(received), min(int(n_local), len(received)), replace=False)] = True
    if reason := _too_few(received[~local], model.arm):
        raise ValueError(LOCAL_TOO_LARGE.format(n_local=n_local, rest=int((~local).sum()),
                                                n=len(received), arm=model.arm, reason=reason))
    y, p = received["response"].to_numpy(), model.predict(received)
    intercept, slope = logistic_recalibration(y[local], p[local])
    if np.isnan(slope):
        raise ValueError(LOCAL_UNUSABLE)
    recalibrated = expit(intercept + slope * logit(p[~local]))
    seed = int(rng.integers(2**31))
    return {
        "arm": model.arm, "algorithm": model.algorithm, "variant": model.variant,
        "n_local": int(n_local), "n_evaluated": int((~local).sum()),
        "intercept": intercept, "slope": slope,
        "before": site_figures(y[~local], p[~local], n_resamples=n_resamples,
                               rng=np.random.default_rng(seed)),
        "after": site_figures(y[~local], recalibrated, n_resamples=n_resamples,
                              rng=np.random.default_rng(seed)),
    }


def importance_by_site(model: TrainedModel, sites: Mapping[str, pd.DataFrame], *,
                       rows: int = GLOBAL_SHAP_ROWS) -> pd.DataFrame:
    """Global SHAP importance (mean absolute SHAP value per feature) of one model at each site
    beside the training site's.

    Each site's figure is over the first ``rows`` of its patients who received ``model.arm``,
    as training computes the internal one over the first ``rows`` held-out patients.

    Returns
    -------
    pandas.DataFrame
        One row per model feature, most important at training first; columns "internal" (as
        stored at training) and one per site, in ``sites`` order.
    """
    if INTERNAL in sites:
        raise ValueError(RESERVED_SITE)
    # Sorted here: a model loaded from PostgreSQL's jsonb has its importance in key order.
    columns = {INTERNAL: pd.Series(model.global_importance, dtype=float)
               .sort_values(ascending=False, kind="stable")}
    for site, patients in sites.items():
        _check_columns(patients, model.features)
        sample = patients[patients["arm"] == model.arm].iloc[:rows]
        if sample.empty:
            raise ValueError(NO_PATIENTS_OF_ARM.format(site=site, arm=model.arm))
        _, contributions, _ = model.explainer.shap_matrix(sample)
        columns[site] = global_importance(contributions)
    return pd.DataFrame(columns).loc[list(columns[INTERNAL].index)]
