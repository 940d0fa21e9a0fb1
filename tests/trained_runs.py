"""A generated cohort with a training run, committed for a whole module or package.

Training takes seconds, so test modules share one run: ``committed_run`` stores it outside the
per-test transactions (which roll back only what each test writes) and removes the cohort, its
model artifacts and the loaded-model caches afterwards.

    @pytest.fixture(scope="module")
    def run(django_db_setup, django_db_blocker):
        with committed_run(django_db_blocker, n_patients=400) as run:
            yield run
"""

import functools
from contextlib import contextmanager

import pytest

from decision_support.cohorts.models import Cohort
from decision_support.cohorts.services import cohort_generate
from decision_support.predictions import selectors as predictions_selectors
from decision_support.registry import fairness_views, loading, services
from decision_support.registry import selectors as registry_selectors
from decision_support.registry.models import ModelArtifact, TrainedModel
from models.training import train_suite


def clear_model_caches():
    loading.load_artifact.cache_clear()
    loading._fitted_model.cache_clear()
    loading._refit_coefficients.cache_clear()
    fairness_views._audit.cache_clear()
    clear_run_caches()


def clear_run_caches():
    """Forget what is cached per training run (the algorithm that ranks, the ranking models'
    rows): for a test that rewrites a stored run's metrics, which the app never does."""
    registry_selectors._ranking_choice.cache_clear()
    predictions_selectors._ranking_models.cache_clear()


def narrow_training(patch: pytest.MonkeyPatch, *, n_resamples: int = 20, n_refits: int = 5,
                    **suite_options) -> None:
    """Make the app's training (``registry.services.train_suite``) cheaper for a test: fewer
    bootstrap resamples and refits than the app's 200 and 20 (intervals computed the same way,
    only rougher); ``suite_options`` narrow it further (``algorithms=``, ``variants=``, ...)."""
    patch.setattr(services, "train_suite", functools.partial(
        train_suite, n_resamples=n_resamples, n_refits=n_refits, **suite_options))


@contextmanager
def committed_run(django_db_blocker, *, n_patients: int, cohort_seed: int = 1,
                  training_seed: int = 1, name: str | None = None, scenario: str = "default",
                  site_scenario: str | None = None, prepare=None, **suite_options):
    """Yields the training run of a new generated cohort (``n_patients`` per site with a
    ``site_scenario``); ``prepare(cohort)``, if given, runs before training (to change the
    cohort's consent, say); the training is narrowed by ``narrow_training(**suite_options)``."""
    clear_model_caches()
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        narrow_training(patch, **suite_options)
        cohort = cohort_generate(n_patients=n_patients, seed=cohort_seed, scenario=scenario,
                                 site_scenario=site_scenario, **({"name": name} if name else {}))
        if prepare:
            prepare(cohort)
        run = services.training_run_create(cohort=cohort, seed=training_seed)
    try:
        yield run
    finally:
        with django_db_blocker.unblock():
            digests = set(TrainedModel.objects.filter(run__cohort=cohort)
                          .values_list("artifact_id", flat=True))
            Cohort.objects.filter(pk=cohort.pk).delete()
            ModelArtifact.objects.filter(sha256__in=digests).delete()
        clear_model_caches()
