"""Model pages (a training run, one arm's models) and patient pages (ranking, explanations)."""

from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from decision_support.cohorts.models import Cohort, Patient
from decision_support.consent.constants import ConsentClass
from decision_support.accounts.access import audit_context
from decision_support.consent.selectors import consented_patient
from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from models.features import VARIANTS
from models.pgx import GUIDANCE_DISCLAIMER
from models.ranking import RANKING_ALGORITHM
from synthetic_data import ARMS

from . import pages
from .models import TrainingRun
from .selectors import ARM_LABELS, latest_run, patient_guidance, patient_predictions

PATIENTS_PER_PAGE = 50


class ModelPageForm(forms.Form):
    algorithm = forms.ChoiceField(label="Algorithm", initial=RANKING_ALGORITHM,
                                  choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS])
    variant = forms.ChoiceField(label="Feature variant", initial="full",
                                choices=[(v, pages.VARIANT_LABELS[v]) for v in VARIANTS])
    threshold = forms.DecimalField(label="Threshold", initial=Decimal("0.50"),
                                   min_value=Decimal("0.05"), max_value=Decimal("0.95"),
                                   step_size=Decimal("0.05"), decimal_places=2)


class PatientPageForm(forms.Form):
    algorithm = forms.ChoiceField(label="Explain with", initial=RANKING_ALGORITHM,
                                  choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS])


def _settings(form_class, query):
    """Validate the GET query: every valid field is used, every invalid one falls back to its
    default with an error naming the field. Returns the form (showing what is in use), the
    settings and the error messages."""
    defaults = {name: field.initial for name, field in form_class.base_fields.items()}
    if not any(name in query for name in defaults):
        return form_class(initial=defaults), defaults, []
    data = {name: query.get(name, str(default)) for name, default in defaults.items()}
    form = form_class(data)
    form.is_valid()
    chosen = {name: form.cleaned_data.get(name, default) for name, default in defaults.items()}
    errors = [f"{form.fields[name].label}: {' '.join(messages)} Showing the default, "
              f"{_shown(form.fields[name], defaults[name])}, instead."
              for name, messages in form.errors.items()]
    form.data = {**data, **{name: str(defaults[name]) for name in form.errors}}
    return form, chosen, errors


def _shown(field, value) -> str:
    if isinstance(field, forms.ChoiceField):
        return dict(field.choices).get(value, value)
    return f"{value:.2f}" if isinstance(value, Decimal) else str(value)


def models_home(request):
    cohort = Cohort.objects.first()
    if cohort is None:
        return render(request, "cohorts/empty.html")
    return redirect("run_overview", cohort_id=cohort.pk)


def run_overview(request, cohort_id: int):
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    run = latest_run(cohort)
    context = {"cohort": cohort, "run": run}
    if run is not None:
        rows = pages.run_models(run)
        policy = pages.policy_chart(run.policy_value) if run.policy_value else None
        context.update({
            "rows": rows,
            "arms": pages.run_arms(rows),
            "n_small": sum(r["small_sample"] for r in rows),
            "skipped": [(ARM_LABELS.get(arm, arm), reason) for arm, reason in run.skipped_arms.items()],
            "policy_chart": policy,
            "choice_shares": pages.policy_choice_shares(run.policy_value or {}),
            "chart_specs": [policy.as_json()] if policy else [],
        })
    return render(request, "predictions/run_overview.html", context)


def model_detail(request, run_id: int, arm: str):
    run = get_object_or_404(TrainingRun.objects.select_related("cohort"), pk=run_id)
    if arm not in ARMS:
        raise Http404("unknown arm")
    siblings = list(run.models.filter(arm=arm))
    if not siblings:
        raise Http404("no models for this arm in this run")
    form, chosen, errors = _settings(ModelPageForm, request.GET)
    model = next((m for m in siblings
                  if m.algorithm == chosen["algorithm"] and m.variant == chosen["variant"]), None)
    if model is None:
        raise Http404("no such model")
    threshold = chosen["threshold"]
    context = pages.model_page(model, siblings, threshold)
    base = reverse("model_detail", args=[run.pk, arm])
    for row in context["comparison"]:
        row["url"] = f"{base}?" + urlencode({"algorithm": row["algorithm"], "variant": row["variant"],
                                             "threshold": f"{threshold:.2f}"})
        row["selected"] = row["model"].pk == model.pk
    context.update({
        "run": run, "cohort": run.cohort, "arm": arm, "arm_label": ARM_LABELS[arm],
        "form": form, "form_errors": errors, "threshold": threshold,
        "is_latest": latest_run(run.cohort) == run,
    })
    return render(request, "predictions/model_detail.html", context)


def patient_list(request, cohort_id: int):
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    patients = (Patient.objects.filter(cohort=cohort).order_by("pk")
                .values("pseudonym", "arm", "response", "clinical__prior_failures"))
    paginator = Paginator(patients, PATIENTS_PER_PAGE)
    try:
        page = paginator.page(request.GET.get("page", 1))
    except InvalidPage:
        raise Http404("no such page") from None
    return render(request, "predictions/patient_list.html",
                  {"cohort": cohort, "page": page, "patients": page.object_list})


def patient_detail(request, pseudonym: str):
    patient = get_object_or_404(Patient.objects.select_related("cohort"), pseudonym=pseudonym)
    cohort = patient.cohort
    run = latest_run(cohort)
    form, chosen, errors = _settings(PatientPageForm, request.GET)
    consented = consented_patient(patient, purpose=request.purpose)
    audit_context(request, object_type="patient", object_ref=patient.pseudonym,
                  withheld=sorted(consented.withheld))
    values = consented.values
    predictions = (patient_predictions(consented, run, algorithm=chosen["algorithm"])
                   if run is not None else None)
    context = pages.patient_page(values, predictions, run)
    context.update({
        "patient": patient, "cohort": cohort, "run": run, "form": form, "form_errors": errors,
        "algorithm": chosen["algorithm"], "algorithm_label": ALGORITHM_LABELS[chosen["algorithm"]],
        "guidance": patient_guidance(consented), "guidance_disclaimer": GUIDANCE_DISCLAIMER,
        "consent": consented, "withheld_labels": [ConsentClass(c).label for c in sorted(consented.withheld)],
        "received_label": ARM_LABELS[patient.arm],
        "cyp2c19": values.get("cyp2c19_phenotype"), "cyp2d6": values.get("cyp2d6_phenotype"),
    })
    return render(request, "predictions/patient_detail.html", context)
