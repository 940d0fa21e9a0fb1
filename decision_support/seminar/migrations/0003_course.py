"""Every seminarpack belongs to a course; existing ones to the default course."""

import django.db.models.deletion
from django.db import migrations, models


def into_default_course(apps, schema_editor):
    Course = apps.get_model("courses", "Course")
    course, _ = Course.objects.get_or_create(is_default=True, defaults={"name": "Demo course"})
    apps.get_model("seminar", "seminarpack").objects.update(course=course)


class Migration(migrations.Migration):
    dependencies = [("seminar", "0002_annotation_model_in_registry"), ("courses", "0002_default_course")]
    operations = [
        migrations.AddField(
            model_name="seminarpack", name="course",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="seminar_packs", to="courses.course")),
        migrations.RunPython(into_default_course, migrations.RunPython.noop),
    ]
