"""Fixtures of the patient-page tests (oversight, what-if, explanation comparison); a module may
define its own ``run``, and ``patient`` then comes from that run.

- ``run``: 300 patients and a run of the ranking algorithm only (the patient pages rank and explain
  with it; the full suite would take three times as long), committed for the module.
- ``patient``: a patient whose education consent covers every class, with SSRI and at least one
  other arm ranked.
"""

import pytest

from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient
from decision_support.lib.vocabulary import Purpose
from decision_support.predictions.selectors import patient_ranking
from models.ranking import RANKING_ALGORITHM
from tests.trained_runs import committed_run


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300,
                       algorithms=(RANKING_ALGORITHM,)) as run:
        yield run


@pytest.fixture
def patient(run):
    for candidate in Patient.objects.filter(cohort=run.cohort).order_by("pk"):
        consented = consented_patient(candidate, purpose=Purpose.EDUCATION)
        if consented.variant == "full" and not consented.withheld:
            ranking = patient_ranking(consented, run)
            if ranking is not None and len(ranking) >= 2 and "ssri" in set(ranking["arm"]):
                return candidate
    pytest.fail("no fully consented patient with SSRI and another arm ranked")
