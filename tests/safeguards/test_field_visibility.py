"""Field-level least privilege: who sees the simulation's truth and raw genetic values."""

import html

import pytest
from django.urls import reverse

from decision_support.accounts.access import GENOTYPE_FEATURES
from decision_support.accounts.roles import Role
from synthetic_data import DATA_DICTIONARY

pytestmark = pytest.mark.django_db

GENOTYPE_LABELS = sorted(DATA_DICTIONARY[name].label for name in GENOTYPE_FEATURES)


def _page(client, make_user, role, path) -> str:
    client.force_login(make_user(role))
    response = client.get(path)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _patient_page(client, make_user, objects, role) -> str:
    return _page(client, make_user, role, reverse("patient_detail", args=[objects["patient"].pseudonym]))


def _model_page(client, make_user, objects, role) -> str:
    return _page(client, make_user, role, reverse("model_detail", args=[objects["run"].pk, objects["arm"]]))


def test_genotype_features_are_the_genetic_and_epigenetic_variables():
    assert GENOTYPE_FEATURES == {n for n, v in DATA_DICTIONARY.items()
                                 if v.data_class in ("genetic", "epigenetic")}
    assert "httlpr_genotype" in GENOTYPE_FEATURES


def test_educators_see_the_patients_truth_and_genetic_values(client, make_user, objects):
    page = _patient_page(client, make_user, objects, Role.EDUCATOR)
    assert 'id="truth-table"' in page
    assert 'id="values-hidden"' not in page
    assert "(value not shown)" not in page


def test_students_see_neither_truth_nor_genetic_values(client, make_user, objects):
    page = _patient_page(client, make_user, objects, Role.STUDENT)
    assert 'id="truth-table"' not in page and "True response probability" not in page
    assert 'id="values-hidden"' in page
    values_section = page[page.index('id="values"'):page.index("</section>", page.index('id="values"'))]
    for label in GENOTYPE_LABELS:
        assert label not in values_section
    # Explanations still name the genetic features, without their values.
    assert "(value not shown)" in page
    # Predictions and explanations are there.
    assert 'id="ranking' in page and "waterfall-" in page


def test_ethics_reviewers_see_genetic_values_but_not_the_patients_truth(client, make_user, objects):
    page = _patient_page(client, make_user, objects, Role.ETHICS_REVIEWER)
    assert 'id="truth-table"' not in page
    assert 'id="values-hidden"' not in page


@pytest.mark.parametrize("role, shown", [(Role.EDUCATOR, True), (Role.ETHICS_REVIEWER, True),
                                         (Role.STUDENT, False)])
def test_the_model_truth_check_is_for_educators_and_ethics_reviewers(client, make_user, objects,
                                                                   role, shown):
    page = _model_page(client, make_user, objects, role)
    assert ('id="truth-check"' in page) is shown
    assert ("truth-shares" in page) is shown  # the chart's data is not sent either


@pytest.mark.parametrize("role, shown", [(Role.EDUCATOR, True), (Role.ETHICS_REVIEWER, True),
                                         (Role.STUDENT, False)])
def test_the_policy_value_is_for_educators_and_ethics_reviewers(client, make_user, objects, role,
                                                                shown):
    """Scored with the true probabilities, it belongs to the truth check; how often the model
    ranks each arm first (predictions only) is for every role that sees the models."""
    page = _page(client, make_user, role, reverse("run_overview", args=[objects["cohort"].pk]))
    assert ('id="policy-table"' in page) is shown and ("policy-value" in page) is shown
    assert ('id="policy-withheld"' in page) is not shown
    assert 'id="choice-shares"' in page
