"""Writes: courses, join codes, joining (with or without a new account), rosters, members' roles,
and setting the password of a roster account.

Each write commits with its audit entry (``course.create``, ``join_code.create``,
``join_code.revoke``, ``course.join``, ``course.roster``, ``membership.change``,
``membership.remove``, ``account.set_password``); a refused join is audited on its own
(``course.join_refused``, with the reason and the client's address, never the code typed). Bad
input raises ``ValidationError`` keyed by the form field, or ``JoinRefused`` / ``RosterRefused``,
and writes nothing.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from decision_support.accounts.roles import Role
from decision_support.audit.services import audit_record
from decision_support.lib.vocabulary import Purpose

from .codes import code_generate
from .models import Course, JoinCode, Membership
from .readonly import course_check_open
from .roster import RosterProblem, RosterRefused, RosterRow
from .selectors import JoinRefused, display_name_of, join_code_usable

JOIN_CODE_DEFAULT_DAYS = 7
JOIN_CODE_MAX_DAYS = 90
LAST_EDUCATOR = "A course keeps at least one educator: make someone else an educator first."
NOT_A_MEMBER_HERE = ("'{username}' is an existing account that is not in this course; "
                     "they can join with a code.")


@transaction.atomic
def course_create(*, actor, purpose: str, name: str) -> Course:
    """A new course; its creator is its first educator."""
    course = Course(name=name.strip(), created_by=actor.get_username())
    course.full_clean()
    course.save()
    Membership.objects.create(user=actor, course=course, role=Role.EDUCATOR,
                              display_name=display_name_of(actor))
    audit_record(actor=actor, purpose=purpose, action="course.create", object_type="course",
                 object_ref=str(course.pk), outcome="allowed", detail={"name": course.name})
    return course


@transaction.atomic
def join_code_create(*, actor, purpose: str, course: Course, role: str, days: int) -> JoinCode:
    """A code with which people join ``course`` as ``role`` for ``days`` days."""
    course_check_open(course.pk)
    now = timezone.now()
    code = code_generate()
    while JoinCode.objects.filter(code=code).exists():
        code = code_generate()
    join_code = JoinCode(course=course, code=code, role=role, created_by=actor.get_username(),
                         created_at=now, expires_at=now + dt.timedelta(days=days))
    join_code.full_clean()
    join_code.save()
    audit_record(actor=actor, purpose=purpose, action="join_code.create", object_type="course",
                 object_ref=str(course.pk), outcome="allowed",
                 detail={"join_code": join_code.pk, "role": role,
                         "expires_at": join_code.expires_at.isoformat()})
    return join_code


@transaction.atomic
def join_code_revoke(*, actor, purpose: str, course: Course, join_code_id: int) -> JoinCode:
    """Revoke one of ``course``'s codes that is not revoked yet (JoinCode.DoesNotExist else)."""
    join_code = JoinCode.objects.select_for_update().get(pk=join_code_id, course=course,
                                                         revoked_at__isnull=True)
    join_code.revoked_at = timezone.now()
    join_code.save(update_fields=["revoked_at"])
    audit_record(actor=actor, purpose=purpose, action="join_code.revoke", object_type="course",
                 object_ref=str(course.pk), outcome="allowed",
                 detail={"join_code": join_code.pk, "role": join_code.role})
    return join_code


@transaction.atomic
def course_join(*, user, code: str, display_name: str,
                new_account: bool = False) -> tuple[Membership, bool]:
    """``user`` joins the code's course in the code's role; returns the membership and whether
    it is new (an existing member keeps their role: nothing changes). ``JoinRefused`` if the
    code cannot be used."""
    join_code = join_code_usable(code)
    existing = Membership.objects.filter(user=user, course=join_code.course).first()
    if existing is not None:
        return existing, False
    membership = Membership(user=user, course=join_code.course, role=join_code.role,
                            display_name=display_name.strip())
    membership.full_clean()
    membership.save()
    audit_record(actor=user, purpose=Purpose.EDUCATION, action="course.join",
                 object_type="course", object_ref=str(join_code.course_id), outcome="allowed",
                 detail={"join_code": join_code.pk, "role": join_code.role,
                         "new_account": new_account})
    return membership, True


@transaction.atomic
def account_create_and_join(*, code: str, username: str, display_name: str,
                            password: str) -> Membership:
    """A new account (the password already validated by the form) that joins the code's course
    in the same transaction: a refused code creates no account."""
    user = get_user_model()(username=username)
    user.set_password(password)
    user.full_clean()
    user.save()
    membership, _ = course_join(user=user, code=code, display_name=display_name, new_account=True)
    return membership


@transaction.atomic
def course_join_refused(*, actor, refusal: JoinRefused, address: str) -> None:
    """Audit a refused join: the reason and the address, and the course if the code named one."""
    join_code = refusal.join_code
    audit_record(actor=actor, purpose=Purpose.EDUCATION, action="course.join_refused",
                 object_type="course" if join_code else "",
                 object_ref=str(join_code.course_id) if join_code else "", outcome="denied",
                 detail={"reason": refusal.reason, "address": address,
                         "join_code": join_code.pk if join_code else None})


def _educators_left(course: Course, *, without: Membership) -> int:
    return course.memberships.filter(role=Role.EDUCATOR).exclude(pk=without.pk).count()


@transaction.atomic
def membership_change(*, actor, purpose: str, membership: Membership, role: str) -> Membership:
    """Give a member another course role; the last educator stays one."""
    course_check_open(membership.course_id)
    course = Course.objects.select_for_update().get(pk=membership.course_id)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    before = membership.role
    if before == Role.EDUCATOR and role != Role.EDUCATOR and not _educators_left(
            course, without=membership):
        raise ValidationError({"role": LAST_EDUCATOR})
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit_record(actor=actor, purpose=purpose, action="membership.change", object_type="course",
                 object_ref=str(course.pk), outcome="allowed",
                 detail={"member": membership.user.get_username(), "from": before, "to": role})
    return membership


@transaction.atomic
def membership_remove(*, actor, purpose: str, membership: Membership) -> None:
    """Take a member out of the course (their account stays); never the last educator."""
    course_check_open(membership.course_id)
    course = Course.objects.select_for_update().get(pk=membership.course_id)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.EDUCATOR and not _educators_left(course, without=membership):
        raise ValidationError({"member": LAST_EDUCATOR})
    membership.delete()
    audit_record(actor=actor, purpose=purpose, action="membership.remove", object_type="course",
                 object_ref=str(course.pk), outcome="allowed",
                 detail={"member": membership.user.get_username(), "role": membership.role})


@dataclass(frozen=True)
class RosterEntry:
    row: int
    user: object
    display_name: str
    created: bool  # a new account; else a member already
    needs_link: bool  # no password yet: gets a one-time set-password link


def _link_may_be_issued(user) -> bool:
    """An account nobody has used: no password, never signed in, not staff. Only those get a
    set-password link (a new one if the roster is uploaded again, say after a link lapsed)."""
    return (not user.has_usable_password() and user.last_login is None
            and not (user.is_staff or user.is_superuser))


@transaction.atomic
def course_roster_import(*, actor, purpose: str, course: Course, rows: list[RosterRow],
                         data: bytes) -> list[RosterEntry]:
    """Enrol a parsed roster (``roster.roster_parse``) as students of ``course``: a new account
    without a password for each new username; a member of the course already is left as they
    are. An existing account outside the course is refused (``RosterRefused``, naming its row):
    a roster must not pull in, or hand out a password link to, somebody else's account. All or
    nothing."""
    course_check_open(course.pk)
    User = get_user_model()
    existing = {}
    for row in rows:
        user = User.objects.filter(username__iexact=row.username).first()
        if user is not None:
            existing[row.row] = user
    members = set(course.memberships.filter(user__in=existing.values())
                  .values_list("user_id", flat=True))
    problems = [RosterProblem(number, "username", NOT_A_MEMBER_HERE.format(username=user.username))
                for number, user in existing.items() if user.pk not in members]
    if problems:
        raise RosterRefused(problems)
    entries = []
    for row in rows:
        user = existing.get(row.row)
        created = user is None
        if created:
            user = User(username=row.username)
            user.set_unusable_password()
            user.full_clean()
            user.save()
            Membership.objects.create(user=user, course=course, role=Role.STUDENT,
                                      display_name=row.display_name)
        entries.append(RosterEntry(row=row.row, user=user, display_name=row.display_name,
                                   created=created, needs_link=_link_may_be_issued(user)))
    audit_record(actor=actor, purpose=purpose, action="course.roster", object_type="course",
                 object_ref=str(course.pk), outcome="allowed",
                 detail={"created": sum(e.created for e in entries),
                         "already_members": sum(not e.created for e in entries),
                         "links": sum(e.needs_link for e in entries),
                         "sha256": hashlib.sha256(data).hexdigest()})
    return entries


@transaction.atomic
def account_set_password(*, user, password: str) -> None:
    """Set the password (already validated by the form) through a one-time link."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=user, purpose=Purpose.EDUCATION, action="account.set_password",
                 object_type="user", object_ref=user.get_username(), outcome="allowed")
