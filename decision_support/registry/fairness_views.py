"""The ethics seminar's model pages: one model's fairness audit and its model card.

Both read only what the registry stored at training time (held-out outcomes, predicted
probabilities and group labels; metrics; the run's details) and take the model page's query
(algorithm, variant, threshold). The numbers come from ``models.fairness`` and
``models.model_card``; small cells are shown as ``decision_support.lib.suppression`` says.
The access gate (``accounts.access.POLICIES``) admits the roles.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from decision_support.lib.charts import Chart, bar_chart, interval_chart
from decision_support.lib.suppression import SUPPRESSED, suppress_count, suppress_counts
from decision_support.query_parameters import query_settings
from models.algorithms import ALGORITHM_LABELS
from models.evaluation import AGE_BANDS, SMALL_TEST_SET
from models.fairness import METRIC_LABELS, METRICS, MIN_GROUP, fairness_audit
from models.model_card import model_card as build_model_card
from synthetic_data import ARMS, ARM_LABELS

from . import pages
from .forms import ModelPageForm
from .models import TrainedModel, TrainingRun
from .selectors import latest_run, model_truth_check, run_validation

RETRAIN_MESSAGE = ("This run was trained before held-out patients' sex, ancestry and age band were "
                   "stored, so its fairness cannot be audited. Train the cohort again to see it.")
# Metrics shown as percentages (rates and probabilities); ROC AUC and Brier are shown as numbers.
PERCENT_METRICS = frozenset({"true_positive_rate", "false_positive_rate", "selection_rate",
                             "mean_predicted", "observed_rate"})
AGE_BAND_NOTE = ", ".join(label for _, label in AGE_BANDS)
# A group's size hidden by complementary suppression: not small, so it must not read "<11".
SIZE_HIDDEN = "hidden"
SIZE_HIDDEN_NOTE = ("Patients \"hidden\" ({groups}): not small groups; their sizes are hidden so "
                    "that the size of {small} cannot be worked out from the total.")
HIDDEN_ON_CHART = "{group} (hidden)"
PARTLY_HIDDEN_ON_CHART = "{group} (partly hidden)"
NOT_DRAWN = "Not drawn: {groups}."
# Audits kept per process (each ~0.8 s to compute): a class looks at a few models and thresholds.
AUDIT_CACHE_SIZE = 64


def _chosen_model(request, run_id: int, arm: str):
    """The run, the model the query selects (as on the model page), the form and its errors."""
    run = get_object_or_404(TrainingRun.objects.select_related("cohort"), pk=run_id)
    if arm not in ARMS:
        raise Http404("unknown arm")
    form, chosen, errors = query_settings(ModelPageForm, request.GET)
    model = TrainedModel.objects.filter(run=run, arm=arm, algorithm=chosen["algorithm"],
                                        variant=chosen["variant"]).first()
    if model is None:
        raise Http404("no such model")
    return run, model, form, chosen, errors


def stored_audit(model: TrainedModel, threshold: float, *, seed: int) -> dict | None:
    """The fairness audit of a stored model's held-out predictions; ``None`` for a run trained
    before group labels were stored. Computed once per process (``_audit``): the same for every
    user, so the pages only read it, never change it."""
    if not model.evaluation.get("test_groups"):
        return None
    return _audit(model.pk, model.artifact_id, float(threshold), seed)


@lru_cache(maxsize=AUDIT_CACHE_SIZE)
def _audit(model_pk: int, artifact_id: str, threshold: float, seed: int) -> dict:
    """Keyed by the registry row and its artifact's digest (a row and its stored evaluation are
    written once, at training), the threshold and the bootstrap seed. Model-level aggregates only:
    no patient's data is kept."""
    evaluation, metrics = TrainedModel.objects.values_list("evaluation", "metrics").get(pk=model_pk)
    return fairness_audit(evaluation["test_outcomes"], evaluation["test_probabilities"],
                          evaluation["test_groups"], threshold=threshold, random_state=seed,
                          stored_metrics=metrics)  # overall AUC and Brier as every surface shows


def _page_context(run, model, form, chosen, errors) -> dict:
    query = urlencode({"algorithm": model.algorithm, "variant": model.variant,
                       "threshold": f"{chosen['threshold']:.2f}"})
    return {
        "run": run, "cohort": run.cohort, "model": model, "arm": model.arm,
        "arm_label": ARM_LABELS[model.arm],
        "algorithm_label": ALGORITHM_LABELS[model.algorithm],
        "variant_label": pages.VARIANT_LABELS[model.variant],
        "form": form, "form_errors": errors, "threshold": chosen["threshold"],
        "is_latest": latest_run(run.cohort) == run,
        "model_url": f"{reverse('model_detail', args=[run.pk, model.arm])}?{query}",
        "fairness_url": f"{reverse('model_fairness', args=[run.pk, model.arm])}?{query}",
        "card_url": f"{reverse('model_card', args=[run.pk, model.arm])}?{query}",
        "retrain_message": RETRAIN_MESSAGE, "min_group": MIN_GROUP, "age_bands": AGE_BAND_NOTE,
        "small_test_set": SMALL_TEST_SET,
    }


# --- display: every hidden value reads "<11" (a size hidden to protect another: "hidden") -----


def _format(metric: str, value) -> str:
    if value is None:
        return SUPPRESSED
    return f"{value * 100:.1f}%" if metric in PERCENT_METRICS else f"{value:.3f}"


def _cell(metric: str, value, interval, reason) -> dict:
    if reason or value is None:
        return {"value": SUPPRESSED, "ci": "", "reason": reason or "", "hidden": True}
    ci = (f"{_format(metric, interval[0])}\u2060\u2013\u2060{_format(metric, interval[1])}"
          if interval else "")
    return {"value": _format(metric, value), "ci": ci, "reason": "", "hidden": False}


def attribute_tables(audit: dict) -> list[dict]:
    """Per attribute: rows of groups (size with complementary suppression, each metric with its
    interval or "<11"), and the differences and ratios between the shown groups."""
    tables = []
    for attribute, info in audit["attributes"].items():
        sizes = suppress_counts([g["n"] for g in info["groups"]], total_shown=True)
        rows = [{"group": g["group"], "small": g["small"], "imprecise": g["imprecise"],
                 "n": SIZE_HIDDEN if sizes.protecting(0, i) else sizes.cell(0, i),
                 "cells": [_cell(m, g["metrics"][m], g["ci"][m], g["hidden"][m]) for m in METRICS]}
                for i, g in enumerate(info["groups"])]
        protecting = [g["group"] for i, g in enumerate(info["groups"]) if sizes.protecting(0, i)]
        between = [{"metric": m, "label": METRIC_LABELS[m],
                    "difference": _gap(m, info["differences"][m]),
                    "ratio": "–" if info["ratios"][m] is None else f"{info['ratios'][m]:.3f}",
                    "compared": ", ".join(info["compared"][m]) or "–"}
                   for m in METRICS]
        tables.append({"attribute": attribute, "label": info["label"], "rows": rows,
                       "between": between,
                       "flagged": [r["group"] for r in rows if r["small"]],
                       "absent": info.get("absent", []),
                       "imprecise": [r["group"] for r in rows if r["imprecise"]],
                       "size_note": (SIZE_HIDDEN_NOTE.format(
                           groups=", ".join(protecting),
                           small=", ".join(r["group"] for r in rows if r["small"]))
                           if protecting else ""),
                       "partly_hidden": [r["group"] for r in rows
                                         if not r["small"] and any(c["hidden"] for c in r["cells"])]})
    return tables


def _gap(metric: str, value) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.1f} pp" if metric in PERCENT_METRICS else f"{value:.3f}"


def _suppress_table_cells(chart: Chart, hidden: list[list[bool]]) -> Chart:
    """The chart's table shows "<11" where a value is hidden (the chart draws nothing there)."""
    for row, flags in zip(chart.table_rows, hidden):
        for j, flag in enumerate(flags, start=1):
            if flag:
                row[j] = SUPPRESSED
    return chart


def _chart_groups(groups: list[dict], metrics: tuple[str, ...]) -> tuple[list[str], str]:
    """A chart's groups as its axis names them, "(hidden)" or "(partly hidden)" added where all or
    some of ``metrics`` are not drawn, and the sentence saying why for each such group: no group
    is silently blank."""
    names, reasons = [], []
    for g in groups:
        hidden = {m: g["hidden"][m] for m in metrics if g["metrics"][m] is None}
        if not hidden:
            names.append(g["group"])
            continue
        names.append((HIDDEN_ON_CHART if len(hidden) == len(metrics) else PARTLY_HIDDEN_ON_CHART)
                     .format(group=g["group"]))
        why = "; ".join(dict.fromkeys(
            reason if len(metrics) == 1 else f"{METRIC_LABELS[m].lower()}: {reason}"
            for m, reason in hidden.items()))
        reasons.append(f"{g['group']} ({why})")
    return names, NOT_DRAWN.format(groups=", ".join(reasons)) if reasons else ""


def attribute_charts(audit: dict) -> list[Chart]:
    """Per attribute: ROC AUC with its interval, TPR beside FPR, and calibration per group."""
    charts = []
    threshold = audit["threshold"]
    for attribute, info in audit["attributes"].items():
        groups = info["groups"]
        label = info["label"].lower()

        def values(metric):
            return [g["metrics"][metric] for g in groups]

        def bound(metric, k):
            return [g["ci"][metric][k] if g["ci"][metric] else None for g in groups]

        names, not_drawn = _chart_groups(groups, ("roc_auc",))
        auc = interval_chart(
            f"fairness-auc-{attribute}", f"ROC AUC by {label}, with 95% interval", info["label"],
            "ROC AUC", names, values("roc_auc"), bound("roc_auc", 0), bound("roc_auc", 1),
            percent=False,
            caption=(f"Held-out patients of each group; groups or classes under {MIN_GROUP} "
                     f"patients are not drawn and read <11 in the table. {not_drawn}").strip())
        hidden = [[g["metrics"]["roc_auc"] is None] * 3 for g in groups]
        charts.append(_suppress_table_cells(auc, hidden))
        rate_metrics = ("true_positive_rate", "false_positive_rate")
        names, not_drawn = _chart_groups(groups, rate_metrics)
        rates = bar_chart(
            f"fairness-rates-{attribute}",
            f"True- and false-positive rates by {label} at threshold {threshold:.2f}",
            info["label"], "Rate", names,
            {"True-positive rate": values("true_positive_rate"),
             "False-positive rate": values("false_positive_rate")}, percent=True,
            caption=("Equal opportunity compares true-positive rates; equalised odds compares "
                     f"both. {not_drawn}").strip())
        charts.append(_suppress_table_cells(rates, [[g["metrics"][m] is None for m in rate_metrics]
                                                    for g in groups]))
        calibration_metrics = ("mean_predicted", "observed_rate")
        names, not_drawn = _chart_groups(groups, calibration_metrics)
        calibration = bar_chart(
            f"fairness-calibration-{attribute}", f"Calibration by {label}", info["label"],
            "Response rate", names,
            {"Mean predicted probability": values("mean_predicted"),
             "Observed response rate": values("observed_rate")}, percent=True,
            caption=("A well-calibrated model predicts, on average, the rate it observes in each "
                     f"group. {not_drawn}").strip())
        charts.append(_suppress_table_cells(calibration, [[g["metrics"][m] is None for m in
                                                           calibration_metrics]
                                                          for g in groups]))
    return charts


def model_fairness(request, run_id: int, arm: str):
    run, model, form, chosen, errors = _chosen_model(request, run_id, arm)
    context = _page_context(run, model, form, chosen, errors)
    audit = stored_audit(model, chosen["threshold"], seed=run.seed)
    charts = attribute_charts(audit) if audit else []
    context.update({
        "audit": audit,
        "metric_labels": [METRIC_LABELS[m] for m in METRICS],
        "tables": attribute_tables(audit) if audit else [],
        "overall": ([{"label": METRIC_LABELS[m], **_cell(m, audit["overall"]["metrics"][m],
                                                         audit["overall"]["ci"][m],
                                                         audit["overall"]["hidden"][m])}
                     for m in METRICS] if audit else []),
        "charts": charts,
        "chart_specs": [c.as_json() for c in charts],
    })
    return render(request, "registry/fairness.html", context)


# --- the model card ----------------------------------------------------------------------------


def model_card(request, run_id: int, arm: str):
    run, model, form, chosen, errors = _chosen_model(request, run_id, arm)
    context = _page_context(run, model, form, chosen, errors)
    audit = stored_audit(model, chosen["threshold"], seed=run.seed)
    facts = pages.model_facts(model, truth_check=model_truth_check(model, roles=request.roles))
    card = build_model_card(run=pages.run_facts(run), model=facts, fairness=audit,
                            validation=run_validation(run).for_models([model]))
    overall = [{**row,
                "shown": f"{row['value']:.3f}",
                "ci": (f"{row['low']:.3f}\u2060\u2013\u2060{row['high']:.3f}"
                       if row["low"] is not None else
                       (f"± {row['sd']:.3f} (SD over folds)" if row["sd"] is not None else ""))}
               for row in card["metrics"]["overall"]]
    excluded = card["consent"]["excluded"]
    context.update({
        "card": card, "overall": overall,
        "travel_url": (reverse("run_travel", args=[run.pk])
                       if card["validation"]["multi_site"] else None),
        "at_threshold": [{"label": row["label"], **_cell(row["key"], row["value"], row["ci"],
                                                         row["hidden"])}
                         for row in card["metrics"].get("at_threshold", [])],
        "metric_labels": [METRIC_LABELS[m] for m in METRICS],
        "tables": attribute_tables(audit) if audit else [],
        "excluded": suppress_count(excluded) if excluded is not None else None,
        "excluded_by_variant": [(v, suppress_count(n)) for v, n in
                                card["consent"]["by_variant"].items()],
    })
    return render(request, "registry/model_card.html", context)
