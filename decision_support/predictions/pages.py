"""What the patient pages show: the patient's observed values, the ranking and one SHAP waterfall
per ranked arm, and the truth beside the predictions for the roles that may see it.

The views stay thin: they validate the query, fetch rows and hand them here. Every chart is a
``decision_support.lib.charts.Chart`` and so carries the table the page shows beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from decision_support.lib.charts import Chart, bar_chart, interval_chart, waterfall_chart
from decision_support.registry.models import TrainingRun

from models.features import VARIANT_LABELS
from models.algorithms import ALGORITHM_LABELS
from models.pgx import Guidance
from models.ranking import eligible_arms
from synthetic_data import ARMS, ARM_LABELS, DATA_DICTIONARY
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .selectors import PatientPredictions

UNRELIABLE_TOP = ("{arm} ranks first, but its model is unreliable: it was tested on only {n_test} "
                  "held-out patients{interval}. Do not read its first place as the best choice.")
PATIENT_DATA_CLASSES = ("demographic", "clinical", "biomarker", "genetic", "epigenetic",
                        "treatment", "outcome")


def format_value(name: str, value) -> str:
    variable = DATA_DICTIONARY[name]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if variable.kind == "binary":
        return "yes" if int(value) else "no"
    if variable.categories:
        return str(value)
    if variable.kind == "integer":
        return f"{int(value):,}"
    return f"{float(value):g}"


def observed_groups(values: pd.Series, hidden: frozenset[str] = frozenset()) -> list[dict]:
    """The patient's observed values by data class, with dictionary labels and units, and
    whether each value is a category's code (``coded``); the variables in ``hidden`` are left
    out."""
    groups = []
    for data_class in PATIENT_DATA_CLASSES:
        rows = [{"name": v.name, "label": v.label, "value": format_value(v.name, values[v.name]),
                 "unit": v.unit, "coded": bool(v.categories)}
                for v in DATA_DICTIONARY.values()
                if v.data_class == data_class and v.name in values.index and v.name not in hidden]
        if rows:
            groups.append({"data_class": data_class,
                           "title": data_class.replace("_", " ").capitalize(), "rows": rows})
    return groups


def _feature_text(feature: str, value, hidden: frozenset[str]) -> str:
    variable = DATA_DICTIONARY[feature]
    if feature in hidden:
        return f"{variable.label} (value not shown)"
    unit = f" {variable.unit}" if variable.unit and variable.unit != "z" else ""
    return f"{variable.label} ({format_value(feature, value)}{unit})"


def waterfall(item, hidden: frozenset[str] = frozenset()) -> Chart:
    """One arm's SHAP waterfall, labelled with dictionary labels and the patient's values (except
    those in ``hidden``)."""
    e = item.explanation
    contributions = {_feature_text(f, e.feature_values[f], hidden): float(v)
                     for f, v in e.contributions.items()}
    arm = ARM_LABELS[item.arm]
    return waterfall_chart(
        f"waterfall-{item.arm}", f"{arm}: from the average patient to this patient",
        base=e.base_value, contributions=contributions, output=e.model_output, units=e.units,
        caption=(f"{ALGORITHM_LABELS[item.model.algorithm]} ({VARIANT_LABELS[item.model.variant].lower()}); "
                 f"predicted response {e.probability:.0%}. Red bars raise the prediction, blue bars "
                 f"lower it; values are in {e.units}."))


def _bound(value) -> float | None:
    return None if np.isnan(value) else float(value)


def ranking_rows(ranking: pd.DataFrame) -> list[dict]:
    """The ranking (``selectors.patient_ranking``), best first, marking arms whose model had too
    few test patients; an interval is None where the ranking algorithm has no refits."""
    return [{"rank": i + 1, "arm": row.arm, "label": ARM_LABELS[row.arm],
             "probability": float(row.probability), "low": _bound(row.low),
             "high": _bound(row.high), "small_sample": bool(row.small_sample),
             "n_test": int(row.n_test)}
            for i, row in enumerate(ranking.itertuples(index=False))]


def unreliable_top(rows: list[dict]) -> str | None:
    """The warning that goes before a ranking whose first arm's model is unreliable (flagged
    small-sample), or None."""
    if not rows or not rows[0]["small_sample"]:
        return None
    top = rows[0]
    interval = (f", and its predicted response of {top['probability']:.0%} for this patient has a "
                f"90% interval of {top['low']:.0%}–{top['high']:.0%}"
                if top["low"] is not None else "")
    return UNRELIABLE_TOP.format(arm=top["label"], n_test=top["n_test"], interval=interval)


def ranking_caption(algorithm: str, variant: str) -> str:
    return f"{ALGORITHM_LABELS[algorithm]}, {VARIANT_LABELS[variant].lower()}"


def ranking_chart(rows: list[dict], *, algorithm: str, variant: str) -> Chart:
    labels, values = [r["label"] for r in rows], [r["probability"] for r in rows]
    caption = ranking_caption(algorithm, variant)
    if any(r["low"] is None for r in rows):
        return bar_chart("ranking", "Predicted response by arm, best first", "Arm",
                         "Predicted response", labels, {"Predicted response": values},
                         percent=True,
                         caption=f"{caption}; no interval: only logistic regression is refitted "
                                 "by bootstrap at training.")
    return interval_chart(
        "ranking", "Predicted response by arm, best first", "Arm", "Predicted response",
        labels, values, [r["low"] for r in rows], [r["high"] for r in rows],
        caption=f"{caption}; the bars show the 90% interval over bootstrap refits of the model.")


def truth_rows(values: pd.Series, ranking: pd.DataFrame | None, run: TrainingRun | None,
               true_probability: dict | None) -> list[dict]:
    """Every arm: the model's predicted probability (where ranked) beside the true one."""
    predicted = ({row.arm: float(row.probability) for row in ranking.itertuples(index=False)}
                 if ranking is not None else {})
    resistant = int(values["prior_failures"]) >= TREATMENT_RESISTANT_MIN_FAILURES
    eligible = eligible_arms(resistant)
    skipped = run.skipped_arms if run else {}
    rows = []
    for arm in ARMS:
        if arm in predicted:
            reason = ""
        elif arm == "placebo":
            reason = "not ranked (placebo)"
        elif arm in skipped:
            reason = "no model (too few patients)"
        elif arm not in eligible:
            reason = "not ranked (not eligible: needs two or more prior failures)"
        else:
            reason = "not ranked"
        true = true_probability.get(arm) if true_probability is not None else None
        rows.append({
            "arm": arm, "label": ARM_LABELS[arm], "predicted": predicted.get(arm),
            "reason": reason, "true": true,
            "difference": (f"{(predicted[arm] - true) * 100:+.1f} pp"
                           if arm in predicted and true is not None else None),
            "received": arm == values["arm"],
        })
    return rows


def cited_guidance(guidance: list[Guidance]) -> tuple[list[tuple[Guidance, int]], list[str]]:
    """The PGx rules (``selectors.patient_guidance``), each with the number of its citation, and
    the citations, each once, numbered in the order the rules first cite them."""
    references = list(dict.fromkeys(rule.citation for rule in guidance))
    return [(rule, references.index(rule.citation) + 1) for rule in guidance], references


def patient_page(values: pd.Series, predictions: PatientPredictions | None,
                 run: TrainingRun | None, hidden: frozenset[str] = frozenset()) -> dict:
    context = {"groups": observed_groups(values, hidden)}
    if predictions is None:
        context["chart_specs"] = []
        return context
    ranking = ranking_rows(predictions.ranking)
    algorithm = predictions.choice.algorithm
    chart = ranking_chart(ranking, algorithm=algorithm, variant=predictions.variant)
    arms = [{"arm": item.arm, "label": ARM_LABELS[item.arm], "chart": waterfall(item, hidden),
             "narrative": item.narrative, "probability": item.explanation.probability,
             "units": item.explanation.units, "model": item.model,
             "small_sample": bool(item.model.metrics.get("small_sample"))}
            for item in predictions.explanations]
    context.update({
        "ranking": ranking,
        "ranking_chart": chart,
        "explained": arms,
        # Only for readers that may see the truth (``selectors.true_response_probabilities``).
        "truth_rows": (truth_rows(values, predictions.ranking, run, predictions.true_probability)
                       if predictions.true_probability is not None else []),
        "show_truth": predictions.true_probability is not None,
        "truth_known": bool(predictions.true_probability),
        "ranking_algorithm": algorithm,
        "ranking_caption": ranking_caption(algorithm, predictions.variant),
        "ranking_reason": predictions.choice.reason,
        "unreliable_top": unreliable_top(ranking),
        "chart_specs": [chart.as_json(), *(a["chart"].as_json() for a in arms)],
    })
    return context
