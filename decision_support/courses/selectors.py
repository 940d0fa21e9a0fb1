"""Reads about courses: which courses a person may see."""

from decision_support.accounts.roles import SITE_ROLES

from .models import Course


def visible_course_ids(user) -> frozenset[int]:
    """The courses whose objects a user may list: their own; every course for a site-wide role
    (a data steward looks after every course's patients)."""
    if not user.is_authenticated:
        return frozenset()
    if user.groups.filter(name__in=SITE_ROLES).exists():
        return frozenset(Course.objects.values_list("pk", flat=True))
    return frozenset(user.memberships.values_list("course_id", flat=True))


def courses_where(user, roles) -> list[Course]:
    """The courses in which the user holds one of ``roles`` (where they may create something)."""
    return list(Course.objects.filter(memberships__user=user,
                                      memberships__role__in=[r.value for r in roles]).distinct())
