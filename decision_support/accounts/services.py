import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from decision_support.courses.models import Course, Membership

from .models import GuideDismissal
from .roles import SITE_ROLES, Role

DEMO_USERNAME_PREFIX = "demo_"


@transaction.atomic
def demo_accounts_ensure() -> list[tuple[str, Role, str | None]]:
    """One demo account per role, the course roles in the default course. Returns (username,
    role, new password or None if it existed).

    Passwords are random and returned only when the account is created, so they are shown once.
    """
    User = get_user_model()
    results = []
    for role in Role:
        username = f"{DEMO_USERNAME_PREFIX}{role.value}"
        user, created = User.objects.get_or_create(username=username)
        password = None
        if created:
            password = secrets.token_urlsafe(12)
            validate_password(password, user)
            user.set_password(password)
            user.save()
        if role in SITE_ROLES:
            # The migrations make the group; made here too, as the default course is on first use.
            user.groups.add(Group.objects.get_or_create(name=role.value)[0])
        else:
            Membership.objects.get_or_create(user=user, course=Course.objects.default(),
                                             defaults={"role": role.value})
        results.append((username, role, password))
    return results


def guide_dismiss(*, user) -> None:
    """Close the first-visit guide for ``user`` (again: nothing changes)."""
    GuideDismissal.objects.get_or_create(user=user)
