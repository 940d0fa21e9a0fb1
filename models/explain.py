"""Exact SHAP explanations: TreeExplainer for the forests and boosting, LinearExplainer for the
logistic regression (the pipeline is split: the explainer sees the prepared features).

Contributions of the one-hot columns of a category are summed back to that category's input,
so every explanation is in terms of the variables a clinic records. Additivity holds exactly:
base value + sum of contributions = model output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shap
from sklearn.ensemble import RandomForestClassifier

from synthetic_data import DATA_DICTIONARY

from .features import FeatureRows, prepare_rows, source_feature


@dataclass(frozen=True)
class Explanation:
    """One patient's explanation under one model.

    ``units`` is "log-odds" for logistic regression and gradient boosting; a random forest
    averages probabilities, so its exact SHAP values are in "probability" units.
    """

    base_value: float
    contributions: pd.Series
    model_output: float
    probability: float
    units: str
    feature_values: pd.Series


class ModelExplainer:
    """Explains a fitted ``prepare -> classify`` pipeline.

    ``background_mean`` is the mean of the prepared training features; the linear explainer
    measures every contribution from it (the tree explainers use the trees' own cover).
    """

    def __init__(self, pipeline, features: list[str], background_mean: np.ndarray):
        self.pipeline = pipeline
        self.features = list(features)
        self._index = pd.Index(self.features)
        self.prepare, self.classifier = pipeline[:-1], pipeline[-1]
        self.prepared_names = list(self.prepare.get_feature_names_out())
        sources = [source_feature(name, self.features) for name in self.prepared_names]
        # Summing matrix: prepared columns -> input features.
        self._to_inputs = np.array([[s == f for f in self.features] for s in sources], dtype=float)
        if isinstance(self.classifier, RandomForestClassifier):
            self._explainer = shap.TreeExplainer(self.classifier)
            self.units = "probability"
        elif hasattr(self.classifier, "coef_"):
            masker = shap.maskers.Independent(np.asarray(background_mean).reshape(1, -1))
            self._explainer = shap.LinearExplainer(self.classifier, masker)
            self.units = "log-odds"
        else:
            self._explainer = shap.TreeExplainer(self.classifier)
            self.units = "log-odds"

    def shap_matrix(self, rows: pd.DataFrame | FeatureRows, *,
                    prepared: np.ndarray | None = None) -> tuple[float, pd.DataFrame, np.ndarray]:
        """(base value, SHAP values per input feature, model outputs) for many rows.

        ``prepared``: the rows as ``prepare_rows`` gives them for this pipeline, when the caller
        has them already. The outputs are the additivity's, base value + sum of the SHAP values:
        each explainer here is exact (TreeSHAP on the trees' own cover; the linear explainer on
        the prepared features), so calling the model as well would only repeat the sum.
        """
        prepared = prepare_rows(self.pipeline, rows) if prepared is None else prepared
        if self.units == "probability":
            values = self._explainer.shap_values(prepared, check_additivity=False)[..., 1]
            base = float(np.ravel(self._explainer.expected_value)[1])
        elif isinstance(self._explainer, shap.LinearExplainer):
            values = self._explainer.shap_values(prepared)
            base = float(np.ravel(self._explainer.expected_value)[0])
        else:
            values = self._explainer.shap_values(prepared, check_additivity=False)
            base = float(np.ravel(self._explainer.expected_value)[0])
        values = np.asarray(values, dtype=float)
        by_input = pd.DataFrame(values @ self._to_inputs, columns=self.features, index=rows.index)
        return base, by_input, base + values.sum(axis=1)

    def explain(self, rows: pd.DataFrame | FeatureRows, *,
                prepared: np.ndarray | None = None) -> list[Explanation]:
        base, contributions, outputs = self.shap_matrix(rows, prepared=prepared)
        probabilities = outputs if self.units == "probability" else 1 / (1 + np.exp(-outputs))
        values = np.column_stack([np.asarray(rows[f], dtype=object) for f in self.features])
        return [
            Explanation(base_value=base,
                        contributions=pd.Series(contributions.to_numpy()[i], index=self._index,
                                                name=index),
                        model_output=float(output), probability=float(probability),
                        units=self.units,
                        feature_values=pd.Series(values[i], index=self._index, name=index))
            for i, (index, output, probability) in enumerate(zip(rows.index, outputs,
                                                                 probabilities))
        ]


def global_importance(contributions: pd.DataFrame) -> pd.Series:
    """Mean absolute SHAP value per feature, largest first."""
    return contributions.abs().mean().sort_values(ascending=False)


def beeswarm_data(contributions: pd.DataFrame, rows: pd.DataFrame, *, top: int = 10) -> dict:
    """Per feature (most important first): every patient's SHAP value and the feature's value
    as a 0-1 colour scale (rank within the sample), for a beeswarm plot."""
    features = list(global_importance(contributions).index[:top])
    colour = {}
    for feature in features:
        values = rows[feature]
        if DATA_DICTIONARY[feature].categories:
            values = values.cat.codes if hasattr(values, "cat") else pd.Categorical(
                values, categories=DATA_DICTIONARY[feature].categories).codes
        colour[feature] = pd.Series(values).rank(pct=True).round(3).tolist()
    return {"features": features,
            "shap": {f: contributions[f].round(5).tolist() for f in features},
            "colour": colour}


def narrative(explanation: Explanation, *, arm_label: str, medians: dict, top: int = 3,
              hidden: frozenset[str] = frozenset()) -> str:
    """Plain language: the top drivers and the direction they pushed the prediction; features in
    ``hidden`` are named without their values."""
    drivers = explanation.contributions.abs().sort_values(ascending=False).index[:top]
    sentences = []
    for feature in drivers:
        value = explanation.contributions[feature]
        if value == 0:
            continue
        direction = "raised" if value > 0 else "lowered"
        said = (f"{_in_sentence(DATA_DICTIONARY[feature].label)} (value not shown)"
                if feature in hidden
                else describe(feature, explanation.feature_values[feature], medians))
        sentences.append(f"{said} "
                         f"{direction} the predicted {arm_label} response")
    if not sentences:
        return f"No feature moved the predicted {arm_label} response away from the average."
    text = "; ".join(sentences)
    first = text.split(" ", 1)[0]
    # "Anxious depression ...", but "hs-CRP ..." and "rACC theta ..." keep their case.
    return (text[0].upper() + text[1:] if first.islower() else text) + "."


# How a binary feature's absence reads where "no <label>" would not: a label that is itself a
# negation, or names a gene and its allele.
ABSENT = {
    "dst_nonsuppression": "normal dexamethasone suppression",
    "bdnf_met_carrier": "BDNF Val66Met: no Met allele",
}


def describe(feature: str, value, medians: dict) -> str:
    """'hs-CRP above the median (8.2 mg/L)', 'anxious depression', 'normal dexamethasone
    suppression', 'CYP2C19 metaboliser phenotype UM': a phrase to go inside a sentence."""
    variable = DATA_DICTIONARY[feature]
    label = _in_sentence(variable.label)
    if variable.categories:
        return f"{label} {value}"
    if variable.kind == "binary":
        return label if value else ABSENT.get(feature, f"no {label}")
    median = medians.get(feature, value)
    level = ("above the median" if value > median else "below the median" if value < median
             else "at the median")
    unit = f" {variable.unit}" if variable.unit not in ("", "z", "fraction") else ""
    return f"{label} {level} ({value:g}{unit})"


def _in_sentence(label: str) -> str:
    """A label inside a sentence: lower case, unless it opens with an abbreviation (hs-CRP,
    CYP2C19, BDNF, HAM-D17 keep theirs)."""
    return label if label[:2].isupper() or not label[:1].isupper() else label[0].lower() + label[1:]
