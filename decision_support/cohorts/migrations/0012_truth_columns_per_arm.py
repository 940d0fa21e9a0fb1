"""The ground truth's two JSON columns (probability and potential response by arm) become one
column per arm, named as in the data dictionary: storing a cohort sends plain numbers instead of
JSON for the server to parse. Patients lose two indexes the constraints already give (the
cohort's, led by every constraint on the cohort; the pattern index of the pseudonym's)."""

from django.db import migrations, models

ARMS = ("placebo", "ssri", "snri", "bupropion", "cbt", "rtms", "esketamine")
TABLE = "cohorts_groundtruth"


def _update(schema_editor, assignments: list[str]) -> None:
    schema_editor.execute(f"UPDATE {TABLE} SET " + ", ".join(assignments))


def json_to_columns(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _update(schema_editor, [
            *(f"p_response_{arm} = (p_response ->> '{arm}')::double precision" for arm in ARMS),
            *(f"response_{arm} = (potential_response ->> '{arm}')::boolean" for arm in ARMS)])
    else:
        _update(schema_editor, [
            *(f"p_response_{arm} = json_extract(p_response, '$.{arm}')" for arm in ARMS),
            *(f"response_{arm} = json_extract(potential_response, '$.{arm}') != 0"
              for arm in ARMS)])


def columns_to_json(apps, schema_editor):
    # In Python: both databases' JSON functions print a double with 15 digits, not all 17.
    GroundTruth = apps.get_model("cohorts", "GroundTruth")
    truths = list(GroundTruth.objects.all())
    for truth in truths:
        truth.p_response = {arm: getattr(truth, f"p_response_{arm}") for arm in ARMS}
        truth.potential_response = {arm: int(getattr(truth, f"response_{arm}")) for arm in ARMS}
    GroundTruth.objects.bulk_update(truths, ["p_response", "potential_response"],
                                    batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("cohorts", "0011_aggregate_permitted_classes"),
    ]

    operations = [
        *(migrations.AddField(model_name="groundtruth", name=f"p_response_{arm}",
                              field=models.FloatField(default=0.0), preserve_default=False)
          for arm in ARMS),
        *(migrations.AddField(model_name="groundtruth", name=f"response_{arm}",
                              field=models.BooleanField(default=False), preserve_default=False)
          for arm in ARMS),
        # Nullable before they go, so that going back can add them to a table with rows.
        migrations.AlterField(model_name="groundtruth", name="p_response",
                              field=models.JSONField(null=True)),
        migrations.AlterField(model_name="groundtruth", name="potential_response",
                              field=models.JSONField(null=True)),
        migrations.RunPython(json_to_columns, columns_to_json),
        migrations.RemoveField(model_name="groundtruth", name="p_response"),
        migrations.RemoveField(model_name="groundtruth", name="potential_response"),
        *(migrations.AddConstraint(
            model_name="groundtruth",
            constraint=models.CheckConstraint(
                condition=models.Q(**{f"p_response_{arm}__gte": 0, f"p_response_{arm}__lte": 1}),
                name=f"truth_p_response_{arm}_range"))
          for arm in ARMS),
        migrations.AlterField(
            model_name="patient", name="cohort",
            field=models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE,
                                    related_name="patients", to="cohorts.cohort")),
        migrations.AlterField(model_name="patient", name="pseudonym",
                              field=models.CharField(max_length=64)),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.UniqueConstraint(fields=("pseudonym",),
                                               name="one_patient_per_pseudonym")),
    ]
