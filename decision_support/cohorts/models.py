"""Cohorts and their patients, one table per data class.

A patient's demographic and clinical data, biomarkers, genetic and epigenetic data and the
simulation's ground truth each live in their own table, so that one class of one patient's data
can be withheld, withdrawn or erased on its own. Field names equal the data-dictionary names.

A cohort's ``fingerprint`` identifies its data (``fingerprints``), and each patient's
``place_key`` their place in that data (``pseudonyms.patient_place_key``): copies of the same
data share both, so what attaches to them (erasure, consent decisions, the privacy budget)
holds in every copy.
"""

import uuid

from django.db import models
from django.db.models import Q

from synthetic_data import ARMS, DATA_DICTIONARY, SITE_SCENARIOS

from decision_support.lib.jobs import Job, progress_in_range


def _choices(name: str) -> list[tuple[str, str]]:
    return [(c, c) for c in DATA_DICTIONARY[name].categories]


def dictionary_constraints(table: str, names: list[str]) -> list[models.CheckConstraint]:
    """Database checks that keep every stored value inside the data dictionary's range."""
    constraints = []
    for name in names:
        variable = DATA_DICTIONARY[name]
        if variable.categories:
            condition = Q(**{f"{name}__in": variable.categories})
        elif variable.kind == "binary":
            continue
        else:
            condition = Q(**{f"{name}__gte": variable.minimum, f"{name}__lte": variable.maximum})
        constraints.append(models.CheckConstraint(condition=condition, name=f"{table}_{name}_range"))
    return constraints


class Cohort(models.Model):
    class Source(models.TextChoices):
        GENERATED = "generated", "Generated"
        IMPORTED = "imported", "Imported from CSV"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    scenario = models.CharField(max_length=64)
    n_patients = models.PositiveIntegerField()
    seed = models.BigIntegerField(null=True, blank=True)
    generator_version = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # Not unique: every copy of the same data (a cohort re-created from its seed) shares it.
    fingerprint = models.CharField(max_length=64, db_index=True,
                                   help_text="SHA-256 of the data's identity (fingerprints).")
    erased_left_out = models.PositiveIntegerField(
        default=0, help_text="Patients of the data left out because they were erased from an "
                             "earlier copy.")
    is_demo = models.BooleanField(default=False)
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="cohorts")
    created_at = models.DateTimeField(auto_now_add=True)
    consent_version = models.PositiveBigIntegerField(
        default=0, help_text="Raised by every write that changes what the consent gate answers "
                             "for the cohort's patients (consent.services.consent_version_raise):"
                             " stored aggregates of an older version are stale.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The demo: the default scenario's cohort and a multi-site lesson's (seed_demo).
            models.UniqueConstraint(fields=["scenario"], condition=Q(is_demo=True),
                                    name="one_demo_cohort_per_scenario"),
            models.CheckConstraint(condition=~Q(fingerprint=""), name="cohort_has_fingerprint"),
        ]

    def __str__(self):
        return self.name

    @property
    def true_model_scenario(self) -> str:
        """The scenario whose true response model drew the data: a multi-site cohort's
        ``scenario`` names its site scenario, which names the true model's scenario."""
        lesson = SITE_SCENARIOS.get(self.scenario)
        return self.scenario if lesson is None else lesson.scenario

    @property
    def development_site(self) -> str | None:
        """Where a multi-site cohort's models are trained: its site scenario's first site (the
        others validate them); None for a cohort without sites."""
        lesson = SITE_SCENARIOS.get(self.scenario)
        return None if lesson is None else lesson.sites[0].name

    @property
    def site_labels(self) -> dict[str, str]:
        """A multi-site cohort's sites, name to label, the development site first; {} for a
        cohort without sites."""
        lesson = SITE_SCENARIOS.get(self.scenario)
        return {} if lesson is None else {site.name: site.label for site in lesson.sites}


class Patient(models.Model):
    """A pseudonymised patient: the assigned treatment and the observed outcome."""

    # Indexed by the constraints below, each led by the cohort: no index of its own, nor the
    # pattern index Django adds to a unique text field (one index less to fill per patient).
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="patients",
                               db_index=False)
    pseudonym = models.CharField(max_length=64)
    # 1..n within the cohort, in the data's order: a label a teacher can say aloud ("Case 14").
    number = models.PositiveIntegerField()
    place_key = models.CharField(max_length=64,
                                 help_text="Keyed place in the cohort's data, shared by copies.")
    arm = models.CharField(max_length=16, choices=[(a, a) for a in ARMS])
    response = models.BooleanField()
    remission = models.BooleanField()
    # Where a multi-site cohort's patient was collected (``synthetic_data.sites``); null for a
    # cohort without sites. Not a model input, not in the CSV format.
    site = models.CharField(max_length=32, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(response=True) | Q(remission=False),
                                   name="remission_implies_response"),
            models.CheckConstraint(condition=~Q(place_key=""), name="patient_has_place_key"),
            models.UniqueConstraint(fields=["cohort", "place_key"], name="one_patient_per_place"),
            models.UniqueConstraint(fields=["cohort", "number"], name="one_patient_per_number"),
            models.UniqueConstraint(fields=["pseudonym"], name="one_patient_per_pseudonym"),
            *dictionary_constraints("patient", ["arm"]),
        ]

    def __str__(self):
        return self.pseudonym

    @property
    def case_label(self) -> str:
        return f"Case {self.number}"


class ClinicalRecord(models.Model):
    """Demographic and clinical data (one consent class)."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, primary_key=True,
                                   related_name="clinical")
    age = models.PositiveSmallIntegerField()
    sex = models.CharField(max_length=8, choices=_choices("sex"))
    ancestry = models.CharField(max_length=8, choices=_choices("ancestry"))
    childhood_maltreatment = models.BooleanField()
    hamd17 = models.PositiveSmallIntegerField()
    anxious_depression = models.BooleanField()
    episode_duration_months = models.FloatField()
    prior_failures = models.PositiveSmallIntegerField()
    psychiatric_comorbidity = models.BooleanField()

    class Meta:
        constraints = dictionary_constraints("clinical", [
            "age", "sex", "ancestry", "hamd17", "episode_duration_months", "prior_failures"])


class BiomarkerRecord(models.Model):
    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, primary_key=True,
                                   related_name="biomarkers")
    crp_mg_l = models.FloatField()
    il6_pg_ml = models.FloatField()
    racc_theta_z = models.FloatField()
    eeg_ssri_signature_z = models.FloatField()
    dst_nonsuppression = models.BooleanField()
    hippocampal_volume_mm3 = models.PositiveSmallIntegerField()
    bdnf_serum_ng_ml = models.FloatField()

    class Meta:
        constraints = dictionary_constraints("biomarker", [
            "crp_mg_l", "il6_pg_ml", "racc_theta_z", "eeg_ssri_signature_z",
            "hippocampal_volume_mm3", "bdnf_serum_ng_ml"])


class GeneticRecord(models.Model):
    """Genetic and epigenetic data (one consent class)."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, primary_key=True,
                                   related_name="genetics")
    cyp2c19_phenotype = models.CharField(max_length=4, choices=_choices("cyp2c19_phenotype"))
    cyp2d6_phenotype = models.CharField(max_length=4, choices=_choices("cyp2d6_phenotype"))
    polygenic_score_z = models.FloatField()
    httlpr_genotype = models.CharField(max_length=4, choices=_choices("httlpr_genotype"))
    bdnf_met_carrier = models.BooleanField()
    fkbp5_methylation = models.FloatField()

    class Meta:
        constraints = dictionary_constraints("genetic", [
            "cyp2c19_phenotype", "cyp2d6_phenotype", "polygenic_score_z", "httlpr_genotype",
            "fkbp5_methylation"])


TRUE_PROBABILITIES = tuple(f"p_response_{arm}" for arm in ARMS)
POTENTIAL_RESPONSES = tuple(f"response_{arm}" for arm in ARMS)


class GroundTruth(models.Model):
    """What only the simulation knows; kept apart from what a clinic observes. Besides the
    latent drivers, one column per arm for the true response probability
    (``TRUE_PROBABILITIES``) and the potential response (``POTENTIAL_RESPONSES``), added below."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, primary_key=True,
                                   related_name="truth")
    inflammation_z = models.FloatField()
    illness_burden_z = models.FloatField()
    genetic_liability_z = models.FloatField()

    class Meta:
        constraints = dictionary_constraints("truth", list(TRUE_PROBABILITIES))


for _probability, _response in zip(TRUE_PROBABILITIES, POTENTIAL_RESPONSES):
    GroundTruth.add_to_class(_probability, models.FloatField())
    GroundTruth.add_to_class(_response, models.BooleanField())


class CohortAggregate(models.Model):
    """What a cohort's overview and comparison show for one purpose of use (counts, rates,
    charts, small cells already suppressed), and what each patient's consent permits for it (the
    patient list's filters), computed once per consent version of the cohort (``aggregates``)
    instead of per request."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="aggregates")
    purpose = models.CharField(max_length=16)
    consent_version = models.PositiveBigIntegerField()
    valid_until = models.DateTimeField(
        null=True, blank=True, help_text="The next instant a consent period of the cohort starts "
                                         "or ends: the gate may answer otherwise from then on.")
    computed_at = models.DateTimeField()
    content = models.JSONField()
    permitted = models.BinaryField(
        help_text="Each patient's permitted consent classes by case number "
                  "(consent.selectors.PermittedByNumber).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "purpose"],
                                               name="one_aggregate_per_cohort_and_purpose")]


class GenerationJob(Job):
    """A cohort asked for from its page (``cohorts.jobs``): what to generate, and the cohort once
    stored in the same transaction that marks the job done."""

    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE,
                               related_name="generation_jobs")
    scenario = models.CharField(max_length=64, help_text="A scenario or a multi-site scenario.")
    n_patients = models.PositiveIntegerField(help_text="Patients (per site, for a multi-site "
                                                       "scenario).")
    seed = models.BigIntegerField(null=True, blank=True,
                                  help_text="Random seed asked for; drawn at random when empty.")
    name = models.CharField(max_length=120, blank=True)
    purpose = models.CharField(max_length=16, help_text="The purpose of use of the request that "
                                                        "asked for it, audited with the cohort.")
    cohort = models.ForeignKey(Cohort, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")

    class Meta(Job.Meta):
        constraints = [progress_in_range("generation_job_progress_fraction")]

    def __str__(self):
        return f"Cohort generation job {self.pk} in course {self.course_id} ({self.status})"

    @property
    def total_patients(self) -> int:
        """Patients it draws, at every site together."""
        lesson = SITE_SCENARIOS.get(self.scenario)
        return self.n_patients * (len(lesson.sites) if lesson else 1)

    @property
    def site_scenario(self) -> str | None:
        """The multi-site scenario it draws, if ``scenario`` is one."""
        return self.scenario if self.scenario in SITE_SCENARIOS else None


# Where each data class is stored; the storage service and tests read this map.
RECORD_MODELS = {
    "demographic": ClinicalRecord,
    "clinical": ClinicalRecord,
    "biomarker": BiomarkerRecord,
    "genetic": GeneticRecord,
    "epigenetic": GeneticRecord,
    "treatment": Patient,
    "outcome": Patient,
}
