"""The model registry: training runs, one row per trained model, the fitted models' bytes, and the
training jobs that fill it.

Fitted models are stored in the database, content-addressed by SHA-256, so every app server
sees the same models; the digest is checked on every load.
"""

from django.db import models
from django.db.models import Q

from decision_support.cohorts.models import Cohort
from decision_support.lib.jobs import Job, progress_in_range
from models.algorithms import ALGORITHMS
from models.features import VARIANTS
from synthetic_data import ARMS


class ModelArtifact(models.Model):
    """A fitted model (or a list of bootstrap refits) in the skops format."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    data = models.BinaryField()
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.sha256[:12]


class TrainingRun(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="training_runs")
    scenario = models.CharField(max_length=64)
    seed = models.BigIntegerField()
    n_patients = models.PositiveIntegerField()
    library_versions = models.JSONField()
    policy_value = models.JSONField(null=True, blank=True)
    skipped_arms = models.JSONField(default=dict, blank=True)
    excluded_by_consent = models.JSONField(
        default=dict, blank=True,
        help_text="Per variant: patients left out because they did not consent to model training.")
    excluded_by_split = models.JSONField(
        default=dict, blank=True,
        help_text="Per variant, of the modelled arms' training splits ('training': fitting, "
                  "cross-validation) and held-out splits ('held_out': metrics, intervals, "
                  "calibration, fairness audit, truth check): patients left out because they did "
                  "not consent to model training. The policy value keeps its own count.")
    duration_seconds = models.FloatField()
    # A multi-site cohort's run trains at one site (``Cohort.development_site``); empty otherwise.
    development_site = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Training run {self.pk} on {self.cohort}"


class TrainedModel(models.Model):
    # What a table of models reads (``pages.model_summary``): loading only these leaves the large
    # evaluation and explanation (held-out predictions, SHAP values) in the database.
    SUMMARY_FIELDS = ("run", "arm", "algorithm", "variant", "metrics")

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="models")
    arm = models.CharField(max_length=16, choices=[(a, a) for a in ARMS])
    algorithm = models.CharField(max_length=32, choices=[(a, a) for a in ALGORITHMS])
    variant = models.CharField(max_length=16, choices=[(v, v) for v in VARIANTS])
    artifact = models.ForeignKey(ModelArtifact, on_delete=models.PROTECT, related_name="+")
    features = models.JSONField()
    metrics = models.JSONField()
    evaluation = models.JSONField(help_text="ROC points, calibration, held-out outcomes and predictions.")
    explanation = models.JSONField(help_text="Background mean, medians, global SHAP importance, beeswarm.")
    truth_check = models.JSONField(null=True, blank=True)
    refit_coefficients = models.JSONField(
        null=True, blank=True,
        help_text="Ranking model only: intercept and coefficients of each bootstrap refit.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["arm", "algorithm", "variant"]
        constraints = [models.UniqueConstraint(fields=["run", "arm", "algorithm", "variant"],
                                               name="one_model_per_run_arm_algorithm_variant")]

    def __str__(self):
        return f"{self.arm} {self.algorithm} {self.variant} (run {self.run_id})"


class ModelCharts(models.Model):
    """The model page's charts that depend on one trained model alone (its ROC curve, global
    importance and beeswarm, with their tables: ``pages.model_charts_content``), drawn once: when
    the model is stored, or on the first view of a model stored before them or drawn by another
    ``version`` of them. Apart from ``TrainedModel`` so that its many other reads skip them."""

    model = models.OneToOneField(TrainedModel, on_delete=models.CASCADE, primary_key=True,
                                 related_name="charts")
    version = models.PositiveSmallIntegerField(help_text="pages.MODEL_CHARTS_VERSION")
    content = models.JSONField(help_text="The charts (lib.charts.Chart fields), as a list.")

    def __str__(self):
        return f"Charts of {self.model_id} (version {self.version})"


class ExternalValidation(models.Model):
    """A multi-site run's models scored at one site they were not trained at, computed once at
    the end of training (``models.external.external_validation``): per model its internal and
    external figures, the arms the site could not score, the policy value there (from the
    truth) and the patients consent left out."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE,
                            related_name="external_validations")
    site = models.CharField(max_length=32)
    results = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "site"],
                                               name="one_external_validation_per_run_site")]

    def __str__(self):
        return f"Run {self.run_id} at {self.site}"


class TrainingJob(Job):
    """A training run asked for from a page or the command line and carried out by a task worker
    (``jobs``), with its progress. ``updated_at`` is the worker's heartbeat."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="training_jobs")
    run = models.ForeignKey(TrainingRun, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="+")
    seed = models.BigIntegerField(null=True, blank=True,
                                  help_text="Random seed asked for; drawn at random when empty.")
    began_at = models.DateTimeField(null=True, blank=True,
                                    help_text="When it got a training slot and began to train.")

    class Meta(Job.Meta):
        constraints = [
            progress_in_range("training_job_progress_fraction"),
            # One queued or running job per cohort, whatever races the pages.
            models.UniqueConstraint(fields=["cohort"],
                                    condition=Q(status__in=["queued", "running"]),
                                    name="one_active_training_job_per_cohort"),
        ]

    def __str__(self):
        return f"Training job {self.pk} on cohort {self.cohort_id} ({self.status})"
