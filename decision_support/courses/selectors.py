"""Reads: which courses a person may see, a user's courses, one course for its members, its
people as a member may see them, join codes and the refusal of a code that cannot be used."""

from django.db.models import QuerySet
from django.http import Http404

from decision_support.accounts.roles import HeldRoles, Role, held_roles

from .codes import CODE_LENGTH, code_normalize
from .models import Course, JoinCode, Membership

UNKNOWN_CODE = (f"There is no course with this code. Check it: {CODE_LENGTH} letters and "
                "digits, never 0, 1, I or O.")
EXPIRED_CODE = "This code expired on {at:%Y-%m-%d %H:%M} UTC. Ask your educator for a new one."
REVOKED_CODE = "This code was revoked. Ask your educator for a new one."
ARCHIVED_COURSE = "This course is archived: nobody can join it any more."
THROTTLED = ("Too many wrong codes came from your network in the last {minutes} minutes; "
             "try again later.")


class JoinRefused(Exception):
    """A join code that cannot be used: ``reason`` (unknown, expired, revoked, archived,
    throttled) for the audit log, ``message`` for the person, and the code's row if it exists."""

    def __init__(self, reason: str, message: str, join_code: JoinCode | None = None):
        super().__init__(message)
        self.reason, self.message, self.join_code = reason, message, join_code


def visible_course_ids(user, held: HeldRoles | None = None) -> frozenset[int]:
    """The courses whose objects a user may list: their own; every course for a site-wide role
    (a data steward looks after every course's patients). ``held``: the user's roles if read
    already (``held_roles``)."""
    held = held_roles(user) if held is None else held
    if held.site:
        return frozenset(Course.objects.values_list("pk", flat=True))
    return held.course_ids


def courses_where(user, roles) -> list[Course]:
    """The courses in which the user holds one of ``roles`` (where they may create something)."""
    return list(Course.objects.filter(memberships__user=user,
                                      memberships__role__in=[r.value for r in roles]).distinct())


def memberships_of(user) -> QuerySet[Membership]:
    return user.memberships.select_related("course").order_by("course__name", "course_id")


def member_course(request, course_id: int) -> Course:
    """The course, if the user is a member of it; 404 otherwise."""
    course = Course.objects.filter(pk=course_id, pk__in=request.course_ids).first()
    if course is None:
        raise Http404("no such course")
    return course


def display_name_of(user) -> str:
    """The name the user last chose to be shown by in a course, else their username."""
    named = user.memberships.exclude(display_name="").order_by("-joined_at", "-id").first()
    return named.display_name if named else user.get_username()


def course_people(course: Course, *, viewer, whole_class: bool) -> dict[str, list[Membership]]:
    """Members by role (educators first). Without ``whole_class``, the educators and the viewer
    alone: a student sees who teaches, not who else is in the class."""
    members = course.memberships.select_related("user").order_by("display_name", "user__username")
    if not whole_class:
        members = members.filter(role=Role.EDUCATOR) | members.filter(user=viewer)
    people = {role: [] for role in (Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER)}
    for membership in members:
        people[Role(membership.role)].append(membership)
    return people


def join_codes_of(course: Course) -> QuerySet[JoinCode]:
    return course.join_codes.all()


def join_code_usable(text: str, *, now=None) -> JoinCode:
    """The join code someone typed, or ``JoinRefused`` saying why it cannot be used."""
    code = code_normalize(text)
    join_code = (JoinCode.objects.select_related("course").filter(code=code).first()
                 if code else None)
    if join_code is None:
        raise JoinRefused("unknown", UNKNOWN_CODE)
    status = join_code.status(now)
    if status == "revoked":
        raise JoinRefused("revoked", REVOKED_CODE, join_code)
    if status == "expired":
        raise JoinRefused("expired", EXPIRED_CODE.format(at=join_code.expires_at), join_code)
    if join_code.course.archived_at is not None:
        raise JoinRefused("archived", ARCHIVED_COURSE, join_code)
    return join_code
