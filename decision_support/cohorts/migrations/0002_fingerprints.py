"""Cohort fingerprints and patient place keys, filled in for cohorts stored before them.

A generated cohort of the current generator version is drawn again from its recorded scenario,
seed and size (nothing was left out before this migration, so its size is the requested size)
and its data digested; a patient's number is found again by matching its pseudonym. Other
cohorts cannot be digested again (an imported cohort's patient numbers were kept only as
pseudonyms; an older generator may have drawn other patients): each gets a fingerprint of its
own, and its patients' place keys use their pseudonyms.
"""

import hashlib

from django.db import migrations, models

from decision_support.cohorts.fingerprints import data_fingerprint
from decision_support.cohorts.pseudonyms import patient_place_key, patient_pseudonym
from synthetic_data import GENERATOR_VERSION, make_cohort


def fill_fingerprints(apps, schema_editor):
    Cohort = apps.get_model("cohorts", "Cohort")
    Patient = apps.get_model("cohorts", "Patient")
    for cohort in Cohort.objects.all():
        patient_ids = {}
        if cohort.source == "generated" and cohort.generator_version == GENERATOR_VERSION:
            cohort.fingerprint = data_fingerprint(make_cohort(
                cohort.n_patients, scenario=cohort.scenario, random_state=cohort.seed).patients)
            patient_ids = {patient_pseudonym(str(cohort.uid), i): i
                           for i in range(1, cohort.n_patients + 1)}
        else:
            cohort.fingerprint = hashlib.sha256(
                f"stored before fingerprints:{cohort.uid}".encode()).hexdigest()
        cohort.save(update_fields=["fingerprint"])
        patients = list(Patient.objects.filter(cohort=cohort).only("pk", "pseudonym"))
        for patient in patients:
            # A pseudonym that matches no number (PSEUDONYM_KEY changed since) keeps a place
            # of its own.
            patient.place_key = patient_place_key(
                cohort.fingerprint, patient_ids.get(patient.pseudonym, patient.pseudonym))
        Patient.objects.bulk_update(patients, ["place_key"], batch_size=2_000)


class Migration(migrations.Migration):

    dependencies = [
        ("cohorts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="cohort",
            name="fingerprint",
            field=models.CharField(db_index=True, default="",
                                   help_text="SHA-256 of the data's identity (fingerprints).",
                                   max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="cohort",
            name="erased_left_out",
            field=models.PositiveIntegerField(
                default=0, help_text="Patients of the data left out because they were erased "
                                     "from an earlier copy."),
        ),
        migrations.AddField(
            model_name="patient",
            name="place_key",
            field=models.CharField(default="", max_length=64,
                                   help_text="Keyed place in the cohort's data, shared by copies."),
            preserve_default=False,
        ),
        migrations.RunPython(fill_fingerprints, migrations.RunPython.noop),
    ]
