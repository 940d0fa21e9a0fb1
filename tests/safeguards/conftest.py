"""One small trained cohort shared by the access tests (training takes seconds)."""

import pytest

from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.constants import CONSENT_CLASSES, Purpose
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.predictions import services
from decision_support.predictions.models import ModelArtifact, TrainedModel, TrainingJob
from decision_support.predictions.services import training_run_create
from decision_support.seminar.models import SeminarPack, SeminarPackCase


@pytest.fixture(scope="package")
def objects(django_db_setup, django_db_blocker):
    """A 400-patient cohort, its training run, one arm with models and one patient whose consent
    for education covers every data class; committed
    for the package and deleted afterwards."""
    services.load_artifact.cache_clear()
    services._fitted_model.cache_clear()
    with django_db_blocker.unblock():
        cohort = cohort_generate(n_patients=400, seed=1)
        run = training_run_create(cohort=cohort, seed=1)
        model = TrainedModel.objects.filter(run=run).order_by("pk").first()
        everything = set(CONSENT_CLASSES)
        patient = next(p for p in Patient.objects.filter(cohort=cohort).order_by("pk")
                       if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything)
        job = TrainingJob.objects.create(cohort=cohort, status=TrainingJob.Status.DONE, progress=1.0,
                                         started_by="fixture", run=run)
        pack = SeminarPack.objects.create(name="Fixture pack", created_by="fixture")
        SeminarPackCase.objects.create(pack=pack, patient=patient, position=1)
    yield {"cohort": cohort, "run": run, "arm": model.arm, "patient": patient, "job": job,
           "pack": pack}
    with django_db_blocker.unblock():
        digests = set(TrainedModel.objects.values_list("artifact_id", flat=True))
        Cohort.objects.filter(pk=cohort.pk).delete()
        SeminarPack.objects.filter(pk=pack.pk).delete()
        ModelArtifact.objects.filter(sha256__in=digests).delete()
