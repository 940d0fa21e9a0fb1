"""Course services: every write audited with its rule held in the database or the service."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.courses.codes import ALPHABET, CODE_LENGTH, code_display, code_normalize
from decision_support.courses.models import JoinCode, Membership
from decision_support.courses.selectors import JoinRefused
from decision_support.courses.services import (LAST_EDUCATOR, account_create_and_join,
                                               course_create, course_join, join_code_create,
                                               membership_change, membership_remove)

pytestmark = pytest.mark.django_db


def test_the_creator_of_a_course_is_its_educator_and_it_is_audited(make_user):
    teacher = make_user(Role.EDUCATOR, username="teacher")
    course = course_create(actor=teacher, purpose="TRAIN", name="  Night class  ")
    assert course.name == "Night class" and course.created_by == "teacher"
    assert Membership.objects.get(course=course).user == teacher
    assert Membership.objects.get(course=course).role == Role.EDUCATOR
    entry = AuditEntry.objects.filter(action="course.create").get()
    assert (entry.actor, entry.object_ref) == ("teacher", str(course.pk))


def test_a_code_is_eight_unambiguous_characters_and_read_leniently(join_code):
    assert len(join_code.code) == CODE_LENGTH == 8 and set(join_code.code) <= set(ALPHABET)
    assert not set("01IO") & set(ALPHABET)
    typed = f"  {code_display(join_code.code).lower()} "
    assert code_normalize(typed) == join_code.code
    assert (join_code.expires_at - join_code.created_at).days == 7


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.DATA_STEWARD, "superuser"])
def test_no_code_makes_an_educator_or_any_other_role(educator, course, role):
    with pytest.raises((ValidationError, IntegrityError)), transaction.atomic():
        join_code_create(actor=educator, purpose="TRAIN", course=course, role=role, days=7)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses it too
        JoinCode.objects.create(course=course, code="ABCD2345", role=role, created_by="x",
                                expires_at=timezone.now() + dt.timedelta(days=1))
    assert not JoinCode.objects.exists()


@pytest.mark.parametrize("reason", ["unknown", "expired", "revoked", "archived"])
def test_a_code_that_cannot_be_used_creates_nothing_and_says_why(make_user, dead_code, reason):
    code = "ZZZZ9999" if reason == "unknown" else dead_code(reason).code
    users, memberships = get_user_model().objects.count(), Membership.objects.count()
    with pytest.raises(JoinRefused) as refused:
        account_create_and_join(code=code, username="newcomer", display_name="New Comer",
                                password="a-long-pass-phrase-77")
    assert refused.value.reason == reason
    with pytest.raises(JoinRefused):
        course_join(user=make_user(Role.STUDENT, username="someone"), code=code,
                    display_name="Some One")
    assert get_user_model().objects.count() == users + 1  # only make_user's
    assert Membership.objects.count() == memberships + 1


def test_joining_twice_changes_nothing(make_user, join_code, course):
    student = make_user(Role.STUDENT, username="s1", course=course)
    before = AuditEntry.objects.count()
    membership, created = course_join(user=student, code=join_code.code, display_name="Other")
    assert not created and membership.role == Role.STUDENT and membership.display_name == ""
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("change", ["demote", "remove"])
def test_the_last_educator_stays(educator, course, change):
    membership = Membership.objects.get(user=educator, course=course)
    with pytest.raises(ValidationError) as error:
        if change == "demote":
            membership_change(actor=educator, purpose="TRAIN", membership=membership,
                              role=Role.STUDENT)
        else:
            membership_remove(actor=educator, purpose="TRAIN", membership=membership)
    assert LAST_EDUCATOR in str(error.value)
    assert Membership.objects.get(pk=membership.pk).role == Role.EDUCATOR


@pytest.mark.parametrize("change", ["demote", "remove"])
def test_an_educator_may_step_down_when_another_remains(make_user, educator, course, change):
    make_user(Role.EDUCATOR, username="co_teacher", course=course)
    membership = Membership.objects.get(user=educator, course=course)
    if change == "demote":
        membership_change(actor=educator, purpose="TRAIN", membership=membership,
                          role=Role.STUDENT)
        assert Membership.objects.get(pk=membership.pk).role == Role.STUDENT
    else:
        membership_remove(actor=educator, purpose="TRAIN", membership=membership)
        assert not Membership.objects.filter(pk=membership.pk).exists()
    action = "membership.change" if change == "demote" else "membership.remove"
    assert AuditEntry.objects.filter(action=action).get().detail["member"] == "teacher"
