"""SeminarPack.course becomes required, in a migration of its own (PostgreSQL cannot alter a table
with pending trigger events left by the data migration before it in the same transaction)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("seminar", "0003_course")]
    operations = [
        migrations.AlterField(
            model_name="seminarpack", name="course",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="seminar_packs", to="courses.course")),
    ]
