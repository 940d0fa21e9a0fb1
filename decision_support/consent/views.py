"""The data steward's pages: a patient's consent, erasing a patient, and the erasures so far.

Who may open them and the audit entry of the consent page's read are the access gate's
(``accounts.access``); the writes are audited by their services.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from decision_support.accounts.access import audit_context
from decision_support.cohorts.models import Patient

from decision_support.lib.vocabulary import ConsentClass, Purpose
from . import erasure
from .forms import ConsentDecisionForm, ErasureConfirmForm
from .gate import permitted_classes
from .models import Tombstone
from .services import consent_give, consent_withdraw

DECISION_SERVICES = {"give": consent_give, "withdraw": consent_withdraw}
DONE = {"give": "given", "withdraw": "withdrawn"}


def patient_consent(request, pseudonym: str):
    patient = get_object_or_404(Patient, pseudonym=pseudonym)
    if request.method == "POST":
        form = ConsentDecisionForm(request.POST)
        if not form.is_valid():
            # No consent data on this page: the POST is not an audited read.
            return render(request, "consent/decision_error.html",
                          {"patient": patient, "form": form}, status=400)
        data = form.cleaned_data
        DECISION_SERVICES[data["decision"]](patient=patient, data_class=data["data_class"],
                                            purpose=data["purpose"], actor=request.user)
        messages.success(request, f"Consent {DONE[data['decision']]}: "
                                  f"{ConsentClass(data['data_class']).label} for "
                                  f"{Purpose(data['purpose']).label}.")
        return redirect("patient_consent", patient.pseudonym)
    audit_context(request, object_type="patient", object_ref=patient.pseudonym)
    history = list(patient.consent_records.order_by("-recorded_at", "-id"))
    return render(request, "consent/patient_consent.html", {
        "patient": patient, "purposes": Purpose.choices, "rows": _state_rows(history),
        "history": history})


def _state_rows(history) -> list[dict]:
    """Per consent class, per purpose: whether the gate permits it now and the newest record."""
    now = timezone.now()
    permitted = {purpose: permitted_classes(history, purpose=purpose, now=now)
                 for purpose in Purpose.values}
    rows = []
    for data_class, label in ConsentClass.choices:
        cells = []
        for purpose in Purpose.values:
            newest = next((r for r in history
                           if r.data_class == data_class and r.purpose == purpose), None)
            allowed = data_class in permitted[purpose]
            state = "permitted" if allowed else "denied" if newest else "no record"
            cells.append({"purpose": purpose, "state": state, "newest": newest,
                          "decision": "withdraw" if allowed else "give"})
        rows.append({"data_class": data_class, "label": label, "cells": cells})
    return rows


def patient_erase(request, pseudonym: str):
    patient = get_object_or_404(Patient.objects.select_related("cohort"), pseudonym=pseudonym)
    posted = request.method == "POST"
    form = ErasureConfirmForm(request.POST if posted else None, pseudonym=patient.pseudonym)
    status = 200
    if posted:
        status = 400
        if form.is_valid():
            try:
                erasure.patient_erase(patient, actor=request.user)
            except erasure.ErasureBlocked:
                status = 409  # the page names the blockers
            else:
                # No pseudonym in the message: messages may be stored in the session.
                messages.success(request, "Patient erased: its tombstone and the audit log remain.")
                return redirect("erasure_list")
    return render(request, "consent/patient_erase.html",
                  {"patient": patient, "form": form, "plan": erasure.erasure_plan(patient)},
                  status=status)


def erasure_list(request):
    tombstones = Tombstone.objects.select_related("cohort")
    return render(request, "consent/erasure_list.html", {"tombstones": tombstones})
