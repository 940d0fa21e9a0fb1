"""The product's roles. The data steward is site-wide: a Django group of that name. Educator,
student and ethics reviewer are course roles: a person holds one per course they are a member of
(``courses.Membership``), and may hold different ones in different courses."""

from django.db import models


class Role(models.TextChoices):
    EDUCATOR = "educator", "Educator"
    STUDENT = "student", "Student"
    ETHICS_REVIEWER = "ethics_reviewer", "Ethics reviewer"
    DATA_STEWARD = "data_steward", "Data steward"


SITE_ROLES = (Role.DATA_STEWARD,)


def _site_roles(user) -> set[str]:
    return set(user.groups.filter(name__in=SITE_ROLES).values_list("name", flat=True))


def user_roles(user) -> list[Role]:
    """Every role the user holds: site-wide, and in any of their courses."""
    if not user.is_authenticated:
        return []
    names = _site_roles(user) | set(user.memberships.values_list("role", flat=True))
    return [role for role in Role if role.value in names]


def roles_in_course(user, course_id: int) -> list[Role]:
    """The user's roles where one course's data is concerned: site-wide ones and their role in
    that course (none if they are not a member)."""
    if not user.is_authenticated:
        return []
    names = _site_roles(user) | set(user.memberships.filter(course_id=course_id)
                                    .values_list("role", flat=True))
    return [role for role in Role if role.value in names]
