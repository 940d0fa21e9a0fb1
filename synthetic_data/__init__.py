"""Synthetic precision-psychiatry cohorts with a known ground truth. Plain Python, no Django."""

from .biology import ARM_BIOLOGY, BIOLOGY, TOPICS, ArmBiology, Biology, Effect, biology_of
from .dictionary import DATA_CLASSES, DATA_DICTIONARY, PATIENT_COLUMNS, TRUTH_COLUMNS, Variable
from .generator import (
    GENERATOR_VERSION,
    Cohort,
    make_cohort,
    make_multisite_cohort,
    true_logit_terms,
    true_response_probabilities,
)
from .importer import CohortImportError, read_patients_csv
from .lessons import (LESSON_MINUTES, LESSON_PAGES, LESSON_PLANS, LessonPlan, Step,
                      get_lesson_plan)
from .parameters import ARM_LABELS, ARMS, FIRST_LINE_ARMS, TREATMENT_RESISTANT_ARMS, CohortParameters
from .scenarios import SCENARIOS, Scenario, get_scenario
from .sites import (
    SITE_COLUMN,
    SITE_SCENARIOS,
    Assignment,
    CaseMix,
    Measurement,
    Outcome,
    Site,
    SiteScenario,
    get_site_scenario,
    site_seed,
)

__all__ = [
    "ARM_BIOLOGY",
    "ARM_LABELS",
    "ArmBiology",
    "BIOLOGY",
    "Biology",
    "ARMS",
    "Assignment",
    "CaseMix",
    "Cohort",
    "CohortImportError",
    "CohortParameters",
    "DATA_CLASSES",
    "DATA_DICTIONARY",
    "Effect",
    "FIRST_LINE_ARMS",
    "GENERATOR_VERSION",
    "LESSON_MINUTES",
    "LESSON_PAGES",
    "LESSON_PLANS",
    "LessonPlan",
    "Measurement",
    "Outcome",
    "PATIENT_COLUMNS",
    "SCENARIOS",
    "SITE_COLUMN",
    "SITE_SCENARIOS",
    "Scenario",
    "Site",
    "Step",
    "SiteScenario",
    "TOPICS",
    "TREATMENT_RESISTANT_ARMS",
    "TRUTH_COLUMNS",
    "Variable",
    "biology_of",
    "get_lesson_plan",
    "get_scenario",
    "get_site_scenario",
    "make_cohort",
    "make_multisite_cohort",
    "site_seed",
    "true_logit_terms",
    "read_patients_csv",
    "true_response_probabilities",
]
