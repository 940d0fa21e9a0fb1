"""Every cohort belongs to a course; existing ones to the default course."""

import django.db.models.deletion
from django.db import migrations, models


def into_default_course(apps, schema_editor):
    Course = apps.get_model("courses", "Course")
    course, _ = Course.objects.get_or_create(is_default=True, defaults={"name": "Demo course"})
    apps.get_model("cohorts", "cohort").objects.update(course=course)


class Migration(migrations.Migration):
    dependencies = [("cohorts", "0003_fingerprint_constraints"), ("courses", "0002_default_course")]
    operations = [
        migrations.AddField(
            model_name="cohort", name="course",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="cohorts", to="courses.course")),
        migrations.RunPython(into_default_course, migrations.RunPython.noop),
    ]
