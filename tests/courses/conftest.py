"""Courses, people in them, and join codes; the join throttle's counts start empty in each test."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from decision_support.accounts.roles import Role
from decision_support.courses.models import Course, JoinCode
from decision_support.courses.services import join_code_create


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def course(db):
    return Course.objects.create(name="Psychiatry 101", created_by="fixture")


@pytest.fixture
def other_course(db):
    return Course.objects.create(name="Pharmacology 202", created_by="fixture")


@pytest.fixture
def educator(make_user, course):
    return make_user(Role.EDUCATOR, username="teacher", course=course)


@pytest.fixture
def join_code(educator, course):
    """An active student code of ``course``."""
    return join_code_create(actor=educator, purpose="TRAIN", course=course, role=Role.STUDENT,
                            days=7)


@pytest.fixture
def dead_code(educator, course):
    """Factory: a code of ``course`` that cannot be used for ``reason`` (expired, revoked,
    archived)."""

    def make(reason: str) -> JoinCode:
        code = join_code_create(actor=educator, purpose="TRAIN", course=course,
                                role=Role.STUDENT, days=1)
        if reason == "expired":
            JoinCode.objects.filter(pk=code.pk).update(
                created_at=timezone.now() - dt.timedelta(days=3),
                expires_at=timezone.now() - dt.timedelta(days=2))
        elif reason == "revoked":
            JoinCode.objects.filter(pk=code.pk).update(revoked_at=timezone.now())
        elif reason == "archived":
            Course.objects.filter(pk=course.pk).update(archived_at=timezone.now())
        return code

    return make
