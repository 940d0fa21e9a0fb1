"""Courses: the unit a class works in. Cohorts, training runs, seminar packs, reviews, decisions
and exercises belong to one course (through their cohort where they have one); a member of one
course never sees another's. Course roles are educator, student and ethics reviewer, one per
member per course; the data steward is a site-wide role (a Django group), not a course role.

A person may be in several courses, with a different role in each. Students join with a join
code (expiring, revocable) or are enrolled from a roster by an educator.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from decision_support.accounts.roles import Role

from .codes import code_display

COURSE_ROLES = (Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER)
# A code never makes an educator: educators are made by an educator of the course, by name.
JOIN_CODE_ROLES = (Role.STUDENT, Role.ETHICS_REVIEWER)
DEFAULT_COURSE_NAME = "Demo course"


class CourseQuerySet(models.QuerySet):
    def default(self) -> "Course":
        """The course existing data and the demo belong to (created on first use)."""
        return self.get_or_create(is_default=True, defaults={"name": DEFAULT_COURSE_NAME})[0]


class Course(models.Model):
    NAME_MAX_CHARS = 120

    name = models.CharField(max_length=NAME_MAX_CHARS)
    is_default = models.BooleanField(default=False)
    created_by = models.CharField(max_length=150, blank=True,
                                  help_text="Username at the time (a snapshot).")
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="one_default_course"),
            models.CheckConstraint(condition=~Q(name=""), name="course_has_name"),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A person's role in one course."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=[(r.value, r.label) for r in COURSE_ROLES])
    display_name = models.CharField(max_length=150, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["course", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="one_membership_per_course"),
            models.CheckConstraint(condition=Q(role__in=[r.value for r in COURSE_ROLES]),
                                   name="membership_course_role"),
        ]

    def __str__(self):
        return f"{self.user} ({self.role}) in {self.course}"


class JoinCode(models.Model):
    """A code (or the link that carries it) with which people join a course in one role."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="join_codes")
    code = models.CharField(max_length=32, unique=True)
    role = models.CharField(max_length=16, default=Role.STUDENT.value,
                            choices=[(r.value, r.label) for r in JOIN_CODE_ROLES])
    created_by = models.CharField(max_length=150, help_text="Username at the time (a snapshot).")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=[r.value for r in JOIN_CODE_ROLES]),
                                   name="join_code_never_educator"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")),
                                   name="join_code_expires_after_creation"),
        ]

    def __str__(self):
        return f"{self.code} ({self.course})"

    def status(self, now=None) -> str:
        """``revoked``, ``expired`` or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if (now or timezone.now()) >= self.expires_at else "active"

    @property
    def display(self) -> str:
        return code_display(self.code)
