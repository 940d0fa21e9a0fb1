"""The first-visit guide: per role, what to open first and why, shown on the start page until the
user closes it (``GuideDismissal``). Each step links a page the role's policy admits."""

from dataclasses import dataclass

from django.urls import reverse

from .access import POLICIES, can
from .models import GuideDismissal
from .roles import Role, user_roles


@dataclass(frozen=True)
class Step:
    title: str
    url_name: str
    why: str


GUIDE: dict[Role, tuple[Step, ...]] = {
    Role.EDUCATOR: (
        Step("The cohort overview", "home",
             "Counts, response per treatment and the distributions the class will question first."),
        Step("Models", "models_home",
             "Held-out AUC with its interval, and the truth check: what a model credits beside what "
             "truly drives response."),
        Step("A cohort from a scenario", "cohort_create",
             "Each scenario breaks something in a known way; create its cohort and train models on it."),
        Step("Your courses", "course_list",
             "A join code on the course page lets students enrol from their phones."),
    ),
    Role.STUDENT: (
        Step("The primer", "primer",
             "The neuroscience behind the data, and where each topic lives in this tool."),
        Step("The data dictionary", "data_dictionary",
             "What each variable is, why it could matter and what the simulation encodes."),
        Step("The cohort overview", "home",
             "The patients of the class's cohort; open a patient from its list of patients."),
        Step("Exercises", "exercise_list", "Cases your educator set, to rank and compare with the truth."),
    ),
    Role.ETHICS_REVIEWER: (
        Step("The primer", "primer",
             "The neuroscience behind the data, and what the simulation leaves out."),
        Step("Models", "models_home",
             "Each model page links its fairness audit and its model card."),
        Step("Seminar packs", "seminar_pack_list", "The cases chosen for review, with their questions."),
        Step("Reviews", "review_list", "Every review recorded, yours included."),
    ),
    Role.DATA_STEWARD: (
        Step("Erasures", "erasure_list", "Patients erased, and how to erase one."),
        Step("The audit log", "audit_log",
             "Who read or changed what, for which purpose; checked for tampering."),
        Step("The data dictionary", "data_dictionary",
             "Which data class each variable belongs to: the unit consent is given for."),
        Step("Cohorts", "cohort_list", "Each cohort's consent and privacy safeguards start from its page."),
    ),
}


def first_visit_guide(user) -> list[dict] | None:
    """Per role the user holds, the steps whose page that role may open; None once closed."""
    if GuideDismissal.objects.filter(user=user).exists():
        return None
    return [{"role": role.label, "steps": [
                {"title": s.title, "url": reverse(s.url_name), "why": s.why}
                for s in GUIDE[role] if can({role}, POLICIES[s.url_name].roles)]}
            for role in user_roles(user)]
