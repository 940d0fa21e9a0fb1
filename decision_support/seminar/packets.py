"""Case packets: one pseudonymised case on paper, as a printable page and as a PDF.

A packet reads the patient as every patient page does (``predictions.patient.patient_for``:
through the consent gate, with the roles' hidden values) and predicts only through
``patient_predictions`` (so the prediction pause holds); the field rules (truth, genetic values)
come from the roles passed in. The waterfall is an inline SVG drawn here, since
a PDF runs no script (rendered by ``lib.printing``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse

from decision_support.lib.vocabulary import ConsentClass
from decision_support.predictions import pages
from decision_support.predictions.patient import patient_for
from decision_support.predictions.selectors import (patient_guidance, patient_predictions,
                                                    prediction_pause)
from decision_support.registry.models import TrainedModel
from decision_support.registry.pages import model_facts, run_facts
from decision_support.registry.selectors import run_validation
from models.features import VARIANT_LABELS
from models.algorithms import ALGORITHM_LABELS
from models.model_card import model_card, where_validated
from models.pgx import GUIDANCE_DISCLAIMER
from synthetic_data import ARM_LABELS, DATA_DICTIONARY, SCENARIOS

WITHHELD_BY_CONSENT = "not permitted by the patient's consent for education and demonstration"
HIDDEN_FROM_ROLE = "values not shown to your role (the models still use them where consent allows)"


# --- model-card excerpt ---------------------------------------------------------------------


def model_card_excerpt(model: TrainedModel) -> dict:
    """The lines of the model's card (``models.model_card``, built from the stored evaluation,
    never typed by hand) that a packet prints: name and version, held-out ROC AUC with its CI,
    patients, the small-sample flag, intended and out-of-scope use."""
    # A packet prints no truth check: the educator's key is a patient's true probabilities.
    card = model_card(run=run_facts(model.run), model=model_facts(model, truth_check=None),
                      fairness=None)
    auc = next(row for row in card["metrics"]["overall"] if row["key"] == "roc_auc")
    return {
        "title": (f"{ARM_LABELS[model.arm]}: {ALGORITHM_LABELS[model.algorithm]}, "
                  f"{VARIANT_LABELS[model.variant].lower()}"),
        "version": card["details"]["version"],
        "roc_auc": auc["value"], "roc_auc_low": auc["low"], "roc_auc_high": auc["high"],
        "n_train": card["training_data"]["n_train"], "n_test": card["training_data"]["n_test"],
        "small_sample": bool(model.metrics.get("small_sample")),
        "intended_use": card["intended_use"],
        "out_of_scope": card["out_of_scope_use"],
        "card_url": (reverse("model_card", args=[model.run_id, model.arm]) + "?"
                     + urlencode({"algorithm": model.algorithm, "variant": model.variant})),
    }


# --- where the models were validated ---------------------------------------------------------

AT_DEVELOPMENT_SITE = ("This patient was seen at the site where the models were developed "
                       "({site}): their held-out figures come from patients of this site.")
DEVELOPED_ELSEWHERE = ("The models were developed at another site ({development}), not at this "
                       "patient's ({site}). How each did at this patient's site (external: every "
                       "patient there who received the arm and whose consent to model training "
                       "covers the model's data):")


def models_validation(patient, run, models: list[TrainedModel]) -> dict:
    """Where the models that ranked ``patient`` were validated (``models.model_card.
    where_validated`` of ``registry.selectors.run_validation``), each model's held-out ROC AUC,
    and for a patient of a multi-site cohort how the models did at the patient's site."""
    validation = run_validation(run)
    where = where_validated(validation.for_models(models))
    arms = [{"arm_label": ARM_LABELS[m.arm],
             "internal": {"value": m.metrics["roc_auc"], "low": m.metrics["roc_auc_low"],
                          "high": m.metrics["roc_auc_high"]},
             "external": [site["rows"][i] for site in where["sites"]]}
            for i, m in enumerate(models)]
    here = None
    if where["multi_site"] and patient.site:
        label = validation.labels.get(patient.site, patient.site)
        if patient.site == run.development_site:
            here = {"at_development": True, "text": AT_DEVELOPMENT_SITE.format(site=label),
                    "rows": []}
        else:
            rows = next((site["rows"] for site in where["sites"] if site["site"] == patient.site),
                        [])
            here = {"at_development": False, "rows": rows,
                    "text": DEVELOPED_ELSEWHERE.format(development=where["development"],
                                                       site=label)}
    return {**where, "arms": arms, "here": here}


# --- the waterfall as SVG -------------------------------------------------------------------

SVG_WIDTH, LABEL_WIDTH, VALUE_WIDTH, ROW, TOP = 720, 300, 70, 22, 28
RAISE, LOWER, ENDPOINT = "#c0392b", "#2c6fbb", "#6b6b6b"


def waterfall_svg(chart) -> str:
    """An inline SVG of a waterfall ``charts.Chart``: the base value, each feature's push, the
    output, as horizontal bars (red raises, blue lowers). Labels are escaped by the template."""
    trace = chart.traces[0]
    running, bars = 0.0, []
    for label, value, measure in zip(trace["x"], trace["y"], trace["measure"]):
        value = float(value or 0.0)
        if measure == "relative":
            start, end = running, running + value
            colour = RAISE if value > 0 else LOWER
            text = f"{value:+.3f}"
        else:  # absolute (the base value) or total (the output): from zero
            start, end, colour, text = 0.0, value, ENDPOINT, f"{value:.3f}"
        running = end
        bars.append({"label": label if len(label) <= 48 else label[:47] + "…",
                     "start": start, "end": end, "colour": colour, "text": text})
    low = min(0.0, *(min(b["start"], b["end"]) for b in bars))
    high = max(0.0, *(max(b["start"], b["end"]) for b in bars))
    span = (high - low) or 1.0
    plot = SVG_WIDTH - LABEL_WIDTH - VALUE_WIDTH

    def x(value: float) -> float:
        return round(LABEL_WIDTH + (value - low) / span * plot, 1)

    for i, bar in enumerate(bars):
        left, right = sorted((x(bar["start"]), x(bar["end"])))
        bar.update(y=TOP + i * ROW, x=left, width=max(round(right - left, 1), 1.0),
                   text_x=round(right + 4, 1), label_y=TOP + i * ROW + 15)
    height = TOP + len(bars) * ROW + 10
    return render_to_string("seminar/_waterfall.svg", {
        "chart": chart, "bars": bars, "width": SVG_WIDTH, "height": height,
        "zero_x": x(0.0), "label_x": LABEL_WIDTH - 6, "axis_bottom": height - 6,
    })


# --- the packet -----------------------------------------------------------------------------


def _withheld(consented, hidden: frozenset[str]) -> list[dict]:
    rows = [{"what": ConsentClass(c).label, "why": WITHHELD_BY_CONSENT}
            for c in sorted(consented.withheld)]
    hidden_here = [DATA_DICTIONARY[n].label for n in sorted(hidden & set(consented.values.index))]
    if hidden_here:
        rows.append({"what": ", ".join(hidden_here), "why": HIDDEN_FROM_ROLE})
    return rows


def case_packet(patient, *, purpose: str, roles, with_key: bool = False) -> dict:
    """Everything one packet prints about ``patient`` for a reader with ``roles``.

    ``with_key`` adds the educator's key (the simulation's true response probabilities) when
    the roles may see a patient's truth (``selectors.true_response_probabilities``); otherwise
    it is ignored.
    """
    this = patient_for(patient, purpose=purpose, roles=roles)
    cohort, consented, hidden, run = this.cohort, this.consented, this.hidden, this.run
    predictions = (patient_predictions(consented, run,
                                       truth_roles=roles if with_key else frozenset(),
                                       hidden=hidden)
                   if run is not None else None)
    page = pages.patient_page(consented.values, predictions, run, hidden)
    explained = page.get("explained") or []
    top = explained[0] if explained else None
    scenario = SCENARIOS.get(cohort.scenario)
    return {
        "patient": patient, "cohort": cohort, "run": run, "consent": consented,
        "paused": prediction_pause(),
        "groups": page["groups"],
        "withheld": _withheld(consented, hidden),
        "ranking": page.get("ranking"),
        "ranking_caption": page.get("ranking_caption"),
        "ranking_reason": page.get("ranking_reason"),
        "unreliable_top": page.get("unreliable_top"),
        "top": top,
        "waterfall_svg": waterfall_svg(top["chart"]) if top else "",
        "waterfall_rows": top["chart"].table_rows if top else [],
        "units": top["units"] if top else "",
        "card": model_card_excerpt(top["model"]) if top else None,
        "validation": (models_validation(patient, run, [item["model"] for item in explained])
                       if explained else None),
        "guidance": patient_guidance(consented),
        "guidance_disclaimer": GUIDANCE_DISCLAIMER,
        "scenario": scenario,
        "questions": list(getattr(scenario, "questions", ()) or ()),
        "show_truth": bool(page.get("truth_known")),
        "truth_rows": page.get("truth_rows", []),
    }
