"""The registry's models, moved here from ``predictions`` with their rows.

``predictions.0005_registry_tables`` renamed the tables to this app's names, so this migration
only takes the models into this app's state (no table is created). The content types follow, so
permissions and admin history keep pointing at the same models.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVED = ("modelartifact", "trainingrun", "trainedmodel", "trainingjob")


def _relabel_content_types(apps, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=old, model__in=MOVED).update(app_label=new)


def content_types_to_registry(apps, schema_editor):
    _relabel_content_types(apps, old="predictions", new="registry")


def content_types_to_predictions(apps, schema_editor):
    _relabel_content_types(apps, old="registry", new="predictions")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cohorts', '0003_fingerprint_constraints'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('predictions', '0005_registry_tables'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ModelArtifact',
                    fields=[
                        ('sha256', models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ('data', models.BinaryField()),
                        ('size_bytes', models.PositiveIntegerField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                ),
                migrations.CreateModel(
                    name='TrainingRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scenario', models.CharField(max_length=64)),
                        ('seed', models.BigIntegerField()),
                        ('n_patients', models.PositiveIntegerField()),
                        ('library_versions', models.JSONField()),
                        ('policy_value', models.JSONField(blank=True, null=True)),
                        ('skipped_arms', models.JSONField(blank=True, default=dict)),
                        ('excluded_by_consent', models.JSONField(blank=True, default=dict, help_text='Per variant: patients left out because they did not consent to model training.')),
                        ('excluded_by_split', models.JSONField(blank=True, default=dict, help_text="Per variant, of the modelled arms' training splits ('training': fitting, cross-validation) and held-out splits ('held_out': metrics, intervals, calibration, fairness audit, truth check): patients left out because they did not consent to model training. The policy value keeps its own count.")),
                        ('duration_seconds', models.FloatField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('cohort', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='training_runs', to='cohorts.cohort')),
                    ],
                    options={
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='TrainingJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=8)),
                        ('progress', models.FloatField(default=0.0, help_text='Fraction done, 0 to 1.')),
                        ('message', models.CharField(blank=True, max_length=200)),
                        ('started_by', models.CharField(help_text='Username at the time (a snapshot).', max_length=150)),
                        ('actor_id', models.BigIntegerField(blank=True, null=True)),
                        ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('error', models.TextField(blank=True)),
                        ('cohort', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='training_jobs', to='cohorts.cohort')),
                        ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='registry.trainingrun')),
                    ],
                    options={
                        'ordering': ['-started_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('progress__gte', 0), ('progress__lte', 1)), name='training_job_progress_fraction'), models.UniqueConstraint(condition=models.Q(('status__in', ['queued', 'running'])), fields=('cohort',), name='one_active_training_job_per_cohort')],
                    },
                ),
                migrations.CreateModel(
                    name='TrainedModel',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('arm', models.CharField(choices=[('placebo', 'placebo'), ('ssri', 'ssri'), ('snri', 'snri'), ('bupropion', 'bupropion'), ('cbt', 'cbt'), ('rtms', 'rtms'), ('esketamine', 'esketamine')], max_length=16)),
                        ('algorithm', models.CharField(choices=[('logistic_regression', 'logistic_regression'), ('random_forest', 'random_forest'), ('gradient_boosting', 'gradient_boosting')], max_length=32)),
                        ('variant', models.CharField(choices=[('full', 'full'), ('no_genetic', 'no_genetic'), ('clinical_only', 'clinical_only')], max_length=16)),
                        ('features', models.JSONField()),
                        ('metrics', models.JSONField()),
                        ('evaluation', models.JSONField(help_text='ROC points, calibration, held-out outcomes and predictions.')),
                        ('explanation', models.JSONField(help_text='Background mean, medians, global SHAP importance, beeswarm.')),
                        ('truth_check', models.JSONField(blank=True, null=True)),
                        ('refit_coefficients', models.JSONField(blank=True, help_text='Ranking model only: intercept and coefficients of each bootstrap refit.', null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('artifact', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.modelartifact')),
                        ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='models', to='registry.trainingrun')),
                    ],
                    options={
                        'ordering': ['arm', 'algorithm', 'variant'],
                        'constraints': [models.UniqueConstraint(fields=('run', 'arm', 'algorithm', 'variant'), name='one_model_per_run_arm_algorithm_variant')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_registry, content_types_to_predictions),
    ]
