"""The registry's models leave this app's state (their tables already carry ``registry``'s names);
the decisions' link to the run they were shown now points at ``registry.TrainingRun``. Nothing in
the database changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0005_registry_tables'),
        ('registry', '0001_initial'),
        ('seminar', '0002_annotation_model_in_registry'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='treatmentdecision',
                    name='run',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='registry.trainingrun'),
                ),
                migrations.DeleteModel(name='TrainingJob'),
                migrations.DeleteModel(name='TrainedModel'),
                migrations.DeleteModel(name='TrainingRun'),
                migrations.DeleteModel(name='ModelArtifact'),
            ],
        ),
    ]
