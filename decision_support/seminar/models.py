"""Ethics-seminar records: reviewers' annotations of a model or a case, and educators' seminar packs.

Both reference patients with ``CASCADE``: erasing a patient erases the annotations of their case
and removes them from every seminar pack (the pack itself stays). The audit entries of the writes
stay and name only pseudonyms.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

RATING_CHOICES = [(1, "1 (low)"), (2, "2"), (3, "3"), (4, "4"), (5, "5 (high)")]
RUBRIC = {
    "plausibility": "Plausibility of the explanation",
    "actionability": "Actionability for a clinician",
    "fairness_concern": "Fairness concern",
}


class Annotation(models.Model):
    """One ethics reviewer's rubric and comment on a trained model or on one patient's case."""

    COMMENT_MAX_CHARS = 2000

    reviewer = models.CharField(max_length=150, help_text="Username at the time (a snapshot).")
    actor_id = models.BigIntegerField(null=True, blank=True)
    model = models.ForeignKey("registry.TrainedModel", on_delete=models.CASCADE, null=True,
                              blank=True, related_name="annotations")
    patient = models.ForeignKey("cohorts.Patient", on_delete=models.CASCADE, null=True,
                                blank=True, related_name="annotations")
    plausibility = models.PositiveSmallIntegerField(RUBRIC["plausibility"], choices=RATING_CHOICES)
    actionability = models.PositiveSmallIntegerField(RUBRIC["actionability"],
                                                     choices=RATING_CHOICES)
    fairness_concern = models.PositiveSmallIntegerField(RUBRIC["fairness_concern"],
                                                        choices=RATING_CHOICES)
    comment = models.TextField(max_length=COMMENT_MAX_CHARS, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(model__isnull=False, patient__isnull=True)
                           | Q(model__isnull=True, patient__isnull=False)),
                name="annotation_one_target"),
            *[models.CheckConstraint(condition=Q(**{f"{name}__gte": 1, f"{name}__lte": 5}),
                                     name=f"annotation_{name}_1_to_5")
              for name in RUBRIC],
        ]

    def __str__(self):
        target = f"model {self.model_id}" if self.model_id else f"patient {self.patient_id}"
        return f"Annotation of {target} by {self.reviewer}"

    @property
    def kind(self) -> str:
        return "model" if self.model_id else "case"

    @property
    def ratings(self) -> list[tuple[str, int]]:
        return [(label, getattr(self, name)) for name, label in RUBRIC.items()]


class SeminarPack(models.Model):
    """A named, ordered set of cases with discussion questions, compiled by an educator."""

    QUESTIONS_MAX_CHARS = 4000
    MAX_CASES = 12  # one PDF of all packets: about three seconds per case to render

    name = models.CharField(max_length=120)
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT,
                               related_name="seminar_packs")
    created_by = models.CharField(max_length=150, help_text="Username at the time (a snapshot).")
    actor_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    questions = models.TextField(max_length=QUESTIONS_MAX_CHARS, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name

    def ordered_cases(self) -> list["SeminarPackCase"]:
        return list(self.cases.select_related("patient__cohort").order_by("position"))


class SeminarPackCase(models.Model):
    pack = models.ForeignKey(SeminarPack, on_delete=models.CASCADE, related_name="cases")
    patient = models.ForeignKey("cohorts.Patient", on_delete=models.CASCADE,
                                related_name="seminar_cases")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["pack", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pack", "position"], name="seminar_case_position"),
            models.UniqueConstraint(fields=["pack", "patient"], name="seminar_case_once_per_pack"),
        ]

    def __str__(self):
        return f"{self.pack} #{self.position}: {self.patient}"
