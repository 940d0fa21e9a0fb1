"""The privacy budget is charged to the cohort's data (its fingerprint), not the cohort row:
existing spends take their cohort's fingerprint, and deleting a cohort no longer removes them."""

import django.db.models.deletion
from django.db import migrations, models


def fill_fingerprints(apps, schema_editor):
    PrivacySpend = apps.get_model("privacy", "PrivacySpend")
    Cohort = apps.get_model("cohorts", "Cohort")
    for cohort in Cohort.objects.filter(privacy_spends__isnull=False).distinct():
        PrivacySpend.objects.filter(cohort=cohort).update(fingerprint=cohort.fingerprint)


class Migration(migrations.Migration):

    dependencies = [
        ("cohorts", "0002_fingerprints"),
        ("privacy", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="privacyspend",
            name="fingerprint",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="privacyspend",
            name="cohort",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="privacy_spends", to="cohorts.cohort"),
        ),
        migrations.RunPython(fill_fingerprints, migrations.RunPython.noop),
    ]
