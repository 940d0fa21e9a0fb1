"""Explanation comparison for one patient: the three algorithms' SHAP explanations of one arm side
by side, with their disagreements, and on request the stability of each feature's SHAP value
across refits with other seeds.

The access gate admits the roles and writes the one audit entry (``patient.compare``); the
patient's data comes only through the consent gate, and every prediction goes through
``selectors.patient_ranking``, so the pause stops this page too.
"""

from django import forms
from django.shortcuts import render

from decision_support.consent.reads import model_training_rows
from decision_support.lib.charts import Chart, bar_chart
from decision_support.query_parameters import query_settings
from decision_support.registry.loading import fitted_model
from models.features import VARIANT_LABELS
from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from models.explain import Explanation
from models.explain_compare import (DEFAULT_SEEDS, NEGLIGIBLE_SHARE, STABLE_SIGN_AGREEMENT,
                                    TOP_STRONG, TOP_WEAK, ExplanationComparison,
                                    compare_explanations, shap_stability)
from synthetic_data import ARM_LABELS, DATA_DICTIONARY

from .forms import arm_field
from .pages import format_value
from .patient import patient_for_request
from .selectors import patient_ranking, true_response_probabilities

# Features in the chart of shares (the table below it lists every feature).
CHART_FEATURES = 12
STABILITY_SEEDS = DEFAULT_SEEDS


class ExplanationComparisonForm(forms.Form):
    """The arm to compare (one of the patient's ranked arms) and whether to refit for stability."""

    stability = forms.ChoiceField(label="Stability across refits", required=False, initial="",
                                  choices=[("", "not computed"), ("1", "compute")])

    def __init__(self, *args, arms: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"arm": arm_field(arms, label="Arm"), **self.fields}


def patient_explanations(request, pseudonym: str):
    this = patient_for_request(request, pseudonym)
    patient, run, consented, hidden = this.patient, this.run, this.consented, this.hidden
    # The one gate of every prediction: None while paused, without a run or clinical consent.
    ranking = patient_ranking(consented, run)
    context = {"patient": patient, "cohort": this.cohort, "run": run, "consent": consented,
               "withheld_labels": this.withheld_labels,
               "chart_specs": [], "top_strong": TOP_STRONG, "top_weak": TOP_WEAK,
               "negligible_share": NEGLIGIBLE_SHARE, "n_seeds": len(STABILITY_SEEDS),
               "stable_sign_agreement": STABLE_SIGN_AGREEMENT}
    arms = list(ranking["arm"]) if ranking is not None else []
    detail = {}
    if arms:
        form, chosen, errors = query_settings(ExplanationComparisonForm, request.GET, arms=arms)
        arm, variant = chosen["arm"], consented.variant
        explanations = _explanations(consented, run, arm)
        comparison = compare_explanations(explanations)
        context.update({
            "form": form, "form_errors": errors, "arm": arm, "arm_label": ARM_LABELS[arm],
            "variant": variant, "variant_label": VARIANT_LABELS[variant],
            **_comparison_context(comparison, explanations, consented.values, hidden),
        })
        truth = true_response_probabilities(patient.pk, roles=request.roles) or {}
        context["true_probability"] = truth.get(arm)
        if chosen["stability"] == "1":
            context["stability"] = _stability(consented, run, arm, comparison.features, hidden)
        detail.update(arm=arm, variant=variant, stability=chosen["stability"] == "1")
    this.audit_read(request, **detail)
    return render(request, "predictions/explanation_comparison.html", context)


def _explanations(consented, run, arm: str) -> dict[str, Explanation]:
    """The patient explained by the arm's three models of the patient's consent variant."""
    rows = {m.algorithm: m for m in run.models.filter(arm=arm, variant=consented.variant)}
    return {algorithm: fitted_model(rows[algorithm]).explain(consented.frame)[0]
            for algorithm in ALGORITHMS if algorithm in rows}


def _label(feature: str) -> str:
    return DATA_DICTIONARY[feature].label


def _value_text(feature: str, values, hidden: frozenset[str]) -> str:
    if feature in hidden:
        return "value not shown"
    unit = DATA_DICTIONARY[feature].unit
    unit = f" {unit}" if unit and unit != "z" else ""
    return f"{format_value(feature, values[feature])}{unit}"


def _comparison_context(comparison: ExplanationComparison, explanations, values,
                        hidden) -> dict:
    algorithms = [{"algorithm": a, "label": ALGORITHM_LABELS[a], "units": comparison.units[a],
                   "probability": explanations[a].probability,
                   "credits_nothing": not comparison.shares[a].any()}
                  for a in comparison.algorithms]
    rows = []
    for feature in comparison.features:
        sign, rank = (bool(comparison.sign_disagreement[feature]),
                      bool(comparison.rank_disagreement[feature]))
        rows.append({
            "feature": feature, "label": _label(feature),
            "value": _value_text(feature, values, hidden), "hidden": feature in hidden,
            "cells": [{"value": f"{comparison.values.at[feature, a]:+.4f}",
                       "rank": int(comparison.ranks.at[feature, a]),
                       "share": float(comparison.shares.at[feature, a])}
                      for a in comparison.algorithms],
            "sign_disagreement": sign, "rank_disagreement": rank, "disagreement": sign or rank,
        })
    chart = _shares_chart(comparison)
    return {"algorithms": algorithms, "rows": rows, "shares_chart": chart,
            "n_disagreements": sum(r["disagreement"] for r in rows),
            "chart_specs": [chart.as_json()]}


def _shares_chart(comparison: ExplanationComparison) -> Chart:
    top = list(comparison.shares.max(axis=1).sort_values(ascending=False, kind="stable")
               .index[:CHART_FEATURES])
    top.sort(key=comparison.features.index)
    return bar_chart(
        "explanation-shares", "Share of each algorithm's explanation, per feature", "Feature",
        "Share of the explanation (|SHAP| / sum of |SHAP|)", [_label(f) for f in top],
        {ALGORITHM_LABELS[a]: [comparison.shares.at[f, a] for f in top]
         for a in comparison.algorithms},
        percent=True,
        caption=(f"The {len(top)} features with the largest share under any algorithm. Shares "
                 "make the algorithms comparable although their SHAP values are in different "
                 "units; each algorithm's shares over all features add up to 100%."))


def _stability(consented, run, arm: str, order: list[str], hidden) -> dict:
    """Per algorithm, the patient's SHAP values over refits with ``STABILITY_SEEDS``."""
    variant = consented.variant
    # The arm's training patients as the run split them, with consent to model training now.
    train = model_training_rows(cohort_id=run.cohort_id, arm=arm, variant=variant, seed=run.seed,
                                site=run.development_site)
    if len(train) == 0 or train["response"].nunique() < 2:
        return {"n_train": len(train), "tables": [],
                "refused": "Too few training patients with consent to model training."}
    tables = []
    for algorithm in ALGORITHMS:
        result = shap_stability(train, train["response"], consented.frame, algorithm=algorithm,
                                variant=variant, seeds=STABILITY_SEEDS)
        tables.append({
            "algorithm": algorithm, "label": ALGORITHM_LABELS[algorithm],
            "units": result["units"].iloc[0],
            "n_unstable": int(result["unstable"].sum()),
            "rows": [{"feature": f, "label": _label(f), "hidden": f in hidden,
                      "mean": f"{result.at[f, 'mean']:+.4f}", "sd": f"{result.at[f, 'sd']:.4f}",
                      "sign_agreement": float(result.at[f, "sign_agreement"]),
                      "unstable": bool(result.at[f, "unstable"])}
                     for f in order if f in result.index],
        })
    return {"n_train": len(train), "tables": tables, "refused": ""}
