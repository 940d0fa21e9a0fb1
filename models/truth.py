"""The truth check: what the model credits beside what truly drives response in the simulation.

Every true effect is an additive term of one variable, so a term minus its mean is that
variable's exact true SHAP value: model and truth can be compared feature by feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_data import DATA_DICTIONARY, true_logit_terms

from .evaluation import CALIBRATION_BINS, auc_or_none

# A feature with no true effect is flagged when it is among the model's top features.
CREDITED_TOP = 5
ZERO_EFFECT_FLAG = "credited by the model, true effect zero"
PROXY_FLAG = "credited by the model: no effect of its own, but it measures {latent}, which has one"
# Observed variables that measure a latent driver with a true effect.
MEASURES = {"polygenic_score_z": "genetic_liability_z"}


def truth_check(model, test_rows: pd.DataFrame, test_truth: pd.DataFrame,
                contributions: pd.DataFrame, *, scenario: str) -> dict:
    """Compare one trained model with the ground truth on held-out patients.

    ``contributions`` are the model's SHAP values for (a sample of) ``test_rows``.
    """
    terms = true_logit_terms(test_rows, test_truth, arm=model.arm, scenario=scenario)
    true_shap = (terms - terms.mean()).loc[contributions.index]
    true_importance = true_shap.abs().mean()
    model_importance = contributions.abs().mean()
    true_total = true_importance.sum() or 1.0
    model_total = model_importance.sum() or 1.0
    rows = []
    for feature in model.features:
        true_value = float(true_importance.get(feature, 0.0))
        model_share = float(model_importance[feature] / model_total)
        rows.append({
            "feature": feature,
            "label": DATA_DICTIONARY[feature].label,
            "model_importance": float(model_importance[feature]),
            "model_share": model_share,
            "true_importance": true_value,
            "true_share": true_value / true_total,
            "flag": "",
        })
    rows.sort(key=lambda r: r["model_importance"], reverse=True)
    for row in rows[:CREDITED_TOP]:
        if row["true_importance"] == 0:
            latent = MEASURES.get(row["feature"])
            row["flag"] = (PROXY_FLAG.format(latent=DATA_DICTIONARY[latent].label.lower())
                           if latent else ZERO_EFFECT_FLAG)
    unobserved = [{"feature": name, "label": DATA_DICTIONARY[name].label,
                   "true_share": float(true_importance[name] / true_total)}
                  for name in true_importance.index if name not in DATA_DICTIONARY
                  or not DATA_DICTIONARY[name].observed]
    y = test_rows["response"].to_numpy()
    predicted = model.predict(test_rows)
    true_p = test_truth[f"p_response_{model.arm}"].to_numpy()
    return {
        "features": rows,
        "unobserved": unobserved,
        "flagged": [r["feature"] for r in rows if r["flag"] == ZERO_EFFECT_FLAG],
        "calibration_against_truth": _binned(predicted, true_p),
        "mean_absolute_error_vs_true_probability": float(np.abs(predicted - true_p).mean()),
        "oracle_roc_auc": auc_or_none(y, true_p),
    }


def _binned(predicted: np.ndarray, true_p: np.ndarray, bins: int = CALIBRATION_BINS):
    """Mean true response probability in quantile bins of the predicted probability."""
    order = np.array_split(np.argsort(predicted), bins)
    return {"predicted": [round(float(predicted[i].mean()), 4) for i in order if len(i)],
            "true": [round(float(true_p[i].mean()), 4) for i in order if len(i)]}
