"""Course pages: my courses, one course (its people, cohorts and join codes), the roster upload,
joining with a code or link, and setting the password of a roster account through its link.

Who may open which page is the access gate's (``accounts.access.POLICIES``); a course's pages
find the course among the user's own (``selectors.member_course``). The join and set-password
pages are public: anonymous people use them, so they limit their own methods here, and the join
page limits guessing (``throttle``). Every write is a service that audits it.
"""

import base64
import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_http_methods

from decision_support.accounts.access import POLICIES, can
from decision_support.lib.csv_safety import csv_text
from decision_support.lib.form_errors import field_errors

from .codes import code_normalize
from .forms import (NO_SUCH_CODE, NO_SUCH_MEMBER, CourseForm, JoinCodeEntryForm, JoinCodeForm,
                    JoinCodeRevokeForm, JoinForm, MemberForm, RosterForm, SignUpForm)
from .models import COURSE_ROLES, JoinCode
from .roster import COLUMNS, ROSTER_MAX_BYTES, ROSTER_MAX_ROWS, RosterRefused, roster_parse
from .selectors import (THROTTLED, UNKNOWN_CODE, JoinRefused, course_people, display_name_of,
                        join_code_usable, join_codes_of, member_course, memberships_of)
from .services import (account_create_and_join, account_set_password, course_join,
                       course_join_refused, course_roster_import, join_code_create,
                       join_code_revoke, membership_change, membership_remove)
from .services import course_create as course_create_service
from .throttle import client_address, join_failure_count, join_throttled

# Signing in straight after joining or setting a password: no credentials were checked by a
# backend (django-axes' among them), so the session names the model backend itself.
SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"
LINKS_FILENAME = "set-password-links.csv"


# --- my courses, a new course ---------------------------------------------------------------


def course_list(request):
    return render(request, "courses/list.html", {
        "memberships": memberships_of(request.user), "form": CourseForm(),
        "can_create": can(request.roles, POLICIES["course_create"].roles)})


def course_create(request):
    form = CourseForm(request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return render(request, "courses/create.html", {"form": form})
    if form.is_valid():
        try:
            course = course_create_service(actor=request.user, purpose=request.purpose,
                                           name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("course_detail", course_id=course.pk)
    return render(request, "courses/create.html", {"form": form, "errors": field_errors(form)},
                  status=400)


# --- one course -----------------------------------------------------------------------------


def _course_page(request, course, *, errors=(), status: int = 200, code_form=None):
    manages = can(request.roles, POLICIES["course_members"].roles)
    now = timezone.now()
    codes = [{"code": code, "status": code.status(now),
              "url": request.build_absolute_uri(reverse("course_join", args=[code.code]))}
             for code in join_codes_of(course)] if manages else []
    return render(request, "courses/detail.html", {
        "course": course, "people": course_people(course, viewer=request.user, whole_class=manages),
        "cohorts": course.cohorts.all(), "manages": manages, "codes": codes,
        "code_form": code_form or JoinCodeForm(), "roles": COURSE_ROLES, "errors": errors,
        "can_upload_roster": can(request.roles, POLICIES["course_roster"].roles)},
        status=status)


def course_detail(request, course_id: int):
    return _course_page(request, member_course(request, course_id))


def course_members(request, course_id: int):
    """An educator changes a member's role or removes them."""
    course = member_course(request, course_id)
    form = MemberForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        membership = course.memberships.select_related("user").filter(pk=data["member"]).first()
        if membership is None:
            form.add_error("member", NO_SUCH_MEMBER)
        else:
            try:
                if data["remove"]:
                    membership_remove(actor=request.user, purpose=request.purpose,
                                      membership=membership)
                else:
                    membership_change(actor=request.user, purpose=request.purpose,
                                      membership=membership, role=data["role"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if data["remove"] and membership.user == request.user:
                    # The course is no longer theirs; without any course only joining opens.
                    return redirect("course_list" if request.user.memberships.exists()
                                    else "course_join_start")
                return redirect(reverse("course_detail", args=[course.pk]) + "#members")
    return _course_page(request, course, errors=field_errors(form), status=400)


def course_join_codes(request, course_id: int):
    """An educator creates a join code, or revokes one (``revoke``)."""
    course = member_course(request, course_id)
    code_form = None
    if "revoke" in request.POST:
        form = JoinCodeRevokeForm(request.POST)
        if form.is_valid():
            try:
                join_code_revoke(actor=request.user, purpose=request.purpose, course=course,
                                 join_code_id=form.cleaned_data["revoke"])
            except JoinCode.DoesNotExist:
                form.add_error("revoke", NO_SUCH_CODE)
    else:
        form = code_form = JoinCodeForm(request.POST)
        if form.is_valid():
            join_code_create(actor=request.user, purpose=request.purpose, course=course,
                             **form.cleaned_data)
    if form.is_valid():
        return redirect(reverse("course_detail", args=[course.pk]) + "#join-codes")
    return _course_page(request, course, errors=field_errors(form), status=400,
                        code_form=code_form)


# --- the roster -----------------------------------------------------------------------------


def _set_password_url(request, user) -> str:
    path = reverse("account_set_password", args=[urlsafe_base64_encode(force_bytes(user.pk)),
                                                 default_token_generator.make_token(user)])
    return request.build_absolute_uri(path)


def course_roster(request, course_id: int):
    """Upload a roster; the set-password links are shown once, with the same table as CSV."""
    course = member_course(request, course_id)
    context = {"course": course, "columns": COLUMNS, "max_rows": ROSTER_MAX_ROWS,
               "max_bytes": ROSTER_MAX_BYTES}
    if request.method != "POST":
        return render(request, "courses/roster.html", {**context, "form": RosterForm()})
    form = RosterForm(request.POST, request.FILES)
    problems = []
    if form.is_valid():
        try:
            data = form.cleaned_data["roster"]
            entries = course_roster_import(actor=request.user, purpose=request.purpose,
                                           course=course, rows=roster_parse(data), data=data)
        except RosterRefused as refused:
            problems = refused.problems
        else:
            return _roster_links(request, course, entries, context)
    return render(request, "courses/roster.html", {
        **context, "form": form, "errors": field_errors(form), "problems": problems},
        status=400)


def _roster_links(request, course, entries, context):
    valid_until = timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    rows = [{"entry": entry, "link": _set_password_url(request, entry.user) if entry.needs_link
             else ""} for entry in entries]
    table = [("username", "display_name", "set_password_link")] + [
        (row["entry"].user.get_username(), row["entry"].display_name, row["link"]) for row in rows]
    download = base64.b64encode(csv_text(table).encode()).decode()
    response = render(request, "courses/roster.html", {
        **context, "form": RosterForm(), "rows": rows, "valid_until": valid_until,
        "download": f"data:text/csv;charset=utf-8;base64,{download}",
        "download_name": LINKS_FILENAME})
    response["Cache-Control"] = "no-store"  # the links are shown once and never cached
    return response


# --- joining (public) -----------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def course_join_start(request):
    """``join/``: type the code; it leads to the code's own page (``join/<code>/``)."""
    form = JoinCodeEntryForm(request.GET or None)
    if form.is_bound and form.is_valid():
        code = code_normalize(form.cleaned_data["code"])
        if code:
            return redirect("course_join", code=code)
        form.add_error("code", UNKNOWN_CODE)
    return render(request, "courses/join_start.html", {"form": form, "errors": field_errors(form)},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "HEAD", "POST"])
def course_join_page(request, code: str):
    """``join/<code>/``: a signed-in person joins; anyone else makes an account and joins."""
    address = client_address(request)
    try:
        if join_throttled(address):
            minutes = int(settings.JOIN_FAILURE_WINDOW.total_seconds() // 60)
            raise JoinRefused("throttled", THROTTLED.format(minutes=minutes))
        join_code = join_code_usable(code)
    except JoinRefused as refusal:
        return _join_refused(request, refusal, address)
    user = request.user
    membership = (user.memberships.filter(course=join_code.course).first()
                  if user.is_authenticated else None)
    form = None
    if membership is None and request.method == "POST":
        form = JoinForm(request.POST) if user.is_authenticated else SignUpForm(request.POST)
        if form.is_valid():
            try:
                return _join(request, join_code.code, form)
            except JoinRefused as refusal:
                return _join_refused(request, refusal, address)
    elif membership is None:
        form = (JoinForm(initial={"display_name": display_name_of(user)})
                if user.is_authenticated else SignUpForm())
    errors = field_errors(form) if form is not None and form.is_bound else []
    return render(request, "courses/join.html", {
        "join_code": join_code, "membership": membership, "form": form, "errors": errors},
        status=400 if errors else 200)


def _join(request, code: str, form):
    data = form.cleaned_data
    if request.user.is_authenticated:
        membership, _ = course_join(user=request.user, code=code,
                                    display_name=data["display_name"])
    else:
        membership = account_create_and_join(code=code, username=data["username"],
                                             display_name=data["display_name"],
                                             password=data["password1"])
        login(request, membership.user, backend=SESSION_BACKEND)
    messages.success(request, f"You joined {membership.course.name} as "
                              f"{membership.get_role_display().lower()}.")
    return redirect("course_detail", course_id=membership.course_id)


def _join_refused(request, refusal: JoinRefused, address: str):
    # Only a code that does not exist can be a guess; a class clicking a revoked link is not one.
    if refusal.reason == "unknown":
        join_failure_count(address)
    course_join_refused(actor=request.user, refusal=refusal, address=address)
    return render(request, "courses/join_start.html", {
        "form": JoinCodeEntryForm(), "errors": [("code", "Course code", refusal.message)]},
        status=429 if refusal.reason == "throttled" else 400)


# --- a roster account's password (public, through its one-time link) ------------------------


@method_decorator(require_http_methods(["GET", "HEAD", "POST"]), name="dispatch")
class SetPasswordView(PasswordResetConfirmView):
    """Django's set-password page for a link from a roster: the token in the link is moved into
    the session and out of the address (so no Referer carries it), and it works once, because
    setting the password changes what the token was made from; it lapses after
    ``PASSWORD_RESET_TIMEOUT``. Bad input and dead links answer 400."""

    template_name = "courses/set_password.html"

    def form_valid(self, form):
        account_set_password(user=self.user, password=form.cleaned_data["new_password1"])
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        login(self.request, self.user, backend=SESSION_BACKEND)
        messages.success(self.request, "Your password is set; you are signed in.")
        return redirect("course_list")

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def render_to_response(self, context, **kwargs):
        if not self.validlink:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)
