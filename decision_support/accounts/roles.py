"""The product's roles. Each is a Django group of the same name (created by a migration)."""

from django.db import models


class Role(models.TextChoices):
    EDUCATOR = "educator", "Educator"
    STUDENT = "student", "Student"
    ETHICS_REVIEWER = "ethics_reviewer", "Ethics reviewer"
    DATA_STEWARD = "data_steward", "Data steward"


def user_roles(user) -> list[Role]:
    if not user.is_authenticated:
        return []
    names = set(user.groups.values_list("name", flat=True))
    return [role for role in Role if role.value in names]
