"""Warming the per-process model cache (registry.loading.warm_model_cache), as gunicorn's master does
before forking its workers (decision_support/gunicorn.conf.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from decision_support.registry import loading
from decision_support.registry.models import TrainingRun
from models.ranking import RANKING_ALGORITHM
from tests.trained_runs import clear_model_caches, committed_run

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300,
                       algorithms=(RANKING_ALGORITHM,)) as run:
        yield run


@pytest.fixture(autouse=True)
def cold_cache():
    clear_model_caches()
    yield
    clear_model_caches()


def test_after_warming_no_model_of_the_latest_run_queries_the_database(run,
                                                                       django_assert_num_queries):
    rows = list(run.models.all())
    assert loading.warm_model_cache() == len(rows) > 0
    with django_assert_num_queries(0):
        for row in rows:
            model = loading.fitted_model(row)
            assert "explainer" in vars(model)  # built while warming, not by the first page


def test_only_the_latest_run_of_a_cohort_is_warmed(run):
    old = run.models.first()
    newer = TrainingRun.objects.create(
        cohort=run.cohort, scenario=run.scenario, seed=2, n_patients=run.n_patients,
        library_versions=run.library_versions, duration_seconds=0)
    copy = run.models.get(pk=old.pk)
    copy.pk, copy.run = None, newer
    copy.save()

    assert loading.warm_model_cache() == 1
    with CaptureQueriesContext(connection) as newest:
        loading.fitted_model(copy)
    with CaptureQueriesContext(connection) as older:
        loading.fitted_model(old)
    assert len(newest) == 0
    assert len(older) > 0  # loaded on first use, as before

