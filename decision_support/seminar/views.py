"""Seminar pages: reviews of models and cases, seminar packs, case packets (page and PDF).

Who may open them, the purpose of use and the audit entry of each sensitive read are the access
gate's (``accounts.access.POLICIES``); the writes are audited by their services.
"""

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from decision_support.accounts.access import PATIENT_TRUTH_ROLES, POLICIES, audit_context, can
from decision_support.cohorts.models import Cohort, Patient
from decision_support.courses.selectors import courses_where
from decision_support.lib import printing
from decision_support.lib.form_errors import field_errors
from decision_support.registry.models import TrainedModel, TrainingRun
from synthetic_data import ARMS

from . import packets
from .forms import (AnnotationForm, ModelAnnotationForm, ReviewFilterForm, SeminarPackAddForm,
                    SeminarPackForm)
from .models import RUBRIC, SeminarPack
from .selectors import annotations, visible_packs
from .services import annotation_create, seminar_pack_add_cases
from .services import seminar_pack_create as pack_create_service


def _review_refused(request, form, back: str):
    return render(request, "seminar/review_error.html",
                  {"errors": field_errors(form), "back": back}, status=400)


def _annotate(request, form, back: str, **target):
    """Validate the rubric and write the annotation; None when written, else the errors page
    (400, nothing written)."""
    if not form.is_valid():
        return _review_refused(request, form, back)
    data = form.cleaned_data
    try:
        annotation_create(actor=request.user, purpose=request.purpose, comment=data["comment"],
                          **{name: data[name] for name in RUBRIC}, **target)
    except ValidationError as error:
        form.add_error(None, error)
        return _review_refused(request, form, back)
    return None


def model_review(request, run_id: int, arm: str):
    """An ethics reviewer's rubric for one model (``algorithm``, ``variant``) of a run's arm."""
    run = get_object_or_404(TrainingRun, pk=run_id)
    if arm not in ARMS:
        raise Http404("unknown arm")
    back = reverse("model_detail", args=[run.pk, arm])
    form = ModelAnnotationForm(request.POST)
    model = None
    if form.is_valid():
        model = TrainedModel.objects.filter(run=run, arm=arm, algorithm=form.cleaned_data["algorithm"],
                                            variant=form.cleaned_data["variant"]).first()
        if model is None:
            form.add_error("algorithm", "This run has no such model for this arm.")
    if model is None:
        return _review_refused(request, form, back)
    refused = _annotate(request, form, back, model=model)
    if refused:
        return refused
    query = urlencode({"algorithm": model.algorithm, "variant": model.variant})
    return redirect(f"{back}?{query}#reviews")


def case_review(request, pseudonym: str):
    """An ethics reviewer's rubric for one patient's case (their explanation)."""
    patient = get_object_or_404(Patient, pseudonym=pseudonym)
    back = reverse("patient_detail", args=[patient.pseudonym])
    refused = _annotate(request, AnnotationForm(request.POST), back, patient=patient)
    return refused or redirect(f"{back}#reviews")


def review_list(request):
    form = ReviewFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "seminar/review_list.html",
                      {"form": form, "errors": field_errors(form), "rows": []}, status=400)
    data = form.cleaned_data if request.GET else {}
    rows = annotations(course_ids=request.course_ids, kind=data.get("kind") or "",
                       model=data.get("model"), patient=data.get("patient") or None)
    return render(request, "seminar/review_list.html", {"form": form, "rows": rows[:500]})


# --- case packets ---------------------------------------------------------------------------


class PacketForm(forms.Form):
    key = forms.BooleanField(required=False, label="Add the educator's key (the true response "
                                                   "probabilities)")


def _packet(request, pseudonym: str) -> dict:
    patient = get_object_or_404(Patient.objects.select_related("cohort"), pseudonym=pseudonym)
    form = PacketForm(request.GET)
    with_key = form.is_valid() and form.cleaned_data["key"]
    packet = packets.case_packet(patient, purpose=request.purpose, roles=request.roles,
                                 with_key=with_key)
    audit_context(request, object_type="patient", object_ref=patient.pseudonym,
                  withheld=sorted(packet["consent"].withheld), key=packet["show_truth"])
    return packet


def case_packet(request, pseudonym: str):
    packet = _packet(request, pseudonym)
    return render(request, "seminar/packet.html", {
        "packet": packet, "patient": packet["patient"], "key_form": PacketForm(request.GET),
        "can_see_key": can(request.roles, PATIENT_TRUTH_ROLES),
        "pdf_url": reverse("case_packet_pdf", args=[packet["patient"].pseudonym])
        + (f"?{urlencode({'key': 'on'})}" if packet["show_truth"] else "")})


def case_packet_pdf(request, pseudonym: str):
    packet = _packet(request, pseudonym)
    html = render_to_string("seminar/packets_pdf.html",
                            {"title": f"{packet['patient'].case_label} · {packet['patient'].pseudonym}",
                             "packets": [packet]})
    return printing.pdf_download(html, f"case-{packet['patient'].pseudonym}.pdf")


# --- seminar packs --------------------------------------------------------------------------


def seminar_pack_list(request):
    packs = visible_packs(request.course_ids)
    return render(request, "seminar/pack_list.html", {
        "packs": [{"pack": p, "n_cases": p.cases.count()} for p in packs],
        "can_create": can(request.roles, POLICIES["seminar_pack_create"].roles)})


def seminar_pack_create(request):
    courses = courses_where(request.user, POLICIES["seminar_pack_create"].roles)
    form = SeminarPackForm(request.POST if request.method == "POST" else None,
                           patients=Patient.objects.filter(cohort__course__in=courses))
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                pack = pack_create_service(actor=request.user, purpose=request.purpose,
                                           name=data["name"], patients=data["pseudonyms"],
                                           questions=data["questions"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("seminar_pack_detail", pack_id=pack.pk)
        return render(request, "seminar/pack_form.html",
                      {"form": form, "errors": field_errors(form),
                       "max_cases": SeminarPack.MAX_CASES}, status=400)
    return render(request, "seminar/pack_form.html",
                  {"form": form, "max_cases": SeminarPack.MAX_CASES})


def seminar_pack_add(request, cohort_id: int):
    """Add cases of a cohort, chosen on its patient list or on a patient's page, to a seminar pack
    of the cohort's course or to a new one; then the pack. Bad input: 400, each field named,
    nothing written."""
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    form = SeminarPackAddForm(request.POST, cohort=cohort)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["pack"] is None:
                pack = pack_create_service(actor=request.user, purpose=request.purpose,
                                           name=data["name"], patients=data["patients"])
            else:
                pack = data["pack"]
                seminar_pack_add_cases(actor=request.user, purpose=request.purpose, pack=pack,
                                       patients=data["patients"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return redirect(reverse("seminar_pack_detail", args=[pack.pk]) + "#cases")
    return render(request, "seminar/pack_add_error.html",
                  {"errors": field_errors(form), "cohort": cohort}, status=400)


def _add_errors(form, error: ValidationError) -> None:
    """A service's errors on the form, under the form's field of the same name where there is one."""
    for name, messages in error.message_dict.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


def seminar_pack_detail(request, pack_id: int):
    pack = get_object_or_404(SeminarPack, pk=pack_id)
    return render(request, "seminar/pack_detail.html", {
        "pack": pack, "cases": pack.ordered_cases(),
        "can_open_packets": can(request.roles, POLICIES["case_packet"].roles),
        "can_export": can(request.roles, POLICIES["seminar_pack_pdf"].roles)})


def seminar_pack_pdf(request, pack_id: int):
    """One PDF: a cover with the pack's questions, then one case packet per case, in order."""
    pack = get_object_or_404(SeminarPack, pk=pack_id)
    cases = pack.ordered_cases()
    packs = [packets.case_packet(case.patient, purpose=request.purpose, roles=request.roles)
             for case in cases]
    audit_context(request, object_type="seminar_pack", object_ref=str(pack.pk),
                  cases=[case.patient.pseudonym for case in cases])
    html = render_to_string("seminar/packets_pdf.html",
                            {"title": pack.name, "pack": pack, "packets": packs})
    return printing.pdf_download(html, f"seminar-pack-{pack.pk}.pdf")
