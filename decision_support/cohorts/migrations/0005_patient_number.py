"""Each patient gets a number within the cohort (1..n, in the order stored): "Case 14"."""

from django.db import migrations, models


def number_patients(apps, schema_editor):
    Patient = apps.get_model("cohorts", "Patient")
    for cohort_id in Patient.objects.values_list("cohort_id", flat=True).distinct():
        pks = Patient.objects.filter(cohort_id=cohort_id).order_by("pk").values_list("pk", flat=True)
        Patient.objects.bulk_update([Patient(pk=pk, number=i) for i, pk in enumerate(pks, start=1)],
                                    ["number"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("cohorts", "0004_course")]
    operations = [
        migrations.AddField(model_name="patient", name="number",
                            field=models.PositiveIntegerField(null=True)),
        migrations.RunPython(number_patients, migrations.RunPython.noop),
    ]
