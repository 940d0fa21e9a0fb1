"""The product's roles. The data steward is site-wide: a Django group of that name. Educator,
student and ethics reviewer are course roles: a person holds one per course they are a member of
(``courses.Membership``), and may hold different ones in different courses."""

from dataclasses import dataclass

from django.db import models


class Role(models.TextChoices):
    EDUCATOR = "educator", "Educator"
    STUDENT = "student", "Student"
    ETHICS_REVIEWER = "ethics_reviewer", "Ethics reviewer"
    DATA_STEWARD = "data_steward", "Data steward"


SITE_ROLES = (Role.DATA_STEWARD,)


@dataclass(frozen=True)
class HeldRoles:
    """Every role a user holds, read once: site-wide role names and (course pk, role) pairs."""

    site: frozenset[str] = frozenset()
    memberships: frozenset[tuple[int, str]] = frozenset()

    def everywhere(self) -> list[Role]:
        """Site-wide roles and the roles held in any course."""
        return _in_order(self.site | {role for _, role in self.memberships})

    def in_course(self, course_id: int) -> list[Role]:
        """Site-wide roles and the role held in one course (none if not a member)."""
        return _in_order(self.site | {role for course, role in self.memberships
                                      if course == course_id})

    @property
    def course_ids(self) -> frozenset[int]:
        return frozenset(course for course, _ in self.memberships)


def _in_order(names: set[str]) -> list[Role]:
    return [role for role in Role if role.value in names]


def held_roles(user) -> HeldRoles:
    """What ``user`` holds now, in two queries (none for an anonymous user)."""
    if not user.is_authenticated:
        return HeldRoles()
    return HeldRoles(
        site=frozenset(user.groups.filter(name__in=SITE_ROLES).values_list("name", flat=True)),
        memberships=frozenset(user.memberships.order_by().values_list("course_id", "role")))


def user_roles(user) -> list[Role]:
    """Every role the user holds: site-wide, and in any of their courses."""
    return held_roles(user).everywhere()


def roles_in_course(user, course_id: int) -> list[Role]:
    """The user's roles where one course's data is concerned: site-wide ones and their role in
    that course (none if they are not a member)."""
    return held_roles(user).in_course(course_id)
