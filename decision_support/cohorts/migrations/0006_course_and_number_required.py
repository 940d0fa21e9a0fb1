"""Cohort.course and Patient.number become required, in a migration of their own: on PostgreSQL
a table whose rows the data migrations before just updated has pending (deferred) trigger events
until that transaction commits, and cannot be altered in it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cohorts", "0005_patient_number")]
    operations = [
        migrations.AlterField(
            model_name="cohort", name="course",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="cohorts", to="courses.course")),
        migrations.AlterField(model_name="patient", name="number",
                              field=models.PositiveIntegerField()),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.UniqueConstraint(fields=("cohort", "number"),
                                               name="one_patient_per_number")),
    ]
