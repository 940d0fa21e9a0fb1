"""One small trained cohort shared by the seminar tests (training takes seconds), and clients
signed in per role."""

import pytest

from decision_support.accounts.roles import Role
from decision_support.cohorts.models import Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.registry.models import TrainedModel
from tests.trained_runs import committed_run


@pytest.fixture(scope="package")
def trained(django_db_setup, django_db_blocker):
    """A 400-patient cohort and its training run, committed for the package; ``patients``: three
    patients whose education consent covers every data class."""
    with committed_run(django_db_blocker, n_patients=400) as run:
        with django_db_blocker.unblock():
            everything = set(CONSENT_CLASSES)
            patients = [p for p in Patient.objects.filter(cohort=run.cohort).order_by("pk")[:40]
                        if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything][:3]
            models = list(TrainedModel.objects.filter(run=run).order_by("pk")[:2])
        yield {"cohort": run.cohort, "run": run, "patients": patients, "patient": patients[0],
               "model": models[0], "other_model": models[1]}


@pytest.fixture
def signed_in(client, make_user):
    """``signed_in(role)`` -> the test client signed in as a new user of that role."""
    def sign_in(role: Role):
        user = make_user(role, username=f"seminar_{Role(role).value}")
        client.force_login(user)
        client.user = user
        return client
    return sign_in
