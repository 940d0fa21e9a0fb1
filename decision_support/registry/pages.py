"""What the model pages show: tables and chart specs built from the registry.

The views stay thin: they validate the query, fetch rows and hand them here. Every chart is a
``decision_support.lib.charts.Chart`` and so carries the table the page shows beside it.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import asdict, replace

import numpy as np

from decision_support.lib.charts import (Chart, bar_chart, beeswarm_chart, interval_chart,
                                         line_chart, plain)
from decision_support.lib.suppression import suppress_count
from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from models.evaluation import confusion_at
from models.external import EXTERNAL, INTERNAL
from models.features import NOT_MODEL_INPUTS, VARIANT_LABELS, VARIANTS
from models.policy import POLICIES
from models.ranking import ACTIVE_ARMS, RANKING_ALGORITHM
from models.truth import CREDITED_TOP, DECOYS, MEASURES, NOISE_AUC
from synthetic_data import ARMS, ARM_LABELS, DATA_DICTIONARY

from .models import TrainedModel, TrainingRun
from .selectors import RECALIBRATED_VARIANT


# A random forest averages probabilities, so its exact SHAP values are in probability units;
# the other algorithms are explained on the log-odds scale (see models.explain.Explanation).
SHAP_UNITS = {"random_forest": "probability"}


def shap_units(algorithm: str) -> str:
    return SHAP_UNITS.get(algorithm, "log-odds")


def units_note(algorithm: str) -> str:
    if shap_units(algorithm) == "probability":
        return ("SHAP values of a random forest are in probability units: the base value and the "
                "contributions add up to the predicted probability of response.")
    return (f"SHAP values of {ALGORITHM_LABELS[algorithm].lower()} are in log-odds: the base value "
            "and the contributions add up to the model's log-odds of response, which the logistic "
            "function turns into a probability. (Random forest explanations are in probability "
            "units instead, so the scales differ between algorithms.)")


def _label(feature: str) -> str:
    variable = DATA_DICTIONARY.get(feature)
    return variable.label if variable else feature


def _order(model: TrainedModel) -> tuple[int, int, int]:
    return ARMS.index(model.arm), ALGORITHMS.index(model.algorithm), VARIANTS.index(model.variant)


def model_summary(model: TrainedModel) -> dict:
    """A model's held-out metrics as one table row."""
    m = model.metrics
    return {
        "model": model,
        "arm": model.arm,
        "arm_label": ARM_LABELS[model.arm],
        "algorithm": model.algorithm,
        "algorithm_label": ALGORITHM_LABELS[model.algorithm],
        "variant": model.variant,
        "variant_label": VARIANT_LABELS[model.variant],
        "roc_auc": m["roc_auc"], "roc_auc_low": m["roc_auc_low"], "roc_auc_high": m["roc_auc_high"],
        "balanced_accuracy": m["balanced_accuracy"],
        "brier": m["brier"],
        "cv_roc_auc_mean": m.get("cv_roc_auc_mean"), "cv_roc_auc_sd": m.get("cv_roc_auc_sd"),
        "n_train": m.get("n_train"), "n_test": m["n_test"],
        "small_sample": bool(m.get("small_sample")),
        # Preformatted so that a narrow table cell does not break them.
        "auc_ci": f"{m['roc_auc_low']:.3f}\u2060\u2013\u2060{m['roc_auc_high']:.3f}",
        "cv_auc": (f"{m['cv_roc_auc_mean']:.3f}\u00a0±\u00a0{m['cv_roc_auc_sd']:.3f}"
                   if m.get("cv_roc_auc_mean") is not None else "–"),
    }


def run_models(run: TrainingRun) -> list[dict]:
    """Every model of a run in arm, algorithm, variant order."""
    return [model_summary(m)
            for m in sorted(run.models.only(*TrainedModel.SUMMARY_FIELDS), key=_order)]


def run_arms(rows: list[dict]) -> list[dict]:
    """The arms that have models, in ARMS order, each with its models' best held-out AUC."""
    arms = []
    for arm in ARMS:
        mine = [r for r in rows if r["arm"] == arm]
        if mine:
            arms.append({"arm": arm, "label": ARM_LABELS[arm], "n_models": len(mine),
                         "best_auc": max(r["roc_auc"] for r in mine),
                         "small_sample": any(r["small_sample"] for r in mine)})
    return arms


def split_exclusions(run: TrainingRun) -> list[dict]:
    """Per variant, the training and held-out patients left out for lack of consent (small
    counts hidden); empty for a run trained before they were recorded."""
    return [{"variant": v, "variant_label": VARIANT_LABELS[v],
             "training": suppress_count(run.excluded_by_split[v]["training"]),
             "held_out": suppress_count(run.excluded_by_split[v]["held_out"])}
            for v in VARIANTS if v in run.excluded_by_split]


def policy_exclusions(policy: dict) -> int | str | None:
    """The held-out patients the policy value left out for lack of consent (a small count
    hidden); ``None`` for a run trained before they were recorded."""
    return suppress_count(policy["n_excluded"]) if "n_excluded" in policy else None


POLICY_LABELS = {"oracle": "Oracle (truly best arm)", "model": "Model's top-ranked arm",
                 "best_single": "Best single treatment for everyone",
                 "random": "Random eligible arm"}
POLICY_GROUPS = {"first_line": "first-line patients",
                 "treatment_resistant": "treatment-resistant patients (2+ prior failures)"}


def policy_rows(policy: dict) -> list[dict]:
    """The stored policies in ``models.policy.POLICIES`` order, each with its interval; a run
    trained before intervals and the best single treatment were stored has three, without."""
    intervals = policy.get("intervals", {})
    return [{"policy": name, "label": POLICY_LABELS[name], "value": policy[name],
             "low": intervals[name][0] if name in intervals else None,
             "high": intervals[name][1] if name in intervals else None}
            for name in POLICIES if name in policy]


def policy_best_arms(policy: dict) -> list[tuple[str, str]]:
    """The best single treatment's arm for each group of patients that has one (labelled)."""
    groups = policy.get("groups", {})
    return [(POLICY_GROUPS[group], ARM_LABELS[groups[group]["arm"]])
            for group in POLICY_GROUPS if groups.get(group, {}).get("arm")]


def policy_chart(policy: dict) -> Chart | None:
    """The four policies with their intervals; None for a run stored without intervals."""
    if "intervals" not in policy:
        return None
    rows = policy_rows(policy)
    return interval_chart(
        "policy-value", "Expected response rate under four ways of choosing a treatment",
        "Policy", "Expected response rate", [r["label"] for r in rows], [r["value"] for r in rows],
        [r["low"] for r in rows], [r["high"] for r in rows],
        caption=(f"{policy['n_patients']:,} held-out patients, scored with their true response "
                 "probabilities (known only to the simulation), with "
                 f"{policy['interval_level']:.0%} bootstrap intervals over the patients."))


def policy_choice_shares(shares: dict[str, float]) -> list[tuple[str, float]]:
    return [(ARM_LABELS[arm], shares[arm]) for arm in ACTIVE_ARMS if arm in shares]


# --- model page ---------------------------------------------------------------------------


def confusion(model: TrainedModel, threshold: float) -> dict:
    """The held-out confusion matrix at a threshold, with sensitivity and specificity."""
    y = np.asarray(model.evaluation["test_outcomes"])
    p = np.asarray(model.evaluation["test_probabilities"])
    cells = confusion_at(y, p, float(threshold))
    tp, fp = cells["true_positive"], cells["false_positive"]
    fn, tn = cells["false_negative"], cells["true_negative"]
    return {
        **cells,
        "threshold": float(threshold),
        "n": tp + fp + fn + tn,
        "actual_positive": tp + fn, "actual_negative": fp + tn,
        "predicted_positive": tp + fp, "predicted_negative": fn + tn,
        "sensitivity": tp / (tp + fn) if tp + fn else None,
        "specificity": tn / (tn + fp) if tn + fp else None,
        "ppv": tp / (tp + fp) if tp + fp else None,
        "npv": tn / (tn + fn) if tn + fn else None,
    }


# The ROC table's rows: per false positive rate allowed, the curve's best operating point.
ROC_TABLE_FPR = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
ROC_TABLE_NOTE = ("For each false positive rate allowed, the point of the curve with the highest "
                  "true positive rate at or below it (of the {n} points the chart draws); the last "
                  "row is the operating point at this page's threshold, as in the confusion "
                  "matrix below.")


def roc_operating_points(fpr: list[float], tpr: list[float]) -> list[tuple[float, float]]:
    """Per rate of ``ROC_TABLE_FPR``, the point of the curve (``fpr`` ascending, as
    ``sklearn.metrics.roc_curve`` gives it, from (0, 0)) with the highest true positive rate
    among those whose false positive rate is at most that rate."""
    return [(fpr[i], tpr[i]) for i in (bisect_right(fpr, rate) - 1 for rate in ROC_TABLE_FPR)]


def roc_chart(model: TrainedModel) -> Chart:
    """The held-out ROC curve, every stored point drawn; its table the operating points
    (``roc_operating_points``)."""
    roc = model.evaluation["roc"]
    chart = line_chart(
        "roc", "ROC curve on held-out patients", "False positive rate (1 - specificity)",
        "True positive rate (sensitivity)", {"Model": (roc["fpr"], roc["tpr"])}, diagonal=True,
        caption=(f"ROC AUC {model.metrics['roc_auc']:.3f}; the dotted diagonal is a model that "
                 "guesses."))
    curve = chart.traces[0]
    points = roc_operating_points(curve["x"], curve["y"])
    return replace(chart,
                   table_columns=["False positive rate allowed", chart.x_title, chart.y_title],
                   table_rows=[[f"at most {rate:.0%}", x, y]
                               for rate, (x, y) in zip(ROC_TABLE_FPR, points)],
                   table_note=ROC_TABLE_NOTE.format(n=len(curve["x"])))


def threshold_point(chart: Chart, confusion: dict) -> Chart:
    """The ROC chart (``roc_chart``) with its table's last row: the operating point at the
    page's threshold (``confusion``), rounded as the stored curve is."""
    negatives = confusion["actual_negative"]
    row = [f"at threshold {confusion['threshold']:.2f}",
           plain(confusion["false_positive"] / negatives) if negatives else None,
           plain(confusion["sensitivity"])]
    return replace(chart, table_rows=[*chart.table_rows, row])


def calibration_chart(model: TrainedModel, truth_check: dict | None) -> Chart:
    """Predicted against observed; beside it, against the true probabilities when the reader may
    see ``truth_check`` (``selectors.model_truth_check``)."""
    calibration = model.evaluation["calibration"]
    series = {"Observed response rate": (calibration["predicted"], calibration["observed"])}
    against_truth = (truth_check or {}).get("calibration_against_truth")
    if against_truth:
        series["True response probability"] = (against_truth["predicted"], against_truth["true"])
    return line_chart(
        "calibration", "Calibration: predicted against observed", "Mean predicted probability",
        "Response rate", series, diagonal=True,
        caption=("Held-out patients in five equal-sized groups by predicted probability. On the "
                 "dotted diagonal the predictions would be exactly right"
                 + ("; the true series uses each patient's true response probability from the "
                    "simulation." if against_truth else ".")))


IMPORTANCE_CAPTION = ("How much each feature moves this model's output on average, over held-out "
                      "patients. Importance is not effect{}")


def importance_chart(model: TrainedModel) -> Chart:
    """Mean |SHAP| per feature, most important first; the caption points to the truth check
    only where the page shows it (``model_page``)."""
    importance = sorted(model.explanation["global_importance"].items(), key=lambda kv: -kv[1])
    units = shap_units(model.algorithm)
    return bar_chart(
        "global-shap", "Global importance: mean absolute SHAP value", "Feature",
        f"Mean |SHAP| ({units})", [_label(f) for f, _ in importance],
        {"Mean |SHAP|": [v for _, v in importance]}, caption=IMPORTANCE_CAPTION.format("."))


def model_beeswarm(model: TrainedModel) -> Chart | None:
    data = model.explanation.get("beeswarm") or {}
    if not data.get("features"):
        return None
    return beeswarm_chart(
        "beeswarm", "SHAP values per held-out patient (beeswarm)", features=data["features"],
        labels={f: _label(f) for f in data["features"]}, shap=data["shap"], colour=data["colour"],
        units=shap_units(model.algorithm),
        caption=("One dot per held-out patient for the ten most important features; colour is "
                 "the feature's value within the sample (blue low, red high). Dots right of zero "
                 "raised the predicted response."))


# The model page's charts that depend on the stored model alone are drawn once and stored
# (``models.ModelCharts``, ``services.model_charts``). Raise the version when what they show
# changes: charts stored by another version are drawn again.
MODEL_CHARTS_VERSION = 1


def model_charts_content(model: TrainedModel) -> list[dict]:
    """The ROC curve, global importance and beeswarm of ``model`` as ``ModelCharts`` stores
    them: JSON (through it already, so that a first view shows what later ones read back)."""
    charts = [roc_chart(model), importance_chart(model), model_beeswarm(model)]
    return json.loads(json.dumps([asdict(c) for c in charts if c is not None], allow_nan=False))


def read_model_charts(content: list[dict]) -> dict[str, Chart]:
    """Stored charts (``model_charts_content``) by id."""
    return {c["id"]: Chart(**c) for c in content}


def truth_check(check: dict | None) -> dict | None:
    """The truth check (``selectors.model_truth_check``) as table rows, a chart of model vs true
    shares, the latent notes and the true drivers the model does not use."""
    if not check:
        return None
    features = [{**row, "flagged": bool(row["flag"]), "evidence": _evidence(row)}
                for row in check["features"]]
    unobserved = []
    for item in check.get("unobserved", []):
        proxies = [_label(observed) for observed, latent in MEASURES.items()
                   if latent == item["feature"]]
        unobserved.append({**item, "proxies": proxies})
    # Runs trained before the check listed them have no "not_used" (sex was left out).
    not_used = [{**item, "reason": NOT_A_MODEL_INPUT if item["feature"] in NOT_MODEL_INPUTS
                 else LEFT_OUT_BY_VARIANT} for item in check.get("not_used", [])]
    chart = bar_chart(
        "truth-shares", "Share of importance: the model against the truth", "Feature",
        "Share of total importance",
        [row["label"] for row in features] + [f"{u['label']} (not observed)" for u in unobserved]
        + [f"{u['label']} (not used)" for u in not_used],
        {"Model's share": [row["model_share"] for row in features]
         + [None] * (len(unobserved) + len(not_used)),
         "True share": [row["true_share"] for row in features]
         + [u["true_share"] for u in unobserved + not_used]},
        percent=True,
        caption=("Each feature's share of the model's total mean |SHAP| beside its share of the "
                 "true effects in the simulation (exact true SHAP values). Drivers the model does "
                 "not see or use have no model share."))
    level = check.get("flag_level")
    return {
        "features": features,
        "n_flagged": sum(row["flagged"] for row in features),
        "unobserved": unobserved,
        "not_used": not_used,
        "stand_ins": _stand_ins(),
        "flag_level": level,
        # Runs trained before flags needed held-out evidence flagged every candidate.
        "flag_rule": FLAG_RULE.format(top=CREDITED_TOP, level=f"{level:.0%}", noise=NOISE_AUC)
        if level else OLD_FLAG_RULE.format(top=CREDITED_TOP),
        "chart": chart,
        "oracle_roc_auc": check.get("oracle_roc_auc"),
        "mae_pp": _points(check.get("mean_absolute_error_vs_true_probability")),
    }


FLAG_RULE = ("A flag marks a feature among the model's {top} most credited that has no true effect "
             "of its own, and only when the credit is more than noise: ranking held-out patients "
             "by the feature's SHAP values separates responders from non-responders, the lower "
             "end of the {level} bootstrap interval of that AUC lying above {noise}, where a "
             "pure-noise feature sits.")
OLD_FLAG_RULE = ("A flag marks a feature among the model's {top} most credited that has no true "
                 "effect of its own (this run was trained before flags needed held-out evidence, "
                 "so noise is flagged as readily as a decoy).")
NOT_A_MODEL_INPUT = "not a model input: kept out of the models for the fairness audit"
LEFT_OUT_BY_VARIANT = "left out of this variant"


def _stand_ins() -> list[dict]:
    """Per latent driver, the observed variables that stand in for it (``MEASURES``)."""
    stand_ins = []
    for latent in dict.fromkeys(MEASURES.values()):
        proxies = [f for f, measured in MEASURES.items() if measured == latent]
        stand_ins.append({"latent": _label(latent), "proxies": [_label(f) for f in proxies],
                          "decoys": set(proxies) <= set(DECOYS)})
    return stand_ins


def _evidence(row: dict) -> str:
    """A flag candidate's held-out AUC with its interval ("" for other rows)."""
    if row.get("held_out_auc") is None:
        return ""
    return (f"{row['held_out_auc']:.2f} "
            f"({row['held_out_auc_low']:.2f}\u2060\u2013\u2060{row['held_out_auc_high']:.2f})")


def truth_summary(check: dict | None) -> dict | None:
    """What a model credits most (its top features, flags marked) and what truly drives response
    (the largest true shares, unobserved and unused drivers included), for a side-by-side view."""
    if not check:
        return None
    credited = [{"label": row["label"], "share": row["model_share"], "flagged": bool(row["flag"])}
                for row in check["features"][:CREDITED_TOP]]
    drivers = ([{"label": row["label"], "share": row["true_share"], "note": ""}
                for row in check["features"]]
               + [{"label": u["label"], "share": u["true_share"], "note": "not observed"}
                  for u in check.get("unobserved", [])]
               + [{"label": u["label"], "share": u["true_share"], "note": "not used"}
                  for u in check.get("not_used", [])])
    drivers = sorted((d for d in drivers if d["share"] > 0), key=lambda d: -d["share"])
    return {"credited": credited, "drivers": drivers[:CREDITED_TOP]}


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} pp"


def model_page(model: TrainedModel, siblings: list[TrainedModel], threshold: float, *,
               charts: dict[str, Chart], truth_check_shown: dict | None) -> dict:
    """The model page; ``charts`` are the model's stored ones (``services.model_charts``),
    ``truth_check_shown`` what ``selectors.model_truth_check`` gave the reader (None: nothing
    computed from the truth is shown; {}: there is no truth)."""
    truth = truth_check(truth_check_shown)
    matrix = confusion(model, threshold)
    evaluation_charts = [threshold_point(charts["roc"], matrix),
                         calibration_chart(model, truth_check_shown)]
    importance = charts["global-shap"]
    if truth is not None:
        importance = replace(importance, caption=IMPORTANCE_CAPTION.format(
            ": see the truth check below."))
    explanation_charts = [importance] + ([charts["beeswarm"]] if "beeswarm" in charts else [])
    all_charts = evaluation_charts + explanation_charts + ([truth["chart"]] if truth else [])
    return {
        "summary": model_summary(model),
        "comparison": [model_summary(m) for m in sorted(siblings, key=_order)],
        "evaluation_charts": evaluation_charts,
        "explanation_charts": explanation_charts,
        "confusion": matrix,
        "truth": truth,
        "truth_visible": truth_check_shown is not None,
        "units": shap_units(model.algorithm),
        "units_note": units_note(model.algorithm),
        "chart_specs": [chart.as_json() for chart in all_charts],
    }


# --- the model card ------------------------------------------------------------------------------


def run_facts(run: TrainingRun) -> dict:
    """A training run as the plain dict ``models.model_card.model_card`` takes."""
    return {"id": run.pk, "created": f"{run.created_at:%Y-%m-%d %H:%M} UTC", "cohort": run.cohort.name,
            "scenario": run.scenario, "seed": run.seed, "n_patients": run.n_patients,
            "library_versions": run.library_versions, "excluded_by_consent": run.excluded_by_consent,
            "skipped_arms": run.skipped_arms}


def model_facts(model: TrainedModel, *, truth_check: dict | None) -> dict:
    """A registry row as the plain dict ``models.model_card.model_card`` takes, with the truth
    check ``selectors.model_truth_check`` gave the reader (None: not shown)."""
    return {"arm": model.arm, "algorithm": model.algorithm, "variant": model.variant,
            "features": model.features, "metrics": model.metrics, "evaluation": model.evaluation,
            "truth_check": truth_check}


# --- "Does it travel?" ------------------------------------------------------------------------

TRAVEL_FIGURES = ("roc_auc", "calibration_in_the_large", "calibration_slope", "brier")


def _figure(figures: dict, name: str) -> dict:
    """One figure with its interval (None where the site could not estimate it)."""
    return {"value": figures.get(name), "low": figures.get(f"{name}_low"),
            "high": figures.get(f"{name}_high")}


def travel_rows(models: list[dict]) -> list[dict]:
    """Per model of one site's stored external validation, in arm, algorithm, variant order:
    each figure internal (held out at the development site) beside external (this site), the
    AUC's change, and the patients each was computed on (small counts hidden)."""
    rows = []
    for m in sorted(models, key=lambda m: (ARMS.index(m["arm"]), ALGORITHMS.index(m["algorithm"]),
                                           VARIANTS.index(m["variant"]))):
        internal, external = m["internal"], m["external"]
        auc_change = (None if None in (internal["roc_auc"], external["roc_auc"])
                      else external["roc_auc"] - internal["roc_auc"])
        rows.append({
            "arm": m["arm"], "arm_label": ARM_LABELS[m["arm"]], "algorithm": m["algorithm"],
            "algorithm_label": ALGORITHM_LABELS[m["algorithm"]],
            "variant": m["variant"], "variant_label": VARIANT_LABELS[m["variant"]],
            "figures": [{"name": name, "internal": _figure(internal, name),
                         "external": _figure(external, name)} for name in TRAVEL_FIGURES],
            "auc_change": auc_change,
            "n_internal": suppress_count(internal["n_test"]),
            "n_external": suppress_count(external["n_test"]),
        })
    return rows


def travel_exclusions(excluded: dict[str, int]) -> list[tuple[str, int | str]]:
    """Per variant, the other site's patients consent left out (small counts hidden)."""
    return [(v, suppress_count(excluded[v])) for v in VARIANTS if v in excluded]


def travel_calibration_charts(site: str, site_label: str, development_label: str,
                              models: list[dict]) -> list[Chart]:
    """Per arm, the ranking model's (all data: the model the recalibration control recalibrates)
    calibration curve at the development site (held out) beside the one at ``site``."""
    charts = []
    for m in sorted(models, key=lambda m: ARMS.index(m["arm"])):
        if (m["algorithm"], m["variant"]) != (RANKING_ALGORITHM, RECALIBRATED_VARIANT):
            continue
        internal, external = m["internal"]["calibration"], m["external"]["calibration"]
        charts.append(line_chart(
            f"calibration-{site}-{m['arm']}", f"{ARM_LABELS[m['arm']]}: calibration at both sites",
            "Mean predicted probability", "Observed response rate",
            {f"{development_label} (internal)": (internal["predicted"], internal["observed"]),
             f"{site_label} (external)": (external["predicted"], external["observed"])},
            diagonal=True,
            caption=(f"{ALGORITHM_LABELS[RANKING_ALGORITHM]} on all data: patients in equal-sized "
                     "groups by predicted probability at each site. On the dotted diagonal the "
                     "predictions would be exactly right.")))
    return charts


SHAP_SHIFT_TOP = 8  # features charted per arm, the most important at the development site


def travel_importance(site: str, site_label: str, development_label: str,
                      importance: list[dict]) -> list[dict]:
    """Per arm, the ranking model's mean |SHAP| for its ``SHAP_SHIFT_TOP`` most important
    features at the development site (held out) beside the same at ``site``, as a bar chart
    (with its table), and a sentence computed from them (``importance_shift``)."""
    shown = []
    for m in sorted(importance, key=lambda m: ARMS.index(m["arm"])):
        top = sorted(m["features"], key=lambda f: -f[INTERNAL])[:SHAP_SHIFT_TOP]
        arm_label = ARM_LABELS[m["arm"]]
        chart = bar_chart(
            f"shap-shift-{site}-{m['arm']}", f"{arm_label}: SHAP importance at both sites",
            "Feature", f"Mean |SHAP| ({shap_units(m['algorithm'])})",
            [_label(f["feature"]) for f in top],
            {f"{development_label} (internal)": [f[INTERNAL] for f in top],
             f"{site_label} (external)": [f[EXTERNAL] for f in top]},
            caption=(f"{ALGORITHM_LABELS[m['algorithm']]} on all data: how much each feature "
                     f"moves the prediction on average, over {suppress_count(m['n_internal'])} "
                     f"held-out patients at {development_label} and "
                     f"{suppress_count(m['n_external'])} patients at {site_label} who received "
                     f"the arm; the {len(top)} most important at {development_label}."))
        shown.append({"arm": m["arm"], "chart": chart,
                      "interpretation": importance_shift(top, site_label, development_label)})
    return shown


def importance_shift(features: list[dict], site_label: str, development_label: str) -> str:
    """Which of ``features`` (``{"feature", "internal", "external"}``, most important at the
    development site first) changed its mean |SHAP| most between the sites, by how much, and
    whether the most important feature is the same at both."""
    moved = max(features, key=lambda f: abs(f[EXTERNAL] - f[INTERNAL]))
    before, after = moved[INTERNAL], moved[EXTERNAL]
    change = f" ({after / before - 1:+.0%})" if before else ""
    sentence = (f"Of these {len(features)} features, {_label(moved['feature'])}'s importance "
                f"moved most: {before:.3f} at {development_label}, {after:.3f} at "
                f"{site_label}{change}. ")
    first_here = features[0]["feature"]
    first_there = max(features, key=lambda f: f[EXTERNAL])["feature"]
    if first_here == first_there:
        return sentence + f"Of these, {_label(first_here)} is the most important at both sites."
    return sentence + (f"Of these, the most important is {_label(first_here)} at "
                       f"{development_label}, {_label(first_there)} at {site_label}.")


def recalibration_rows(results: list[dict]) -> list[dict]:
    """Per arm, calibration-in-the-large, slope and ROC AUC before and after recalibration on the
    rest of the site, or why the arm's model could not be recalibrated."""
    rows = []
    for r in sorted(results, key=lambda r: ARMS.index(r["arm"])):
        row = {"arm": r["arm"], "arm_label": ARM_LABELS[r["arm"]], "error": r.get("error")}
        if row["error"] is None:
            # A negative slope reverses every rank: the AUC becomes 1 - AUC.
            row |= {"n_local": r["n_local"], "n_evaluated": suppress_count(r["n_evaluated"]),
                    "intercept": r["intercept"], "slope": r["slope"], "reversed": r["slope"] < 0,
                    "figures": [{"name": name, "before": _figure(r["before"], name),
                                 "after": _figure(r["after"], name)}
                                for name in ("calibration_in_the_large", "calibration_slope",
                                             "roc_auc")]}
        rows.append(row)
    return rows
