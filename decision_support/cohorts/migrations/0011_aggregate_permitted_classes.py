from django.db import migrations, models


def forget_aggregates(apps, schema_editor):
    """Aggregates stored before lack the consent read: the next page computes them again."""
    apps.get_model("cohorts", "CohortAggregate").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("cohorts", "0010_generation_job"),
    ]

    operations = [
        migrations.RunPython(forget_aggregates, migrations.RunPython.noop),
        migrations.AddField(
            model_name="cohortaggregate",
            name="permitted",
            field=models.BinaryField(
                default=b"",
                help_text="Each patient's permitted consent classes by case number "
                          "(consent.selectors.PermittedByNumber)."),
            preserve_default=False,
        ),
    ]
