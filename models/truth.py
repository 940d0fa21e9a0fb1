"""The truth check: what the model credits beside what truly drives response in the simulation.

Every true effect is an additive term of one variable, so a term minus its mean is that
variable's exact true SHAP value: model and truth can be compared feature by feature. True
drivers the model does not use are listed with their share: latent drivers no clinic observes
(``unobserved``) and observed ones that are not among the model's inputs (``not_used``: sex,
kept for the fairness audit, and the data classes a variant leaves out).

A feature with no true effect among the model's most credited is flagged only when the credit
holds on held-out patients beyond what noise earns: a model also credits pure-noise features it
happened to fit, and a bootstrap over held-out rows cannot tell that credit from a decoy's (the
model is fixed, so its mean |SHAP| barely moves between resamples). What noise cannot do is
predict held-out response, so the check bootstraps over held-out rows the AUC of the feature's
SHAP values against the outcomes and flags the feature when the interval's lower end exceeds
``NOISE_AUC``, a pure-noise feature's expected value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_data import DATA_DICTIONARY, true_logit_terms

from .evaluation import CALIBRATION_BINS, auc_or_none, bootstrap_auc_interval

# A feature with no true effect is a flag candidate when it is among the model's top features.
CREDITED_TOP = 5
# Each candidate's interval is at a Bonferroni level over the candidates (5% for the five
# together); on held-out sets of about 100 patients noise reached a flag in 1.4% of candidates.
FLAG_LEVEL = 1 - 0.05 / CREDITED_TOP
FLAG_RESAMPLES = 200
FLAG_SEED = 20_141_106  # fixed: the same model and held-out patients give the same flags
NOISE_AUC = 0.5
ZERO_EFFECT_FLAG = "credited by the model beyond noise, true effect zero"
PROXY_FLAG = ("credited by the model beyond noise: no effect of its own, it stands in for "
              "{latent} (unobserved), so its credit is credit to {latent} measured indirectly")
# The simulation's decoy biomarkers: no effect on response, they measure illness burden.
DECOYS = ("hippocampal_volume_mm3", "bdnf_serum_ng_ml")
# Observed variables that measure a latent driver.
MEASURES = {"polygenic_score_z": "genetic_liability_z", **dict.fromkeys(DECOYS, "illness_burden_z")}


def truth_check(model, test_rows: pd.DataFrame, test_truth: pd.DataFrame,
                contributions: pd.DataFrame, *, scenario: str) -> dict:
    """Compare one trained model with the ground truth on held-out patients.

    ``contributions`` are the model's SHAP values for (a sample of) ``test_rows``. Each flag
    candidate carries ``held_out_auc`` with its interval (``held_out_auc_low``/``_high``, at
    ``FLAG_LEVEL``); other rows carry None there.
    """
    terms = true_logit_terms(test_rows, test_truth, arm=model.arm, scenario=scenario)
    true_shap = (terms - terms.mean()).loc[contributions.index]
    true_importance = true_shap.abs().mean()
    model_importance = contributions.abs().mean()
    shares = true_importance / (true_importance.sum() or 1.0)
    model_total = model_importance.sum() or 1.0
    rows = []
    for feature in model.features:
        model_share = float(model_importance[feature] / model_total)
        rows.append({
            "feature": feature,
            "label": DATA_DICTIONARY[feature].label,
            "model_importance": float(model_importance[feature]),
            "model_share": model_share,
            "true_importance": float(true_importance.get(feature, 0.0)),
            "true_share": float(shares.get(feature, 0.0)),
            "held_out_auc": None, "held_out_auc_low": None, "held_out_auc_high": None,
            "flag": "",
        })
    rows.sort(key=lambda r: r["model_importance"], reverse=True)
    outcomes = test_rows.loc[contributions.index, "response"].to_numpy()
    rng = np.random.default_rng(FLAG_SEED)
    for row in rows[:CREDITED_TOP]:
        if row["true_importance"] == 0:
            _flag(row, outcomes, contributions[row["feature"]].to_numpy(), rng)
    y = test_rows["response"].to_numpy()
    predicted = model.predict(test_rows)
    true_p = test_truth[f"p_response_{model.arm}"].to_numpy()
    return {
        "features": rows,
        "unobserved": [_driver(name, shares) for name in shares.index
                       if not DATA_DICTIONARY[name].observed],
        "not_used": [_driver(name, shares) for name in shares.index
                     if DATA_DICTIONARY[name].observed and name not in model.features],
        "flagged": [r["feature"] for r in rows if r["flag"]],
        "flag_level": FLAG_LEVEL,
        "calibration_against_truth": _binned(predicted, true_p),
        "mean_absolute_error_vs_true_probability": float(np.abs(predicted - true_p).mean()),
        "oracle_roc_auc": auc_or_none(y, true_p),
    }


def _driver(name: str, shares: pd.Series) -> dict:
    return {"feature": name, "label": DATA_DICTIONARY[name].label,
            "true_share": float(shares[name])}


def _flag(row: dict, outcomes: np.ndarray, shap_values: np.ndarray, rng) -> None:
    """Test a candidate: flag it when its SHAP values predict held-out response beyond noise."""
    auc = auc_or_none(outcomes, shap_values)
    if auc is None:  # one response class among the explained patients: nothing to test
        return
    low, high = bootstrap_auc_interval(outcomes, shap_values, n_resamples=FLAG_RESAMPLES,
                                       rng=rng, level=FLAG_LEVEL)
    row.update(held_out_auc=auc, held_out_auc_low=low, held_out_auc_high=high)
    if low > NOISE_AUC:
        latent = MEASURES.get(row["feature"])
        row["flag"] = (PROXY_FLAG.format(latent=DATA_DICTIONARY[latent].label.lower())
                       if latent else ZERO_EFFECT_FLAG)


def _binned(predicted: np.ndarray, true_p: np.ndarray, bins: int = CALIBRATION_BINS):
    """Mean true response probability in quantile bins of the predicted probability."""
    order = np.array_split(np.argsort(predicted), bins)
    return {"predicted": [round(float(predicted[i].mean()), 4) for i in order if len(i)],
            "true": [round(float(true_p[i].mean()), 4) for i in order if len(i)]}
