"""Seminar tags for the model and patient pages.

``{% reviews_panel request model=... %}`` or ``{% reviews_panel request patient=... %}``: the
annotations of a model or a case, newest first, and for ethics reviewers the rubric form.
``{% packet_link request patient %}``: the link to the case packet.

Which roles see what follows the access gate's policies: the list for the roles that may read
reviews (``review_list``), the form for those who may write them (``model_review``,
``case_review``). The gate still decides every request; this only decides what a page shows.
"""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from decision_support.accounts.access import POLICIES, can

from ..forms import AnnotationForm, ModelAnnotationForm
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
