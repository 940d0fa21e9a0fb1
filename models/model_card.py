"""Model cards generated from a stored model and its training run, never typed by hand.

The sections follow the Model Card Toolkit (Mitchell et al. 2019): model details and version,
intended and out-of-scope use, training data and scenario, consent exclusions, quantitative
analysis (metrics with intervals, overall and by subgroup), limitations, ethical considerations
and trade-offs. ``model_card`` takes plain dicts (what the registry stores), so a notebook or a
printable case packet can build the same card, or an excerpt of it, without Django.
"""

from __future__ import annotations

from synthetic_data import ARM_LABELS, DATA_DICTIONARY, TREATMENT_RESISTANT_ARMS
from synthetic_data.scenarios import SCENARIOS

from .algorithms import ALGORITHM_LABELS
from .evaluation import AGE_BANDS, SMALL_TEST_SET
from .fairness import METRIC_LABELS, METRICS, MIN_GROUP

INTENDED_USE = (
    "Teaching: showing students and ethics seminars how a treatment-response model for depression "
    "is built, evaluated and explained, and where it goes wrong, on simulated patients whose true "
    "response probabilities are known.",
    "Discussing fairness, consent, explanation and human oversight with a model whose failures "
    "can be checked against the simulation's ground truth.",
)
OUT_OF_SCOPE_USE = (
    "Any clinical use: the model must never inform the care of a real person. Every patient it "
    "was trained and tested on is simulated.",
    "Research conclusions about real treatments, biomarkers or genes: the effects are those "
    "the simulation was given, some of them assumptions.",
    "Use on real patient data, or on a cohort from another scenario than the one it was "
    "trained on, without retraining and re-evaluating.",
)
OVERALL_METRICS = (
    ("roc_auc", "ROC AUC (held-out)"),
    ("balanced_accuracy", "Balanced accuracy at 0.5"),
    ("brier", "Brier score (lower is better)"),
    ("cv_roc_auc_mean", "Cross-validated ROC AUC (training data)"),
)
NO_GROUPS = ("Subgroup metrics are missing: this run was trained before held-out patients' sex, "
             "ancestry and age band were stored. Retrain to see them.")
# Where a model was validated ("validated at: ..., not at: ...").
VALIDATED_AT = "Validated at: {development} (internal, held-out) and {external} (external)."
VALIDATED_AT_DEVELOPMENT_ONLY = ("Validated at: {development} (internal, held-out) only; not at "
                                 "any other site.")
VALIDATED_AT_ONE_SITE = ("Validated at: one site only (the cohort's own held-out patients); not "
                         "validated at any other site.")
NOT_VALIDATED_AT = "Not validated at {site}: {reason}."
NOT_SCORED = "not scored at this site"
WHY_ONE_SITE = ("Why it matters: held-out patients of the same site share its case mix, its "
                "measurements and its way of recording response, so a model can look good there "
                "and fail at the next clinic. Only about a fifth of psychiatric prediction models "
                "are ever validated externally (Meehan et al. 2022, Molecular Psychiatry).")
WHY_EXTERNAL = ("External figures are over every patient of the other site who received the arm "
                "and whose consent to model training covers the model's data. A lower ROC AUC "
                "there means the model ranks that site's patients worse; a calibration slope "
                "below 1, that its predictions are too extreme for them. Only about a fifth of "
                "psychiatric prediction models are ever validated externally (Meehan et al. "
                "2022, Molecular Psychiatry).")
EXTERNAL_FIGURES = ("roc_auc", "calibration_slope")


def model_card(*, run: dict, model: dict, fairness: dict | None = None,
               validation: dict | None = None) -> dict:
    """The content of one model's card.

    Parameters
    ----------
    run : dict
        The training run: ``id``, ``created`` (text), ``cohort`` (name), ``scenario``, ``seed``,
        ``n_patients``, ``library_versions``, ``excluded_by_consent`` (per variant) and
        ``skipped_arms`` (arm to reason).
    model : dict
        The stored model: ``arm``, ``algorithm``, ``variant``, ``features``, ``metrics``,
        ``evaluation`` and ``truth_check``: ``None`` unless the reader may see the truth check,
        whose flags are then listed among the limitations.
    fairness : dict, optional
        ``models.fairness.fairness_audit`` of the model's held-out predictions; ``None`` when
        the run stored no group labels (the card then says to retrain).
    validation : dict, optional
        Where the model was validated, as ``where_validated`` takes it; ``None``: at one site
        only (its cohort's held-out patients).

    Returns
    -------
    dict
        One key per section: ``details``, ``intended_use``, ``out_of_scope_use``,
        ``training_data``, ``consent``, ``metrics``, ``validation`` (``where_validated``),
        ``limitations``, ``ethical_considerations``, ``tradeoffs``. Metric values are the stored
        ones, unchanged.
    """
    metrics = model["metrics"]
    scenario = SCENARIOS.get(run["scenario"])
    variant = model["variant"]
    excluded = (run.get("excluded_by_consent") or {}).get(variant)
    return {
        "details": {
            "name": f"{model['arm']} · {ALGORITHM_LABELS.get(model['algorithm'], model['algorithm'])}"
                    f" · {variant}",
            "version": f"training run {run['id']}",
            "run_id": run["id"],
            "created": run["created"],
            "arm": model["arm"],
            "algorithm": model["algorithm"],
            "algorithm_label": ALGORITHM_LABELS.get(model["algorithm"], model["algorithm"]),
            "variant": variant,
            "features": [{"name": f, "label": _label(f)} for f in model["features"]],
            "training_seed": run["seed"],
            "library_versions": dict(run.get("library_versions") or {}),
            "output": "Probability that the patient responds to the arm (a 50% fall in HAM-D).",
        },
        "intended_use": list(INTENDED_USE),
        "out_of_scope_use": list(OUT_OF_SCOPE_USE),
        "training_data": {
            "cohort": run["cohort"],
            "scenario": run["scenario"],
            "scenario_title": scenario.title if scenario else run["scenario"],
            "teaching_note": scenario.teaching_note if scenario else "",
            "n_patients": run["n_patients"],
            "n_train": metrics.get("n_train"),
            "n_test": metrics["n_test"],
            "population": (f"Patients of the cohort who received {model['arm']}, split into "
                           "training and held-out test patients (stratified by response)."),
        },
        "consent": {
            "variant": variant,
            "excluded": excluded,
            "by_variant": dict(run.get("excluded_by_consent") or {}),
            "note": ("Patients who did not consent to model training with the data classes this "
                     "variant uses were left out of its training and its evaluation."),
        },
        "metrics": _metrics(metrics, fairness),
        "validation": where_validated(validation),
        "limitations": _limitations(model, run, fairness),
        "ethical_considerations": _ethics(model, run),
        "tradeoffs": _tradeoffs(model),
    }


def where_validated(validation: dict | None) -> dict:
    """Where models were validated: "validated at: ..., not at: ...", why it matters, and each
    model's external ROC AUC and calibration slope (with their intervals) at each other site.

    Parameters
    ----------
    validation : dict or None
        ``development``: the label of the site the models were trained at, None for a cohort of
        one site; ``sites``: per other site its ``site`` (name), ``label`` and ``models``, each
        with ``arm``, ``algorithm``, ``variant``, the stored ``external`` figures (None where
        the site could not score the model) and ``skipped`` (why not, or None). ``None`` is a
        cohort of one site.

    Returns
    -------
    dict
        ``multi_site``, ``development`` (label or None), ``statement``, ``not_at`` (one
        sentence per site and reason a model was not scored there), ``why`` and ``sites``: per
        other site ``site``, ``label`` and ``rows`` (per model: ``arm``, ``arm_label``,
        ``algorithm``, ``variant``, ``scored``, ``reason`` and each of ``EXTERNAL_FIGURES`` as
        ``value``, ``low`` and ``high``, None where not scored).
    """
    development = (validation or {}).get("development")
    if development is None:
        return {"multi_site": False, "development": None, "statement": VALIDATED_AT_ONE_SITE,
                "not_at": [], "why": WHY_ONE_SITE, "sites": []}
    sites, not_at = [], []
    for site in validation["sites"]:
        rows = []
        for m in site["models"]:
            external = m["external"] or {}
            reason = None if m["external"] else (m["skipped"] or NOT_SCORED)
            rows.append({"arm": m["arm"], "arm_label": ARM_LABELS.get(m["arm"], m["arm"]),
                         "algorithm": m["algorithm"], "variant": m["variant"],
                         "scored": reason is None, "reason": reason,
                         **{name: {"value": external.get(name),
                                   "low": external.get(f"{name}_low"),
                                   "high": external.get(f"{name}_high")}
                            for name in EXTERNAL_FIGURES}})
        not_at += [NOT_VALIDATED_AT.format(site=site["label"], reason=reason)
                   for reason in dict.fromkeys(r["reason"] for r in rows if not r["scored"])]
        sites.append({"site": site["site"], "label": site["label"], "rows": rows})
    scored = [s["label"] for s in sites if any(r["scored"] for r in s["rows"])]
    statement = (VALIDATED_AT.format(development=development, external=" and ".join(scored))
                 if scored else VALIDATED_AT_DEVELOPMENT_ONLY.format(development=development))
    return {"multi_site": True, "development": development, "statement": statement,
            "not_at": not_at, "why": WHY_EXTERNAL, "sites": sites}


def _label(feature: str) -> str:
    variable = DATA_DICTIONARY.get(feature)
    return variable.label if variable else feature


def _metrics(metrics: dict, fairness: dict | None) -> dict:
    overall = []
    for key, label in OVERALL_METRICS:
        if metrics.get(key) is None:
            continue
        row = {"key": key, "label": label, "value": metrics[key], "low": None, "high": None,
               "sd": None}
        if key == "roc_auc":
            row["low"], row["high"] = metrics["roc_auc_low"], metrics["roc_auc_high"]
        if key == "cv_roc_auc_mean":
            row["sd"] = metrics.get("cv_roc_auc_sd")
        overall.append(row)
    result = {"overall": overall, "n_test": metrics["n_test"], "subgroups": None,
              "subgroups_missing": NO_GROUPS if fairness is None else "",
              "ci_note": ("ROC AUC interval: percentile bootstrap over the held-out patients, "
                          "stored at training time. Subgroup intervals: percentile bootstrap "
                          "within each group.")}
    if fairness is not None:
        result["threshold"] = fairness["threshold"]
        result["at_threshold"] = [
            {"key": m, "label": METRIC_LABELS[m], "value": fairness["overall"]["metrics"][m],
             "ci": fairness["overall"]["ci"][m], "hidden": fairness["overall"]["hidden"][m]}
            for m in METRICS if m != "roc_auc"]
        result["subgroups"] = [
            {"attribute": attribute, "label": info["label"],
             "groups": info["groups"], "differences": info["differences"],
             "ratios": info["ratios"]}
            for attribute, info in fairness["attributes"].items()]
    return result


def _limitations(model: dict, run: dict, fairness: dict | None) -> list[str]:
    metrics = model["metrics"]
    items = ["Trained and tested on simulated patients only: the numbers describe the simulation, "
             "not any real population."]
    if metrics.get("small_sample"):
        reason = (f"{model['arm']} is a treatment-resistant arm with few patients"
                  if model["arm"] in TREATMENT_RESISTANT_ARMS
                  else f"fewer than {SMALL_TEST_SET} held-out patients")
        items.append(f"Sample too small to trust: {metrics['n_test']} held-out patients "
                     f"({reason}); metrics and explanations are dominated by chance.")
    auc_low, auc_high = metrics["roc_auc_low"], metrics["roc_auc_high"]
    if auc_low <= 0.5:
        items.append(f"The ROC AUC interval ({auc_low:.3f}-{auc_high:.3f}) includes 0.5: the model "
                     "may rank patients no better than chance.")
    if fairness is None:
        items.append(NO_GROUPS)
    else:
        small = [f"{info['label'].lower()} {g['group']}"
                 for info in fairness["attributes"].values() for g in info["groups"] if g["small"]]
        if small:
            items.append(f"Groups with fewer than {MIN_GROUP} held-out patients, whose metrics "
                         f"are not shown: {', '.join(small)}.")
        absent = [f"{info['label'].lower()} {group}"
                  for info in fairness["attributes"].values() for group in info.get("absent", ())]
        if absent:
            items.append(f"Groups with no held-out patient, on whom the model was never tested: "
                         f"{', '.join(absent)}.")
        imprecise = [f"{info['label'].lower()} {g['group']}"
                     for info in fairness["attributes"].values() for g in info["groups"]
                     if g["imprecise"]]
        if imprecise:
            items.append(f"Groups too few to compare (fewer than {SMALL_TEST_SET} held-out "
                         f"patients; their intervals are wide and chance differences large): "
                         f"{', '.join(imprecise)}.")
        partly = [f"{info['label'].lower()} {g['group']} ("
                  + ", ".join(METRIC_LABELS[m] for m in METRICS if g["hidden"][m]) + ")"
                  for info in fairness["attributes"].values() for g in info["groups"]
                  if not g["small"] and any(g["hidden"].values())]
        if partly:
            items.append("Metrics hidden because too few responders, non-responders or predicted "
                         "responders stand behind them: " + "; ".join(partly) + ".")
    if run.get("skipped_arms"):
        items.append("Arms without a model in this run (too few patients): "
                     + ", ".join(sorted(run["skipped_arms"])) + ".")
    if model.get("truth_check"):
        flagged = [row for row in model["truth_check"].get("features", []) if row.get("flag")]
        for row in flagged:
            evidence = (f" (held-out AUC of its SHAP values {row['held_out_auc']:.2f}, interval "
                        f"{row['held_out_auc_low']:.2f}-{row['held_out_auc_high']:.2f})"
                        if row.get("held_out_auc") is not None else "")
            items.append(f"Truth check: {row['label']} is among the model's most credited "
                         f"features; {row['flag']}{evidence}.")
    return items


def _ethics(model: dict, run: dict) -> list[str]:
    items = [
        "Never for clinical use: a recommendation from a model like this one must not replace "
        "a clinician's judgement; decisions in the app need a person and a reason.",
        "Performance differs between groups (see the subgroup metrics): a model that is less "
        "accurate for some ancestry groups, sexes or ages would widen inequalities if used.",
        "Consent shapes the data: patients who decline genetic or other consent are left out of "
        "the variants that use that data, and if they differ systematically the model is biased "
        "towards those who consented.",
        "SHAP explanations show what the model relies on, not what causes response: decoy "
        "features can be credited although their true effect is zero.",
    ]
    if model["variant"] == "full":
        items.append("This variant uses genetic data (polygenic score, genotypes): the polygenic "
                     "score is less accurate outside European ancestry (Martin 2019).")
    return items


def _tradeoffs(model: dict) -> list[str]:
    bands = ", ".join(label for _, label in AGE_BANDS)
    return [
        "The threshold trades sensitivity for specificity: a lower one finds more responders and "
        "selects more patients who will not respond; group rates change with it.",
        "Fewer data classes (no genetic, clinical only) mean fewer exclusions by consent and "
        "less sensitive data, usually at some cost in accuracy.",
        "Equalising one fairness metric between groups (true-positive rates, say) generally "
        "moves others (selection rates, calibration); no threshold satisfies all at once when "
        "response rates differ.",
        f"Groups are coarse: sex, four ancestry groups and age bands {bands}; small groups are "
        "hidden to protect patients, at the price of not seeing how the model does for them.",
    ]


__all__ = ["INTENDED_USE", "NO_GROUPS", "OUT_OF_SCOPE_USE", "VALIDATED_AT", "VALIDATED_AT_ONE_SITE",
           "WHY_ONE_SITE", "model_card", "where_validated"]
