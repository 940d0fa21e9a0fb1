"""One small trained cohort shared by the access tests (training takes seconds)."""

import pytest
from django.contrib.auth import get_user_model

from decision_support.cohorts.models import GenerationJob, Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.registry.models import TrainedModel, TrainingJob
from decision_support.exercises.models import Exercise
from decision_support.exercises.services import (exercise_create, exercise_open,
                                                  exercise_reveal)
from decision_support.seminar.models import SeminarPack, SeminarPackCase
from tests.audit.tampering import truncate
from tests.trained_runs import committed_run


@pytest.fixture(scope="package")
def objects(django_db_setup, django_db_blocker):
    """A 400-patient cohort, its training run, one arm with models, one patient whose consent
    for education covers every data class, a finished training job, a finished cohort generation
    job and a seminar pack with that patient; committed for the package and deleted afterwards."""
    with committed_run(django_db_blocker, n_patients=400) as run:
        with django_db_blocker.unblock():
            model = TrainedModel.objects.filter(run=run).order_by("pk").first()
            everything = set(CONSENT_CLASSES)
            patient = next(p for p in Patient.objects.filter(cohort=run.cohort).order_by("pk")
                           if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything)
            job = TrainingJob.objects.create(cohort=run.cohort, status=TrainingJob.Status.DONE,
                                             progress=1.0, started_by="fixture", run=run)
            generation_job = GenerationJob.objects.create(
                course=run.cohort.course, scenario=run.cohort.scenario,
                n_patients=run.cohort.n_patients, purpose=Purpose.EDUCATION,
                status=GenerationJob.Status.DONE, progress=1.0, started_by="fixture",
                cohort=run.cohort)
            pack = SeminarPack.objects.create(name="Fixture pack", created_by="fixture",
                                              course=run.cohort.course)
            SeminarPackCase.objects.create(pack=pack, patient=patient, position=1)
            others = [p for p in Patient.objects.filter(cohort=run.cohort).order_by("pk")
                      if p != patient and consent_permitted_classes(
                          p, purpose=Purpose.EDUCATION) == everything][:2]
            author = get_user_model().objects.create_user("fixture_educator")
            exercise, revealed = (
                exercise_open(actor=author, purpose=Purpose.EDUCATION, exercise=exercise_create(
                    actor=author, purpose=Purpose.EDUCATION, cohort=run.cohort, name=name,
                    mode=Exercise.Mode.HALF_WITH_MODEL, patients=[patient, *others]))
                for name in ("Fixture exercise", "Fixture exercise, revealed"))
            revealed = exercise_reveal(actor=author, purpose=Purpose.EDUCATION,
                                       exercise=revealed)
        yield {"cohort": run.cohort, "run": run, "arm": model.arm, "patient": patient,
               "job": job, "generation_job": generation_job, "pack": pack, "exercise": exercise,
               "revealed_exercise": revealed}
        with django_db_blocker.unblock():
            SeminarPack.objects.filter(pk=pack.pk).delete()
            generation_job.delete()
            Exercise.objects.filter(pk__in=[exercise.pk, revealed.pk]).delete()
            author.delete()
            # The exercise services' audit entries were committed with the fixture: empty the
            # log as a transactional test's flush would, so later tests start from an empty log.
            truncate()
