"""One small trained cohort shared by the seminar tests (training takes seconds), and clients
signed in per role."""

import pytest

from decision_support.accounts.roles import Role
from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.constants import CONSENT_CLASSES, Purpose
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.predictions import services
from decision_support.predictions.models import ModelArtifact, TrainedModel
from decision_support.predictions.services import training_run_create


def _clear_model_caches():
    services.load_artifact.cache_clear()
    services._fitted_model.cache_clear()


@pytest.fixture(scope="package")
def trained(django_db_setup, django_db_blocker):
    """A 400-patient cohort and its training run, committed for the package and deleted
    afterwards; ``patients``: three patients whose education consent covers every data class."""
    _clear_model_caches()
    with django_db_blocker.unblock():
        cohort = cohort_generate(n_patients=400, seed=1)
        run = training_run_create(cohort=cohort, seed=1)
        everything = set(CONSENT_CLASSES)
        patients = [p for p in Patient.objects.filter(cohort=cohort).order_by("pk")[:40]
                    if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything][:3]
        models = list(TrainedModel.objects.filter(run=run).order_by("pk")[:2])
    yield {"cohort": cohort, "run": run, "patients": patients, "patient": patients[0],
           "model": models[0], "other_model": models[1]}
    with django_db_blocker.unblock():
        digests = set(TrainedModel.objects.values_list("artifact_id", flat=True))
        Cohort.objects.filter(pk=cohort.pk).delete()
        ModelArtifact.objects.filter(sha256__in=digests).delete()
    _clear_model_caches()


@pytest.fixture
def signed_in(client, make_user):
    """``signed_in(role)`` -> the test client signed in as a new user of that role."""
    def sign_in(role: Role):
        user = make_user(role, username=f"seminar_{Role(role).value}")
        client.force_login(user)
        client.user = user
        return client
    return sign_in
