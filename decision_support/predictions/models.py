"""Human oversight (GDPR 22, AI Act 14): the treatment decisions people record for a patient, and
the switch that pauses every prediction. And the stored summary of each patient's ranking that
the patient list's filters search (``CaseRanking``)."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from decision_support.lib.appendonly import AppendOnlyModel
from decision_support.registry.models import TrainingRun
from models.features import VARIANTS
from synthetic_data import ARMS


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


class CaseRanking(models.Model):
    """One patient's ranking by one training run, summarised for the patient list's filters: the
    top arm (``selectors.patient_ranking``'s first arm), whether the run's algorithms put different
    arms first, and the truly best eligible arm (empty without a truth: an imported cohort).

    Computed in the model variant the patient's consent allowed (``variant``), so a row holds
    nothing computed from data the consent withholds; a row whose variant is no longer the one
    the consent allows is stale and is replaced (``services.case_rankings_store``), and a
    consent decision deletes the patient's rows at once. Rows go with the run and the patient
    (CASCADE): erasing a patient erases them.
    """

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey("cohorts.Patient", on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(max_length=16, choices=[(v, v) for v in VARIANTS])
    top_arm = models.CharField(max_length=16, blank=True, choices=[(a, a) for a in ARMS],
                               help_text="Empty: no eligible arm has a model.")
    algorithms_disagree = models.BooleanField()
    true_best_arm = models.CharField(max_length=16, blank=True, choices=[(a, a) for a in ARMS])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "patient"],
                                               name="one_case_ranking_per_run_patient")]

    def __str__(self):
        return f"{self.top_arm} first for {self.patient_id} (run {self.run_id}, {self.variant})"
