"""Each scenario's lesson shows at the smallest and the largest size the cohort page offers for it.

The checks are ``models.lessons`` (each states its lesson as the scenario's ``expected`` text
does); ``benchmarks/bench_scenario_lessons.py`` runs them over sizes and seeds and found each
scenario's ``min_patients``. Marked slow: real training on cohorts up to 20,000 patients.
"""

import pytest

from decision_support.cohorts.forms import MAX_PATIENTS, smallest_size
from models.lessons import LESSON_CHECKS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("size", ["smallest", "largest"])
@pytest.mark.parametrize("scenario", list(LESSON_CHECKS))
def test_the_lesson_shows_at_every_size_the_page_offers(scenario, size):
    n = smallest_size(scenario) if size == "smallest" else MAX_PATIENTS
    assert LESSON_CHECKS[scenario](n, 1), f"{scenario} at {n:,} patients"
