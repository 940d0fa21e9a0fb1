"""What a patient page reads once per training run and process (the algorithm that ranks, the
ranking models' rows): not read again for the same run, read afresh for a run stored under a pk
an earlier run had (SQLite hands out a rolled-back run's pk again)."""

import re

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient
from decision_support.lib.vocabulary import Purpose
from decision_support.registry.models import TrainedModel, TrainingRun

pytestmark = pytest.mark.django_db

RUN_FIELDS = ("cohort", "scenario", "seed", "n_patients", "library_versions", "skipped_arms",
              "duration_seconds")


def _fully_consented(run, count: int) -> list[Patient]:
    found = [p for p in Patient.objects.filter(cohort=run.cohort).order_by("pk")[:60]
             if consented_patient(p, purpose=Purpose.EDUCATION).variant == "full"]
    assert len(found) >= count
    return found[:count]


def _reason(client, patient) -> str:
    response = client.get(reverse("patient_detail", args=[patient.pseudonym]))
    assert response.status_code == 200
    page = response.content.decode()
    return page.split('id="ranking-algorithm">', 1)[1].split("</p>", 1)[0]


def _stored_again(run, arms) -> TrainingRun:
    """The run deleted and another stored under its pk with only ``arms``' models (rolled back
    with the test)."""
    kept = list(run.models.filter(arm__in=arms))
    values, pk = {f: getattr(run, f) for f in RUN_FIELDS}, run.pk
    run.delete()
    again = TrainingRun.objects.create(pk=pk, **values)
    TrainedModel.objects.bulk_create([
        TrainedModel(run=again, arm=m.arm, algorithm=m.algorithm, variant=m.variant,
                     artifact_id=m.artifact_id, features=m.features, metrics=m.metrics,
                     evaluation=m.evaluation, explanation=m.explanation,
                     truth_check=m.truth_check, refit_coefficients=m.refit_coefficients)
        for m in kept])
    return again


def test_a_second_patient_page_of_a_run_reads_none_of_its_models_rows(signed_in_client, run):
    first, second = _fully_consented(run, 2)
    _reason(signed_in_client, first)
    with CaptureQueriesContext(connection) as queries:
        _reason(signed_in_client, second)
    assert not [q for q in queries.captured_queries
                if 'FROM "registry_trainedmodel"' in q["sql"]]


def test_a_run_stored_under_an_earlier_runs_pk_is_ranked_by_its_own_models(signed_in_client,
                                                                           run):
    patient, = _fully_consented(run, 1)
    mean = float(np.mean([m.metrics["cv_roc_auc_mean"] for m in run.models.all()]))
    assert f"ROC AUC {mean:.3f}" in _reason(signed_in_client, patient)  # read and kept
    again = _stored_again(run, arms=("ssri", "snri"))
    mean_again = float(np.mean([m.metrics["cv_roc_auc_mean"] for m in again.models.all()]))
    assert f"{mean_again:.3f}" != f"{mean:.3f}"
    response = signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym]))
    page = response.content.decode()
    assert f"ROC AUC {mean_again:.3f}" in page.split('id="ranking-algorithm">', 1)[1]
    ranked = re.findall(r'<th scope="row">([^<]+)</th>',
                        page.split('id="ranking-table"', 1)[1].split("</table>", 1)[0])
    assert {row["arm"] for row in response.context["ranking"]} <= {"ssri", "snri"}
    assert len(ranked) == len(response.context["ranking"]) > 0
