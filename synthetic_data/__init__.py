"""Synthetic precision-psychiatry cohorts with a known ground truth. Plain Python, no Django."""

from .dictionary import DATA_CLASSES, DATA_DICTIONARY, PATIENT_COLUMNS, TRUTH_COLUMNS, Variable
from .generator import GENERATOR_VERSION, Cohort, make_cohort, true_logit_terms, true_response_probabilities
from .importer import CohortImportError, read_patients_csv
from .parameters import ARM_LABELS, ARMS, FIRST_LINE_ARMS, TREATMENT_RESISTANT_ARMS, CohortParameters
from .scenarios import SCENARIOS, Scenario, get_scenario

__all__ = [
    "ARM_LABELS",
    "ARMS",
    "Cohort",
    "CohortImportError",
    "CohortParameters",
    "DATA_CLASSES",
    "DATA_DICTIONARY",
    "FIRST_LINE_ARMS",
    "GENERATOR_VERSION",
    "PATIENT_COLUMNS",
    "SCENARIOS",
    "Scenario",
    "TREATMENT_RESISTANT_ARMS",
    "TRUTH_COLUMNS",
    "Variable",
    "get_scenario",
    "make_cohort",
    "true_logit_terms",
    "read_patients_csv",
    "true_response_probabilities",
]
