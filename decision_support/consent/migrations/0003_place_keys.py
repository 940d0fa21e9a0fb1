"""Consent decisions and tombstones by place: ``PlaceConsent``, carried-over records and the
tombstones' place keys, filled in for tombstones made before them (the erased patient's number
is found again by matching the pseudonym, as in the cohorts migration 0002)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from decision_support.cohorts.pseudonyms import patient_place_key, patient_pseudonym


def fill_place_keys(apps, schema_editor):
    Tombstone = apps.get_model("consent", "Tombstone")
    for tombstone in Tombstone.objects.select_related("cohort"):
        cohort = tombstone.cohort
        patient_id = tombstone.pseudonym
        if cohort.source == "generated":
            patient_id = next((i for i in range(1, cohort.n_patients + 1)
                               if patient_pseudonym(str(cohort.uid), i) == tombstone.pseudonym),
                              tombstone.pseudonym)
        tombstone.place_key = patient_place_key(cohort.fingerprint, patient_id)
        tombstone.save(update_fields=["place_key"])


class Migration(migrations.Migration):

    dependencies = [
        ("cohorts", "0002_fingerprints"),
        ("consent", "0002_tombstone"),
    ]

    operations = [
        migrations.CreateModel(
            name="PlaceConsent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("status", models.CharField(choices=[("active", "Active"), ("inactive", "Inactive")],
                                            max_length=16)),
                ("provision", models.CharField(choices=[("permit", "Permit"), ("deny", "Deny")],
                                               max_length=8)),
                ("data_class", models.CharField(choices=[
                    ("clinical", "Demographic and clinical data"), ("biomarker", "Biomarkers"),
                    ("genetic", "Genetic and epigenetic data")], max_length=16)),
                ("purpose", models.CharField(choices=[
                    ("TRAIN", "Education and demonstration"), ("MLTRAIN", "Model training"),
                    ("HRESCH", "Research export")], max_length=16)),
                ("period_start", models.DateTimeField()),
                ("period_end", models.DateTimeField(blank=True, null=True,
                                                    help_text="Exclusive; empty for a decision without end.")),
                ("consent_text_version", models.CharField(max_length=32)),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("recorded_by", models.CharField(max_length=150)),
                ("actor_id", models.BigIntegerField(blank=True, null=True,
                                                    help_text="User id of the person who recorded it, if any.")),
                ("place_key", models.CharField(db_index=True, max_length=64)),
            ],
            options={
                "ordering": ["recorded_at", "id"],
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="consentrecord",
            name="carried_over",
            field=models.BooleanField(default=False, help_text="Carried over from an earlier copy of the same data, where the person recorded it."),
        ),
        migrations.AddField(
            model_name="tombstone",
            name="place_key",
            field=models.CharField(db_index=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="tombstone",
            name="cohort",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="tombstones", to="cohorts.cohort"),
        ),
        migrations.RunPython(fill_place_keys, migrations.RunPython.noop),
    ]
