"""The one access gate: who may open which page, for what purpose, and what the audit log records.

``POLICIES`` maps every named URL to the roles that may use it, the purpose of use the server
sets for it, and whether it is a sensitive read. ``AccessGateMiddleware`` enforces it on every
request, before any view runs:

- a URL without a policy is refused (fail closed; ``checks.every_url_has_a_policy`` finds them);
- anonymous users are sent to sign in;
- course scope: a request that names objects (by URL keyword arguments such as ``cohort_id`` or
  ``pseudonym``, or the query parameters a policy's ``scoped_query`` names) is judged by the
  user's roles in those objects' course (``courses.scope``; site-wide roles count everywhere):
  a member of course A holds no role for an object of course B, so gets 404 like anyone without
  the role. The roles the page then works with (``request.roles``) are those course roles; pages
  that name no object get the user's roles in any course. ``request.course_ids`` holds the
  courses whose objects the user may list (``courses.selectors.visible_course_ids``): list
  selectors filter by it;
- a signed-in user without one of the policy's roles gets 404 (the page does not exist for them)
  and the refusal is audited;
- a request whose HTTP method the policy does not declare gets 405 (with ``Allow``), before any
  view runs: no view answers a method it was not written for;
- a sensitive read (``audit_read``) writes exactly one audit entry for every response that carries
  the data, whatever the method, in a short transaction of its own once the view has made the
  page; the page leaves only after the entry committed (else the error page); the view adds what
  it read with ``audit_context``.

The JSON API (``decision_support.api``, URL namespace ``api``) goes through the same steps: its user
comes from the bearer token alone (``accounts.tokens``; session cookies do not count there), an
anonymous request gets 401, a refused one an audited 404, both as JSON; every endpoint has the
policy of the page that shows the same data, so it admits the same roles and is audited alike.

The purpose (``request.purpose``) comes only from here, never from the client. Writes (consent,
erasure, decisions, training) are audited by their services in the transaction of the write.
The Django admin has its own staff check and is left to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, transaction
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.views.defaults import server_error

from decision_support.audit.services import audit_record
from decision_support.courses.scope import courses_named
from decision_support.courses.selectors import visible_course_ids
from decision_support.lib.vocabulary import ConsentClass, Purpose, dictionary_classes
from synthetic_data import DATA_DICTIONARY

from .roles import HeldRoles, Role, held_roles, user_roles
from .tokens import token_user

logger = logging.getLogger(__name__)

EVERYONE = frozenset(Role)
EDUCATOR, STUDENT = Role.EDUCATOR, Role.STUDENT
REVIEWER, STEWARD = Role.ETHICS_REVIEWER, Role.DATA_STEWARD

DENIED_ACTION = "access.denied"

# The HTTP methods a view answers: a page, a page with a form, an action.
READ = frozenset({"GET", "HEAD"})
FORM = READ | {"POST"}
ACTION = frozenset({"POST"})
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
UNKNOWN_METHODS = "methods must be a non-empty subset of {known}; got {methods}"


@dataclass(frozen=True)
class Policy:
    roles: frozenset[Role]
    purpose: str = Purpose.EDUCATION
    # A sensitive read: one audit entry, with this action, per response that carries the data.
    audit_read: str | None = None
    # Pages that show one patient's data are never cached (Cache-Control: no-store).
    patient_data: bool = False
    # The only methods the view answers; any other gets 405.
    methods: frozenset[str] = READ
    # Query parameters that name objects, as (parameter, kind of object: a ``courses.scope``
    # keyword such as "cohort_id"); the user needs the policy's role in each one's course.
    scoped_query: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        if not self.methods or not self.methods <= HTTP_METHODS:
            raise ValueError(UNKNOWN_METHODS.format(known=sorted(HTTP_METHODS),
                                                    methods=sorted(self.methods)))


PUBLIC = None  # URLs anyone may open (signing in and out)

POLICIES: dict[str, Policy | None] = {
    "login": PUBLIC,
    "logout": PUBLIC,
    # Cohorts, the data dictionary and the glossary: aggregates only (small cells suppressed).
    "home": Policy(EVERYONE),
    "cohort_list": Policy(EVERYONE),
    "cohort_overview": Policy(EVERYONE, audit_read="cohort.overview"),
    "data_dictionary": Policy(EVERYONE),
    "primer": Policy(EVERYONE),
    "guide_dismiss": Policy(EVERYONE, methods=ACTION),
    "glossary": Policy(EVERYONE),
    # Lesson plans: every role reads them (the answer key is educators' only, see below).
    "lesson_list": Policy(EVERYONE),
    "lesson_detail": Policy(EVERYONE),
    "lesson_pdf": Policy(EVERYONE),
    # Models: metrics, explanations, the truth check.
    "models_home": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    "run_overview": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    "model_detail": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    "run_travel": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    # Patients: the list (stewards see consent, not clinical data) and one patient's page.
    "patient_list": Policy(EVERYONE, audit_read="patient.list"),
    "patient_detail": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER}), audit_read="patient.view",
                             patient_data=True),
    # Human oversight.
    "decision_record": Policy(frozenset({EDUCATOR, STUDENT}), patient_data=True, methods=ACTION),
    "predictions_pause": Policy(frozenset({EDUCATOR}), methods=FORM),
    "cohort_train": Policy(frozenset({EDUCATOR}), purpose=Purpose.MODEL_TRAINING, methods=ACTION),
    "training_job": Policy(frozenset({EDUCATOR}), purpose=Purpose.MODEL_TRAINING),
    # Consent and erasure (data stewards).
    "patient_consent": Policy(frozenset({STEWARD}), audit_read="consent.view", patient_data=True,
                              methods=FORM),
    "patient_erase": Policy(frozenset({STEWARD}), patient_data=True, methods=FORM),
    "erasure_list": Policy(frozenset({STEWARD})),
    # The audit log.
    "audit_log": Policy(frozenset({STEWARD, REVIEWER}), audit_read="audit.view"),
    # Research export: differentially private aggregates.
    "aggregate_export": Policy(frozenset({EDUCATOR, REVIEWER}), purpose=Purpose.RESEARCH_EXPORT,
                               methods=FORM),
    # Teaching scenarios: educators create cohorts; everyone but stewards compares them.
    "cohort_create": Policy(frozenset({EDUCATOR}), methods=FORM),
    "generation_job": Policy(frozenset({EDUCATOR})),
    "cohort_compare": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER}), audit_read="cohort.compare",
                             scoped_query=(("a", "cohort_id"), ("b", "cohort_id"))),
    # The ethics seminar: fairness, model cards, explanation comparison, reviews, case packets.
    "model_fairness": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    "model_card": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    "patient_what_if": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER}), audit_read="patient.what_if",
                              patient_data=True),
    "patient_explanations": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER}),
                                   audit_read="patient.compare", patient_data=True),
    "model_review": Policy(frozenset({REVIEWER}), methods=ACTION),
    "case_review": Policy(frozenset({REVIEWER}), patient_data=True, methods=ACTION),
    "review_list": Policy(frozenset({EDUCATOR, REVIEWER})),
    "case_packet": Policy(frozenset({EDUCATOR, REVIEWER}), audit_read="patient.packet",
                          patient_data=True),
    "case_packet_pdf": Policy(frozenset({EDUCATOR, REVIEWER}), audit_read="patient.packet_pdf",
                              patient_data=True),
    "seminar_pack_list": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    "seminar_pack_create": Policy(frozenset({EDUCATOR}), methods=FORM),
    "seminar_pack_add": Policy(frozenset({EDUCATOR}), methods=ACTION),
    "seminar_pack_detail": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    "seminar_pack_pdf": Policy(frozenset({EDUCATOR, REVIEWER}), audit_read="seminar_pack.pdf",
                               patient_data=True),
    # After a class: a course's educators reset or archive it (typed confirmation).
    "course_reset": Policy(frozenset({EDUCATOR}), methods=FORM),
    "course_archive": Policy(frozenset({EDUCATOR}), methods=FORM),
    # Courses: everyone sees their own; educators create them and manage their members, join
    # codes and rosters (scoped by ``course_id``). Joining and a roster account's set-password
    # link are public: people without an account use them (the join page limits guessing).
    "course_list": Policy(EVERYONE),
    "course_create": Policy(frozenset({EDUCATOR}), methods=FORM),
    "course_detail": Policy(frozenset({EDUCATOR, STUDENT, REVIEWER})),
    "course_members": Policy(frozenset({EDUCATOR}), methods=ACTION),
    "course_join_codes": Policy(frozenset({EDUCATOR}), methods=ACTION),
    "course_roster": Policy(frozenset({EDUCATOR}), methods=FORM),
    "course_join_start": PUBLIC,
    "course_join": PUBLIC,
    "account_set_password": PUBLIC,
    # Case exercises: educators make, run and reveal them (live counts are JSON, not audited:
    # counts only, polled every few seconds); students answer and see their own result.
    "exercise_list": Policy(frozenset({EDUCATOR, STUDENT})),
    "exercise_create": Policy(frozenset({EDUCATOR}), methods=FORM),
    "exercise_detail": Policy(frozenset({EDUCATOR})),
    "exercise_counts": Policy(frozenset({EDUCATOR})),
    "exercise_open": Policy(frozenset({EDUCATOR}), methods=ACTION),
    "exercise_reveal": Policy(frozenset({EDUCATOR}), methods=ACTION),
    "exercise_answer": Policy(frozenset({STUDENT}), audit_read="exercise.case_view",
                              patient_data=True, methods=FORM),
    "exercise_my_result": Policy(frozenset({STUDENT}), audit_read="exercise.result",
                                 patient_data=True),
    "exercise_results": Policy(frozenset({EDUCATOR}), audit_read="exercise.results",
                               patient_data=True),
    "exercise_present": Policy(frozenset({EDUCATOR}), audit_read="exercise.present",
                               patient_data=True),
    "exercise_csv": Policy(frozenset({EDUCATOR}), audit_read="exercise.export", patient_data=True),
    "exercise_pdf": Policy(frozenset({EDUCATOR}), audit_read="exercise.pdf", patient_data=True),
    # Each user's own JSON API tokens.
    "api_tokens": Policy(EVERYONE, methods=FORM),
    # The JSON API's root, its schema and its browsable documentation hold no data.
    "api-root": PUBLIC,
    "openapi-json": PUBLIC,
    "openapi-view": PUBLIC,
}

# The JSON API: every endpoint has the policy of the page showing the same data, and answers GET
# alone (django-ninja routes no other method to a GET operation).
API_NAMESPACE = "api"
API_PAGES = {
    "api_cohort_list": "cohort_list",
    "api_cohort": "cohort_overview",
    "api_patient_list": "patient_list",
    "api_patient": "patient_detail",
    "api_patient_predictions": "patient_detail",
    "api_patient_explanations": "patient_detail",
    "api_run_models": "run_overview",
    "api_run_travel": "run_travel",
}
POLICIES.update({endpoint: replace(POLICIES[page], methods=frozenset({"GET"}))
                 for endpoint, page in API_PAGES.items()})

# Field-level rules. The simulation's truth: per patient for educators only; the model-level truth
# check (an explanation checked against the truth) also for ethics reviewers. Raw genetic and
# epigenetic values (genotypes, PRS, methylation) only for educators and ethics reviewers:
# students see the predictions and explanations that use them, and the PGx guidance, not values.
PATIENT_TRUTH_ROLES = frozenset({EDUCATOR})
MODEL_TRUTH_ROLES = frozenset({EDUCATOR, REVIEWER})
GENOTYPE_ROLES = frozenset({EDUCATOR, REVIEWER})
# A lesson plan's answer key is like the truth: what a good answer says, for those who teach.
ANSWER_KEY_ROLES = frozenset({EDUCATOR})
# Treatment decisions: everyone's on a patient for the course's educators; every other reader sees
# only their own, so a student's choice is not anchored by the class's.
ALL_DECISIONS_ROLES = frozenset({EDUCATOR})
GENOTYPE_FEATURES = frozenset(v.name for v in DATA_DICTIONARY.values()
                              if v.data_class in dictionary_classes({ConsentClass.GENETIC}))


def hidden_values(roles) -> frozenset[str]:
    """The data-dictionary variables whose values these roles may not see."""
    return frozenset() if can(roles, GENOTYPE_ROLES) else GENOTYPE_FEATURES


def can(user_or_roles, roles: frozenset[Role]) -> bool:
    """Whether a user (or a collection of roles) holds one of ``roles``."""
    held = user_roles(user_or_roles) if hasattr(user_or_roles, "is_authenticated") else user_or_roles
    return bool(set(held) & roles)


def audit_context(request, *, object_type: str = "", object_ref: str = "", **detail) -> None:
    """What a sensitive view read, for the one audit entry the gate writes for it."""
    request.audit = {"object_type": object_type, "object_ref": object_ref, "detail": detail}


def _is_unguarded(path: str) -> bool:
    static = "/" + settings.STATIC_URL.lstrip("/")
    return path.startswith(static) or path.startswith("/admin/") or path == "/favicon.ico"


AUDIT_FAILED = "The access could not be recorded in the audit log, so nothing was shown. Try again."


class AccessGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _is_unguarded(request.path_info):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)  # Django's own 404
        name = match.url_name
        if name in POLICIES and POLICIES[name] is PUBLIC:
            return self.get_response(request)
        api = match.namespace == API_NAMESPACE
        if api:
            request.user = token_user(request)
        if not request.user.is_authenticated:
            return _api_unauthorized() if api else redirect_to_login(request.get_full_path())
        policy = POLICIES.get(name)
        held = held_roles(request.user)
        roles = _roles_for(request, held, match, policy)
        if policy is None or not set(roles) & policy.roles:
            self._deny(request, name, policy)
            if api:
                return JsonResponse({"detail": "Not Found"}, status=404)
            raise Http404("no such page")
        if request.method not in policy.methods:
            return _not_allowed(policy.methods, api=api)
        request.roles = frozenset(roles)
        request.course_ids = visible_course_ids(request.user, held)
        request.purpose = policy.purpose
        if policy.audit_read:
            response = self._audited(request, policy, held, api=api)
        else:
            response = self.get_response(request)
        if policy.patient_data:
            add_never_cache_headers(response)
        return response

    def _audited(self, request, policy, held: HeldRoles, *, api: bool):
        # The page is made outside any transaction (its writes have their own), and its entry is
        # written in a short transaction of its own: on SQLite that is the only moment a reader
        # needs the write lock, so a class's page views do not queue behind each other or behind
        # a long write. The data leaves only once its entry has committed; if the entry cannot
        # be written, the user gets the error page instead.
        response = self.get_response(request)
        if not _carries_data(request, response):
            return response
        read = getattr(request, "audit", {})
        try:
            with transaction.atomic():
                audit_record(actor=request.user, purpose=policy.purpose,
                             role=",".join(role.value for role in held.everywhere()),
                             action=policy.audit_read, outcome="allowed",
                             object_type=read.get("object_type", ""),
                             object_ref=read.get("object_ref", ""),
                             detail={"path": request.path, **read.get("detail", {})})
        except DatabaseError:
            logger.exception("Audit entry for %s could not be written; the page was withheld",
                             request.path)
            if api:
                return JsonResponse({"detail": AUDIT_FAILED}, status=500)
            return server_error(request)
        return response

    def _deny(self, request, name, policy):
        audit_record(actor=request.user, purpose=policy.purpose if policy else Purpose.EDUCATION,
                     action=DENIED_ACTION, outcome="denied", object_type="url",
                     object_ref=name or "", detail={"path": request.path, "method": request.method})


def _roles_for(request, held: HeldRoles, match, policy) -> list[Role]:
    """The user's roles for this request: in the course of every object it names (only those
    held in each), else in any of their courses."""
    courses = courses_named(match.kwargs, request.GET, policy.scoped_query if policy else ())
    if not courses:
        return held.everywhere()
    in_each = [set(held.in_course(course)) for course in sorted(courses)]
    return [role for role in Role if all(role in roles for roles in in_each)]


def _carries_data(request, response) -> bool:
    """Whether a sensitive view's response shows what it read: every success, and an error page
    rendered after the view declared its read (``audit_context``), such as a form error beside the
    data. Redirects carry nothing."""
    status = response.status_code
    return 200 <= status < 300 or (status >= 400 and hasattr(request, "audit"))


def _not_allowed(methods: frozenset[str], *, api: bool):
    allowed = sorted(methods)
    if not api:
        return HttpResponseNotAllowed(allowed)
    response = JsonResponse({"detail": f"Method not allowed: use {', '.join(allowed)}."},
                            status=405)
    response["Allow"] = ", ".join(allowed)
    return response


def _api_unauthorized() -> JsonResponse:
    response = JsonResponse({"detail": "Authentication required: send the header "
                                       "'Authorization: Bearer <token>' with a token from "
                                       "/accounts/api-tokens/."}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response
