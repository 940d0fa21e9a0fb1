"""Existing data and people move into the default course: every holder of a course role (then a
site-wide group) becomes a member of it in that role, and the three course-role groups go."""

from django.db import migrations

COURSE_ROLE_NAMES = ("educator", "student", "ethics_reviewer")
DEFAULT_COURSE_NAME = "Demo course"


def into_default_course(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Course = apps.get_model("courses", "Course")
    Membership = apps.get_model("courses", "Membership")
    course, _ = Course.objects.get_or_create(is_default=True,
                                             defaults={"name": DEFAULT_COURSE_NAME})
    for name in COURSE_ROLE_NAMES:
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for user in group.user_set.all():
            Membership.objects.get_or_create(user=user, course=course, defaults={"role": name})
        group.delete()


def back_to_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Membership = apps.get_model("courses", "Membership")
    for name in COURSE_ROLE_NAMES:
        group, _ = Group.objects.get_or_create(name=name)
        group.user_set.add(*[m.user_id for m in Membership.objects.filter(role=name)])


class Migration(migrations.Migration):
    dependencies = [("courses", "0001_courses"), ("accounts", "0002_api_tokens")]
    operations = [migrations.RunPython(into_default_course, back_to_groups)]
