"""The model card says where its model was validated: at the development site (held out) and at
each other site of a multi-site cohort with its external ROC AUC and calibration slope, and a
link to "Does it travel?"; or, for a cohort of one site, that it was validated nowhere else and
why that matters."""

import html

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.registry.models import ExternalValidation
from models.external import TOO_FEW_AT_SITE
from models.model_card import (NOT_VALIDATED_AT, VALIDATED_AT, VALIDATED_AT_DEVELOPMENT_ONLY,
                               VALIDATED_AT_ONE_SITE, WHY_ONE_SITE)
from models.ranking import RANKING_ALGORITHM
from synthetic_data import SITE_SCENARIOS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

TRIAL, CLINIC = SITE_SCENARIOS["trial_to_clinic"].sites
VARIANTS = ("full", "clinical_only")


@pytest.fixture(scope="module")
def travel_run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, cohort_seed=5,
                       site_scenario="trial_to_clinic", algorithms=(RANKING_ALGORITHM,),
                       variants=VARIANTS) as run:
        yield run


@pytest.fixture(scope="module")
def one_site_run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, algorithms=(RANKING_ALGORITHM,),
                       variants=VARIANTS) as run:
        yield run


@pytest.fixture
def student(client, make_user):
    client.force_login(make_user(Role.STUDENT))
    return client


def _card(client, model) -> str:
    response = client.get(reverse("model_card", args=[model.run_id, model.arm]),
                          {"algorithm": model.algorithm, "variant": model.variant})
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _shown(figures: dict, name: str) -> str:
    return (f"{floatformat(figures[name], 3)} <small>({floatformat(figures[f'{name}_low'], 3)}–"
            f"{floatformat(figures[f'{name}_high'], 3)})</small>")


def _every_model(run):
    return list(run.models.order_by("arm", "variant"))


def test_every_model_of_a_multi_site_run_shows_its_external_figures(student,
                                                                    travel_run):
    stored = {(m["arm"], m["variant"]): m["external"]
              for m in travel_run.external_validations.get().results["models"]}
    assert len(stored) == travel_run.models.count()
    for model in _every_model(travel_run):
        text = _card(student, model)
        assert VALIDATED_AT.format(development=TRIAL.label, external=CLINIC.label) in text
        assert "Meehan" in text and reverse("run_travel", args=[travel_run.pk]) in text
        row = text.split('id="card-external"')[1].split(f'<tr data-site="{CLINIC.name}">')[1]
        row = row.split("</tr>")[0]
        external = stored[(model.arm, model.variant)]
        assert row.count(_shown(external, "roc_auc")) == 1, model
        assert row.count(_shown(external, "calibration_slope")) == 1, model


def test_every_model_of_a_one_site_run_says_it_was_validated_nowhere_else(student,
                                                                          one_site_run):
    for model in _every_model(one_site_run):
        text = _card(student, model)
        assert VALIDATED_AT_ONE_SITE in text and WHY_ONE_SITE in text, model
        assert 'id="card-external"' not in text and 'id="card-travel-link"' not in text


def test_a_model_the_other_site_could_not_score_is_not_said_to_be_validated_there(
        student, travel_run):
    validation = travel_run.external_validations.get()
    stored = validation.results
    model = travel_run.models.order_by("pk").first()
    reason = TOO_FEW_AT_SITE.format(arm=model.arm)
    try:
        ExternalValidation.objects.filter(pk=validation.pk).update(results={
            **stored, "models": [m for m in stored["models"] if m["arm"] != model.arm],
            "skipped": {model.arm: reason}})
        text = _card(student, model)
    finally:
        ExternalValidation.objects.filter(pk=validation.pk).update(results=stored)
    assert VALIDATED_AT_DEVELOPMENT_ONLY.format(development=TRIAL.label) in text
    assert NOT_VALIDATED_AT.format(site=CLINIC.label, reason=reason) in text
    assert f'<td colspan="2">{reason}</td>' in text
