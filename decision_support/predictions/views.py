"""Patient pages (the cohort's patients; one patient's ranking and explanations) and human
oversight (recorded decisions, the prediction pause)."""

from django import forms
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from decision_support.accounts import access
from decision_support.accounts.access import audit_context
from decision_support.cohorts.models import Cohort
from decision_support.lib.form_errors import field_errors
from decision_support.lib.redirects import safe_next
from decision_support.query_parameters import page_parameter, query_settings, refuse_bad_numbers
from decision_support.registry.selectors import ranking_choice
from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from models.pgx import GUIDANCE_DISCLAIMER
from models.ranking import RANKING_ALGORITHM
from synthetic_data import ARM_LABELS

from . import pages
from .forms import CaseFilterForm, DecisionForm, ListPositionForm, PauseForm
from .patient import patient_for_request
from .selectors import (decision_options, patient_decisions, patient_guidance, patient_list_page,
                        patient_predictions, prediction_pause)
from .services import case_rankings_store
from .services import decision_record as decision_record_service
from .services import predictions_pause as pause_service
from .services import predictions_resume as resume_service


class PatientPageForm(forms.Form):
    """The algorithm that explains the ranked arms; by default the one that ranks them."""

    algorithm = forms.ChoiceField(label="Explain with",
                                  choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS])

    def __init__(self, *args, ranking_algorithm: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["algorithm"].initial = ranking_algorithm


def patient_list(request, cohort_id: int):
    """Pseudonyms and case labels, and each patient's treatment and outcome where education
    consent covers clinical data, found by the search and filters these roles may use; data
    stewards see pseudonyms only (they open a patient's consent page)."""
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    form = CaseFilterForm(request.GET, roles=request.roles)
    filters = form.filters()
    listing = _patient_list(request, cohort, filters, until_ranked=True)
    if listing.unranked:
        # Patients without a stored ranking in the variant their consent allows now: computed
        # once, then found as every later request finds them.
        case_rankings_store(run=listing.run, patient_ids=listing.unranked,
                            purpose=request.purpose, actor=request.user)
        listing = _patient_list(request, cohort, filters)
    audit_context(request, object_type="cohort", object_ref=str(cohort.uid),
                  page=listing.page.number, withheld=listing.withheld,
                  filters=sorted(filters.active))
    return render(request, "predictions/patient_list.html", {
        "cohort": cohort, "page": listing.page, "next_after": listing.next_after,
        "patients": listing.patients,
        "shows_clinical": listing.shows_clinical, "form": form, "filtered": bool(filters.active),
        "rankings_unavailable": listing.rankings_unavailable})


def _patient_list(request, cohort, filters, *, until_ranked: bool = False):
    position = ListPositionForm(request.GET)
    refuse_bad_numbers(position)
    after = position.cleaned_data["after"]
    with page_parameter("page" if after is None else "after"):
        return patient_list_page(cohort, request.GET.get("page", 1), after=after,
                                 roles=request.roles, purpose=request.purpose, filters=filters,
                                 until_ranked=until_ranked)


def patient_detail(request, pseudonym: str):
    this = patient_for_request(request, pseudonym)
    patient, run, consented, hidden = this.patient, this.run, this.consented, this.hidden
    form, chosen, errors = query_settings(
        PatientPageForm, request.GET,
        ranking_algorithm=ranking_choice(run).algorithm if run is not None else RANKING_ALGORITHM)
    this.audit_read(request)
    values = consented.values
    predictions = (patient_predictions(consented, run, algorithm=chosen["algorithm"],
                                       truth_roles=request.roles, hidden=hidden)
                   if run is not None else None)
    context = pages.patient_page(values, predictions, run, hidden)
    guidance = patient_guidance(consented)
    pgx_rows, pgx_references = pages.cited_guidance(guidance)
    context.update({
        "patient": patient, "cohort": this.cohort, "run": run, "form": form,
        "form_errors": errors, "algorithm": chosen["algorithm"],
        "algorithm_label": ALGORITHM_LABELS[chosen["algorithm"]],
        "guidance": guidance, "pgx_rows": pgx_rows, "pgx_references": pgx_references,
        "guidance_disclaimer": GUIDANCE_DISCLAIMER,
        "consent": consented, "withheld_labels": this.withheld_labels,
        "received_label": ARM_LABELS[patient.arm],
        "values_hidden": this.values_hidden,
        "cyp2c19": values.get("cyp2c19_phenotype"), "cyp2d6": values.get("cyp2d6_phenotype"),
    })
    # --- Human oversight: the pause and recorded decisions (oversight views below) ---
    context.update(_oversight_context(request, patient, consented,
                                      predictions.ranking if predictions else None))
    # --- end of human oversight ---
    return render(request, "predictions/patient_detail.html", context)


# --- Human oversight: recorded decisions, the prediction pause ----------------------------------
# The access gate (accounts.access.POLICIES) admits the roles; the checks below only decide
# which forms a page shows.


def _oversight_context(request, patient, consented, ranking) -> dict:
    """The patient page's oversight part: the pause in force, the decision form, past decisions."""
    options = decision_options(consented, ranking)
    can_decide = access.can(request.roles, access.POLICIES["decision_record"].roles)
    return {
        "decision_options": options,
        "decision_form": (DecisionForm(arms=options.arms, recommended=options.recommended)
                          if can_decide else None),
        "recommended_label": ARM_LABELS.get(options.recommended, ""),
        "decisions": [{"decision": d, "arm_label": ARM_LABELS[d.arm],
                       "recommended_label": ARM_LABELS.get(d.recommended_arm, "")}
                      for d in patient_decisions(patient, reader=request.user,
                                                 roles=request.roles)],
        "sees_all_decisions": access.can(request.roles, access.ALL_DECISIONS_ROLES),
    }


def decision_record(request, pseudonym: str):
    """Record one patient's treatment decision: one patient per request, no bulk accept."""
    this = patient_for_request(request, pseudonym)
    patient, options = this.patient, decision_options(this.consented, None)
    form = DecisionForm(request.POST, arms=options.arms)
    if form.is_valid():
        try:
            decision_record_service(patient=patient, actor=request.user,
                                    arm=form.cleaned_data["arm"],
                                    reason=form.cleaned_data["reason"], purpose=request.purpose)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(reverse("patient_detail", args=[patient.pseudonym]) + "#decisions")
    # The form again with its errors (nothing written), and none of the patient's data.
    return render(request, "predictions/decision_form.html",
                  {"patient": patient, "decision_form": form,
                   "decision_errors": field_errors(form)}, status=400)


def predictions_pause(request):
    """The pause page (GET: the form, with a reason and a confirmation) and its action (POST:
    ``action`` pause or resume; empty: the other state). A refused POST answers 400 naming the
    field, and nothing changes."""
    paused = prediction_pause() is not None
    if request.method != "POST":
        form = PauseForm(paused=paused, initial={"next": request.GET.get("next", "")})
    else:
        form = PauseForm(request.POST, paused=paused)
        if form.is_valid():
            change = pause_service if form.cleaned_data["action"] == "pause" else resume_service
            change(actor=request.user, reason=form.cleaned_data["reason"],
                   purpose=request.purpose)
            return redirect(safe_next(request, reverse("models_home")))
    return render(request, "predictions/pause.html",
                  {"form": form, "errors": field_errors(form) if form.is_bound else []},
                  status=400 if form.is_bound else 200)
