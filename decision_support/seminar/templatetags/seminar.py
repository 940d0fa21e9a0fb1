"""Seminar tags for the model and patient pages.

``{% reviews_panel request model=... %}`` or ``{% reviews_panel request patient=... %}``: the
annotations of a model or a case, newest first, and for ethics reviewers the rubric form.
``{% packet_link request patient %}``: the link to the case packet.
``{% pack_add_form cohort %}`` (the patient list: the rows' checkboxes name the form) or
``{% pack_add_form cohort patient %}``: the form adding cases to a seminar pack, for the
roles that may (``seminar_pack_add``); ``{% may_add_to_pack request as flag %}`` says whether.

Which roles see what follows the access gate's policies: the list for the roles that may read
reviews (``review_list``), the form for those who may write them (``model_review``,
``case_review``). The gate still decides every request; this only decides what a page shows.
"""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from decision_support.accounts.access import POLICIES, can

from ..forms import AnnotationForm, ModelAnnotationForm, SeminarPackAddForm
from ..models import SeminarPack
from ..selectors import annotations

register = template.Library()


@register.inclusion_tag("seminar/_reviews.html")
def reviews_panel(request, *, model=None, patient=None):
    roles = getattr(request, "roles", frozenset())
    policy = "model_review" if model is not None else "case_review"
    context = {"shown": can(roles, POLICIES["review_list"].roles), "form": None,
               "target": "this model" if model is not None else "this case"}
    if not context["shown"]:
        return context
    rows = annotations(model=model) if model is not None else annotations(patient=patient)
    context["rows"] = list(rows)
    if can(roles, POLICIES[policy].roles):
        if model is not None:
            context["form"] = ModelAnnotationForm(initial={"algorithm": model.algorithm,
                                                           "variant": model.variant})
            context["action"] = reverse("model_review", args=[model.run_id, model.arm])
        else:
            context["form"] = AnnotationForm()
            context["action"] = reverse("case_review", args=[patient.pseudonym])
    return context


@register.simple_tag
def packet_link(request, patient):
    """A link to the patient's case packet, for the roles that may open it (else nothing)."""
    if not can(getattr(request, "roles", frozenset()), POLICIES["case_packet"].roles):
        return ""
    return format_html(' · <a href="{}" id="case-packet-link">Case packet</a>',
                       reverse("case_packet", args=[patient.pseudonym]))


@register.simple_tag
def may_add_to_pack(request) -> bool:
    return can(getattr(request, "roles", frozenset()), POLICIES["seminar_pack_add"].roles)


@register.inclusion_tag("seminar/_pack_add.html", takes_context=True)
def pack_add_form(context, cohort, patient=None):
    if not may_add_to_pack(context["request"]):
        return {"shown": False}
    initial = {"patients": [patient.pseudonym]} if patient is not None else {}
    return {"shown": True, "cohort": cohort, "patient": patient,
            "csrf_token": context.get("csrf_token"),
            "form": SeminarPackAddForm(initial=initial, cohort=cohort),
            "max_cases": SeminarPack.MAX_CASES}
