"""The run overview and the API's run endpoint show the policy value stored with the run: the
oracle, the model, the best single treatment for everyone and random choice, each with its
interval and the patients it was scored over, and the sentence on what the gap means; only to the
roles that may see the truth, and read from storage, never recomputed."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from decision_support.accounts.access import MODEL_TRUTH_ROLES
from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_create
from decision_support.registry.models import TrainingRun
from models.policy import POLICIES
from models.ranking import RANKING_ALGORITHM
from synthetic_data import ARM_LABELS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

ROLES = [Role.EDUCATOR, Role.ETHICS_REVIEWER, Role.STUDENT]
# Values no training stores: a page or answer showing them read them from storage.
STORED = {"oracle": 0.6813, "model": 0.5527, "best_single": 0.5139, "random": 0.4471,
          "intervals": {"oracle": [0.6611, 0.7017], "model": [0.5301, 0.5743],
                        "best_single": [0.4917, 0.5353], "random": [0.4289, 0.4659]}}


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, algorithms=(RANKING_ALGORITHM,), n_refits=2) as run:
        with django_db_blocker.unblock():
            run.policy_value = {**run.policy_value, **STORED}
            run.save(update_fields=["policy_value"])
        yield run


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _reader(client, make_user, role):
    """``client`` signed in as a user of ``role``, and the headers of that user's API token."""
    user = make_user(role)
    client.force_login(user)
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user, name='policy')[1]}"}


def _overview(client, run) -> str:
    return client.get(reverse("run_overview", args=[run.cohort_id])).content.decode()


def _rows(page: str) -> dict[str, list[str]]:
    """The policy table: policy -> its cells (value, interval, patients)."""
    return {name: re.findall(r'<td class="num">(.*?)</td>', row, re.S)
            for name, row in re.findall(r'<tr data-policy="(\w+)">(.*?)</tr>', page, re.S)}


def _expected_row(run, name) -> list[str]:
    low, high = STORED["intervals"][name]
    return [_percent(STORED[name]), f"{_percent(low)}–{_percent(high)}",
            str(run.policy_value["n_patients"])]


@pytest.mark.parametrize("role", ROLES)
def test_the_run_overview_shows_the_four_policies_with_intervals_to_roles_that_see_the_truth(
        client, make_user, run, role):
    _reader(client, make_user, role)
    page = _overview(client, run)
    shown = role in MODEL_TRUTH_ROLES
    expected = {name: _expected_row(run, name) for name in POLICIES}
    assert _rows(page) == (expected if shown else {})
    assert ('data-chart="policy-value"' in page) is shown
    assert any(row[1] in page for row in expected.values()) is shown
    best = re.search(r'id="policy-best-arms">(.*?)</p>', page, re.S)
    assert (best is not None) is shown
    if shown:
        groups = run.policy_value["groups"]
        arms = [groups[g]["arm"] for g in ("first_line", "treatment_resistant") if groups[g]["arm"]]
        assert arms and re.findall(r"<strong>(.*?)</strong>", best.group(1)) == [
            escape(ARM_LABELS[arm]) for arm in arms]


@pytest.mark.parametrize("role", ROLES)
def test_the_run_overview_says_what_the_gap_means_to_roles_that_see_the_truth(
        client, make_user, run, role):
    _reader(client, make_user, role)
    page = _overview(client, run)
    sentence = (f"Even a perfect model could raise the expected response rate only from "
                f"{_percent(STORED['best_single'])} (best single treatment) to "
                f"{_percent(STORED['oracle'])} (oracle); this model reaches "
                f"{_percent(STORED['model'])}.")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert (sentence in text) is (role in MODEL_TRUTH_ROLES)
    assert ('id="policy-withheld"' in page) is (role not in MODEL_TRUTH_ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_the_api_returns_the_numbers_the_run_overview_shows(client, make_user, run, role):
    headers = _reader(client, make_user, role)
    body = client.get(reverse("api:api_run_models", args=[run.pk]), **headers).json()
    assert body["policy_value_withheld"] is (role not in MODEL_TRUTH_ROLES)
    if role not in MODEL_TRUTH_ROLES:
        assert body["policy_value"] is None
        return
    policy = body["policy_value"]
    assert {name: policy[name] for name in POLICIES} == {name: STORED[name] for name in POLICIES}
    assert policy["intervals"] == STORED["intervals"]
    assert policy["n_patients"] == run.policy_value["n_patients"]
    assert policy["best_single_arms"] == {group: g["arm"] for group, g
                                          in run.policy_value["groups"].items() if g["arm"]}
    table = _rows(_overview(client, run))
    assert {name: table[name][0] for name in POLICIES} == {
        name: _percent(policy[name]) for name in POLICIES}


def test_a_run_stored_before_the_four_policies_shows_its_three_values_and_says_so(
        client, make_user, run):
    older = {k: run.policy_value[k] for k in ("model", "random", "oracle", "n_patients",
                                             "top_choice_shares")}
    TrainingRun.objects.filter(pk=run.pk).update(policy_value=older)
    headers = _reader(client, make_user, Role.EDUCATOR)
    page = _overview(client, run)
    assert {name: cells[0] for name, cells in _rows(page).items()} == {
        name: _percent(older[name]) for name in ("model", "random", "oracle")}
    assert 'id="policy-older-run"' in page and 'data-chart="policy-value"' not in page
    body = client.get(reverse("api:api_run_models", args=[run.pk]), **headers).json()
    assert body["policy_value"]["best_single"] is None and body["policy_value"]["intervals"] == {}
