"""The model registry: training runs, one row per trained model, and the fitted models' bytes.

Fitted models are stored in the database, content-addressed by SHA-256, so every app server
sees the same models; the digest is checked on every load.
"""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from decision_support.cohorts.models import Cohort
from decision_support.lib.appendonly import AppendOnlyModel
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Training run {self.pk} on {self.cohort}"


class TrainedModel(models.Model):
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


# --- Human oversight (GDPR 22, AI Act 14): a recommendation, never a decision -------------------


class TreatmentDecision(models.Model):
    """A treatment a signed-in person chose for one patient, beside what the model recommended.

    Rows go with the patient (CASCADE), so erasing a patient erases their decisions; the audit
    entry (``decision.record``) stays and names only the pseudonym.
    """

    REASON_MAX_CHARS = 1000

    patient = models.ForeignKey("cohorts.Patient", on_delete=models.CASCADE,
                                related_name="treatment_decisions")
    # The run whose ranking was shown; kept as null if that run is ever deleted.
    run = models.ForeignKey(TrainingRun, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="+")
    arm = models.CharField(max_length=16, choices=[(a, a) for a in ARMS])
    recommended_arm = models.CharField(
        max_length=16, blank=True, choices=[(a, a) for a in ARMS],
        help_text="The model's top arm when the decision was made; empty when none was shown "
                  "(predictions paused, no trained models, or no consent to predict).")
    reason = models.CharField(max_length=REASON_MAX_CHARS, blank=True)
    decided_by = models.CharField(max_length=150, help_text="Username at the time (a snapshot).")
    actor_id = models.BigIntegerField(null=True, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            # A decision that departs from the recommendation shown must say why.
            models.CheckConstraint(
                condition=Q(recommended_arm="") | Q(arm=F("recommended_arm")) | ~Q(reason=""),
                name="decision_reason_when_not_the_recommendation"),
            models.CheckConstraint(condition=~Q(arm="placebo"), name="decision_arm_not_placebo"),
        ]

    def __str__(self):
        return f"{self.arm} for {self.patient_id} by {self.decided_by}"

    @property
    def follows_recommendation(self) -> bool | None:
        return self.arm == self.recommended_arm if self.recommended_arm else None


class PredictionPause(AppendOnlyModel):
    """The pause switch as an append-only history: every pause and every resume is a row; the
    newest row is the state in force. No row means predictions run."""

    APPEND_ONLY = "the pause history is append-only: add a row, do not change one"
    REASON_MAX_CHARS = 500

    paused = models.BooleanField()
    by = models.CharField(max_length=150, help_text="Username at the time (a snapshot).")
    actor_id = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=REASON_MAX_CHARS, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        get_latest_by = ["at", "id"]

    def __str__(self):
        return f"{'paused' if self.paused else 'resumed'} by {self.by} at {self.at:%Y-%m-%d %H:%M}"


class TrainingJob(models.Model):
    """A training run started from a page and carried out in the background, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="training_jobs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0, help_text="Fraction done, 0 to 1.")
    message = models.CharField(max_length=200, blank=True)
    started_by = models.CharField(max_length=150, help_text="Username at the time (a snapshot).")
    actor_id = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(TrainingRun, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="+")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1),
                                   name="training_job_progress_fraction"),
            # One queued or running job per cohort, whatever races the pages.
            models.UniqueConstraint(fields=["cohort"],
                                    condition=Q(status__in=["queued", "running"]),
                                    name="one_active_training_job_per_cohort"),
        ]

    def __str__(self):
        return f"Training job {self.pk} on cohort {self.cohort_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
