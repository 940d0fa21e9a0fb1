"""A live case exercise: students choose a treatment for a few cases, then the educator reveals how
their choices, the model's and the truly best arm compare.

An exercise belongs to a course (its cohort's) and shows one training run's ranking. Its state
moves one way: draft, open (students answer), revealed (answers are final; the truth of its
cases is released to its students on their own result page). Patients are referenced with
``CASCADE``: erasing a patient removes their case and its answers from every exercise.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from synthetic_data import ARMS

CASE_COUNT = "An exercise has {low} to {high} cases; you listed {count}."


class Mode(models.TextChoices):
    FEATURES_ONLY = "features_only", "Features only (no model)"
    WITH_MODEL = "with_model", "Features with the model's ranking and SHAP"
    HALF_WITH_MODEL = "half_with_model", "A random half of the class with the model"


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open for answers"
    REVEALED = "revealed", "Revealed"


class Exercise(models.Model):
    MIN_CASES, MAX_CASES = 3, 10

    Mode, State = Mode, State  # Exercise.State.OPEN reads as the field's choices

    name = models.CharField(max_length=120)
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="exercises")
    cohort = models.ForeignKey("cohorts.Cohort", on_delete=models.CASCADE, related_name="exercises")
    run = models.ForeignKey("registry.TrainingRun", on_delete=models.CASCADE,
                            related_name="exercises")
    mode = models.CharField(max_length=16, choices=Mode.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    # Seeds the half-with-model assignment, so it can be reproduced from the stored rows.
    seed = models.BigIntegerField()
    created_by = models.CharField(max_length=150, help_text="Username at the time (a snapshot).")
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="exercise_mode"),
            models.CheckConstraint(condition=Q(state__in=State.values), name="exercise_state"),
            models.CheckConstraint(condition=~Q(name=""), name="exercise_has_name"),
            models.CheckConstraint(
                condition=(Q(state="draft", opened_at__isnull=True, revealed_at__isnull=True)
                           | Q(state="open", opened_at__isnull=False, revealed_at__isnull=True)
                           | Q(state="revealed", opened_at__isnull=False,
                               revealed_at__isnull=False)),
                name="exercise_state_times"),
        ]

    def __str__(self):
        return self.name

    @property
    def revealed(self) -> bool:
        return self.state == self.State.REVEALED

    def ordered_cases(self) -> list["ExerciseCase"]:
        return list(self.cases.select_related("patient").order_by("position"))


class ExerciseCase(models.Model):
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="cases")
    patient = models.ForeignKey("cohorts.Patient", on_delete=models.CASCADE,
                                related_name="exercise_cases")
    position = models.PositiveSmallIntegerField()
    # The model's top arm when the exercise was made: the first arm of the patient page's ranking
    # (``predictions.selectors.patient_ranking`` with the exercise's run), kept so the reveal
    # scores the recommendation students saw even if predictions are paused later.
    model_top_arm = models.CharField(max_length=16, choices=[(a, a) for a in ARMS])

    class Meta:
        ordering = ["exercise", "position"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "position"], name="exercise_case_position"),
            models.UniqueConstraint(fields=["exercise", "patient"], name="exercise_case_once"),
            models.CheckConstraint(condition=Q(model_top_arm__in=ARMS),
                                   name="exercise_case_model_arm"),
        ]

    def __str__(self):
        return f"{self.exercise} #{self.position}: {self.patient.case_label}"


class ExerciseAssignment(models.Model):
    """Whether one student sees the model in one exercise, fixed when they first open it."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="exercise_assignments")
    # The order students arrived in: pairs of arrivals split one with, one without the model.
    arrival = models.PositiveIntegerField()
    shows_model = models.BooleanField()
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["exercise", "arrival"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "user"], name="one_assignment_per_student"),
            models.UniqueConstraint(fields=["exercise", "arrival"], name="assignment_arrival"),
        ]


class ExerciseAnswer(models.Model):
    """One student's choice for one case. Until the reveal a student may change it (the row is
    updated); afterwards answers are final."""

    REASON_MAX_CHARS = 1000

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="answers")
    case = models.ForeignKey(ExerciseCase, on_delete=models.CASCADE, related_name="answers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="exercise_answers")
    arm = models.CharField(max_length=16, choices=[(a, a) for a in ARMS])
    confidence = models.PositiveSmallIntegerField()
    reason = models.TextField(max_length=REASON_MAX_CHARS)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["exercise", "case__position", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="one_answer_per_case"),
            models.CheckConstraint(condition=Q(confidence__gte=0, confidence__lte=100),
                                   name="answer_confidence_0_to_100"),
            models.CheckConstraint(condition=Q(arm__in=ARMS), name="answer_arm"),
            models.CheckConstraint(condition=~Q(reason=""), name="answer_has_reason"),
        ]
