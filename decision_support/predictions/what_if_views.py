"""What-if explorer: change a patient's values and see every ranked arm's prediction and a SHAP
waterfall beside the original. Nothing is saved.

The access gate admits the roles and writes the one audit entry (``patient.what_if``, with the
names of the changed variables); the patient's data comes only through the consent gate, and the
changed copy (``dataclasses.replace`` of the ``ConsentedPatient``) goes through the same
selectors, so the consent variant and the prediction pause apply to it unchanged.

Only variables the user may see and the consent releases are listed. Sex, ancestry and every
genetic and epigenetic variable are immutable (a genotype does not change); the rest may change
within the data dictionary's range. The true response probability under the changed values is
shown to the roles that may see a patient's truth (``selectors.patient_truth``), and only when no
consent class is withheld: the generator needs the whole observed row, and a withheld value is
not used even where it would stay out of sight. Those roles are told so where the table would be.
"""

import dataclasses
import math

import numpy as np
import pandas as pd
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import render

from models.features import NOT_MODEL_INPUTS, variant_features
from synthetic_data import ARM_LABELS, DATA_DICTIONARY, true_response_probabilities

from . import pages
from .forms import arm_field
from .patient import patient_for_request
from .selectors import patient_predictions, patient_truth

IMMUTABLE_CLASSES = frozenset({"genetic", "epigenetic"})
IMMUTABLE_VARIABLES = frozenset(NOT_MODEL_INPUTS)  # sex and ancestry
# Every variable a model may read, plus sex and ancestry (shown, never changed).
WHAT_IF_VARIABLES = tuple(v.name for v in DATA_DICTIONARY.values()
                          if v.name in variant_features("full") or v.name in NOT_MODEL_INPUTS)
EXPLAIN_FIELD = "explain"  # the arm whose waterfall is shown ("arm" is a dictionary variable)

IMMUTABLE_ERROR = "is immutable and cannot be changed."
UNAVAILABLE_ERROR = "cannot be changed here."
TRUTH_NEEDS_WHOLE_ROW = (
    "No true response probabilities here: this patient's consent withholds {withheld} from "
    "education, and the simulation needs the whole observed row to recompute them after a "
    "change. A withheld value is not used, even out of sight, so the truth table is left out.")


def is_immutable(name: str) -> bool:
    return name in IMMUTABLE_VARIABLES or DATA_DICTIONARY[name].data_class in IMMUTABLE_CLASSES


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _step(variable) -> str:
    if variable.kind == "integer":
        return "1"
    return "any" if variable.decimals is None else f"{10 ** -variable.decimals:.{variable.decimals}f}"


def _field(variable, current) -> forms.Field:
    """A form field for one changeable variable, within the dictionary's range."""
    required = not _missing(current)
    if variable.categories:
        return forms.ChoiceField(label=variable.label, required=required,
                                 choices=[(c, c) for c in variable.categories])
    if variable.kind == "binary":
        return forms.TypedChoiceField(label=variable.label, coerce=int, required=required,
                                      choices=[("0", "no"), ("1", "yes")])
    # FloatField and IntegerField refuse NaN and infinities themselves.
    kind = forms.IntegerField if variable.kind == "integer" else forms.FloatField
    return kind(label=variable.label, required=required, min_value=variable.minimum,
                max_value=variable.maximum)


def _as_text(variable, value) -> str:
    if _missing(value):
        return ""
    if variable.kind == "binary":
        return str(int(value))
    if variable.kind == "integer":
        return str(int(value))
    return str(value) if variable.categories else f"{float(value):g}"


class WhatIfForm(forms.Form):
    """The changeable variables of one patient (as the user may see them), and the arm to explain.

    Every variable missing from the query keeps the patient's value; a checkbox sends ``0``
    (a hidden input) and, when ticked, ``1`` after it, so the last value wins.
    """

    def __init__(self, query, *, values: pd.Series, names: list[str], arms: list[str]):
        self.values, self.names = values, names
        data = {name: (query.getlist(name)[-1] if name in query
                       else _as_text(DATA_DICTIONARY[name], values[name])) for name in names}
        explain = arm_field(arms, label="Explain")
        data[EXPLAIN_FIELD] = query.get(EXPLAIN_FIELD, explain.initial or "")
        super().__init__(data)
        for name in names:
            self.fields[name] = _field(DATA_DICTIONARY[name], values[name])
        self.fields[EXPLAIN_FIELD] = explain
        self.refused = [name for name in query
                        if name in DATA_DICTIONARY and name not in names]

    def clean(self):
        for name in self.refused:
            message = IMMUTABLE_ERROR if is_immutable(name) else UNAVAILABLE_ERROR
            self.add_error(None, f"{DATA_DICTIONARY[name].label} ({name}) {message}")
        return super().clean()

    def changed_values(self) -> dict:
        """``{name: new value}`` for every variable whose value differs from the patient's."""
        changed = {}
        for name in self.names:
            new, old = self.cleaned_data[name], self.values[name]
            new = np.nan if new in (None, "") else new
            if _missing(new) and _missing(old):
                continue
            if _missing(new) or _missing(old) or _as_text(DATA_DICTIONARY[name], new) != \
                    _as_text(DATA_DICTIONARY[name], old):
                changed[name] = new
        return changed

    def errors_by_field(self) -> list[tuple[str, str]]:
        """(name, message) per error, the message naming the field."""
        named = []
        for name, messages in self.errors.items():
            for message in messages:
                if name == NON_FIELD_ERRORS:
                    named.append(("", message))
                else:
                    named.append((name, f"{self.fields[name].label} ({name}): {message}"))
        return named


def _rows(form: WhatIfForm, values: pd.Series, shown: list[str]) -> list[dict]:
    """The form's rows in dictionary order: changeable inputs and read-only immutable values."""
    rows = []
    for name in shown:
        variable = DATA_DICTIONARY[name]
        row = {"name": name, "label": variable.label, "unit": variable.unit,
               "current": pages.format_value(name, values[name]), "immutable": is_immutable(name)}
        if not row["immutable"]:
            value = form.data[name]
            if variable.categories:
                row.update(kind="select", value=value, choices=variable.categories)
            elif variable.kind == "binary":
                row.update(kind="checkbox", checked=value == "1")
            else:
                row.update(kind="number", value=value, step=_step(variable),
                           min=_as_text(variable, variable.minimum),
                           max=_as_text(variable, variable.maximum))
        rows.append(row)
    return rows


def _comparison(before, after) -> list[dict]:
    """Every arm ranked before or after: original %, changed %, difference in points."""
    original = {r.arm: float(r.probability) for r in before.ranking.itertuples(index=False)}
    changed = {r.arm: float(r.probability) for r in after.ranking.itertuples(index=False)}
    arms = list(original) + [a for a in changed if a not in original]
    return [{"arm": arm, "label": ARM_LABELS[arm], "original": original.get(arm),
             "changed": changed.get(arm),
             "difference": (f"{(changed[arm] - original[arm]) * 100:+.1f}"
                            if arm in original and arm in changed else None)}
            for arm in arms]


def _true_probabilities(truth: pd.DataFrame, scenario: str, frames: dict) -> dict:
    """{label: {arm: true probability}} for each observed frame, from the patient's latents."""
    return {label: true_response_probabilities(frame, truth, scenario=scenario).iloc[0]
            for label, frame in frames.items()}


def _explained(predictions, arm: str, hidden, prefix: str):
    item = next((i for i in predictions.explanations if i.arm == arm), None)
    if item is None:
        return None
    chart = pages.waterfall(item, hidden)
    return {"chart": dataclasses.replace(chart, id=f"{prefix}-{chart.id}",
                                         title=f"{prefix.capitalize()}: {chart.title}"),
            "probability": item.explanation.probability, "narrative": item.narrative}


def patient_what_if(request, pseudonym: str):
    this = patient_for_request(request, pseudonym)
    patient, cohort, run = this.patient, this.cohort, this.run
    consented, hidden, values = this.consented, this.hidden, this.consented.values
    shown = [n for n in WHAT_IF_VARIABLES if n in values.index and n not in hidden]
    changeable = [n for n in shown if not is_immutable(n)]
    context = {"patient": patient, "cohort": cohort, "run": run, "consent": consented,
               "withheld_labels": this.withheld_labels, "values_hidden": this.values_hidden,
               "chart_specs": []}
    # Every prediction goes through patient_ranking: None while paused, without a run or consent.
    before = (patient_predictions(consented, run, hidden=hidden) if run is not None else None)
    arms = list(before.ranking["arm"]) if before is not None else []
    form = WhatIfForm(request.GET, values=values, names=changeable, arms=arms)
    if not form.is_valid():
        # The errors only: no prediction of bad input, and no patient data in a reply the gate
        # does not audit (it audits successful reads).
        return render(request, "predictions/what_if.html",
                      {"patient": patient, "cohort": cohort, "errors": form.errors_by_field()},
                      status=400)
    changed = form.changed_values()
    this.audit_read(request, changed=sorted(changed))
    context.update(form=form, rows=_rows(form, values, shown), changed=changed,
                   changed_labels=[DATA_DICTIONARY[n].label for n in changed])
    if before is None:
        return render(request, "predictions/what_if.html", context)

    frame = consented.frame.copy()
    for name, value in changed.items():
        frame.loc[frame.index[0], name] = value
    after = (patient_predictions(dataclasses.replace(consented, frame=frame), run, hidden=hidden)
             if changed else before)
    if after is None:  # paused between the two predictions
        return render(request, "predictions/what_if.html", context)
    arm = form.cleaned_data[EXPLAIN_FIELD]
    waterfalls = [w for w in (_explained(before, arm, hidden, "before"),
                              _explained(after, arm, hidden, "after")) if w]
    context.update(predictions=before, comparison=_comparison(before, after), arm=arm,
                   arm_label=ARM_LABELS[arm], waterfalls=waterfalls,
                   ranking_caption=pages.ranking_caption(before.choice.algorithm, before.variant),
                   chart_specs=[w["chart"].as_json() for w in waterfalls])
    truth = patient_truth(patient.pk, roles=request.roles)
    if truth is not None and len(truth) and consented.withheld:
        context["truth_absent"] = TRUTH_NEEDS_WHOLE_ROW.format(
            withheld=", ".join(this.withheld_labels).lower())
    elif truth is not None and len(truth):
        true_p = _true_probabilities(truth, cohort.scenario,
                                     {"before": consented.frame, "after": frame})
        context["truth_rows"] = [
            {"arm": row["arm"], "label": row["label"],
             "before": float(true_p["before"][f"p_response_{row['arm']}"]),
             "after": float(true_p["after"][f"p_response_{row['arm']}"])}
            for row in context["comparison"]]
        for row in context["truth_rows"]:
            row["difference"] = f"{(row['after'] - row['before']) * 100:+.1f}"
    return render(request, "predictions/what_if.html", context)
