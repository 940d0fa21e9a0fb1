"""The JSON API's "Does it travel?" (``/api/runs/<id>/travel/``): the travel page's stored numbers,
the same small counts hidden, the policy value at another site for the roles that may see the
truth only, and where the run's models were validated."""

import html
import re

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.cohorts.templatetags.cohort_format import percent
from decision_support.registry.models import ExternalValidation
from models.external import TOO_FEW_AT_SITE
from models.model_card import VALIDATED_AT_ONE_SITE
from models.ranking import RANKING_ALGORITHM
from synthetic_data import ARM_LABELS, SITE_SCENARIOS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

TRIAL, CLINIC = SITE_SCENARIOS["trial_to_clinic"].sites
ROLES = [Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER]
TRUTH_SHOWN = {Role.EDUCATOR: True, Role.ETHICS_REVIEWER: True, Role.STUDENT: False}
TABLE_ORDER = [("roc_auc", "internal"), ("roc_auc", "external"), ("auc_change", None),
               ("calibration_in_the_large", "internal"), ("calibration_in_the_large", "external"),
               ("calibration_slope", "internal"), ("calibration_slope", "external"),
               ("brier", "internal"), ("brier", "external")]


@pytest.fixture(scope="module")
def travel_run(django_db_setup, django_db_blocker):
    """A trial_to_clinic cohort of 300 patients per site, logistic regression in every variant."""
    with committed_run(django_db_blocker, n_patients=300, cohort_seed=5,
                       site_scenario="trial_to_clinic", algorithms=(RANKING_ALGORITHM,)) as run:
        yield run


def _api(client, token_for, role, run):
    return _get(client, token_for(role)[1], run)


def _get(client, headers, run):
    return client.get(f"/api/runs/{run.pk}/travel/", **headers).json()


def _page(client, make_user, role, run) -> str:
    client.force_login(make_user(role, username=f"page_{Role(role).value}"))
    response = client.get(reverse("run_travel", args=[run.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _shown(figure: dict, *, interval: bool = True) -> str:
    """A figure as the page's table writes it (``registry/_figure.html``)."""
    if figure["value"] is None:
        return "–"
    text = floatformat(figure["value"], 3)
    if interval and figure["low"] is not None:
        text += f" ({floatformat(figure['low'], 3)}–{floatformat(figure['high'], 3)})"
    return text


def _row_cells(page: str, site: str, model: dict) -> list[str]:
    table = page.split(f'id="travel-table-{site}"')[1].split("</table>")[0]
    row = table.split(f'<tr data-arm="{model["arm"]}" data-variant="{model["variant"]}">')[1]
    row = row.split("</tr>")[0]
    cells = re.findall(r'<td class="num">(.*?)</td>', row, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", c)).split()) for c in cells]


def _api_cells(model: dict) -> list[str]:
    cells = []
    for name, setting in TABLE_ORDER:
        if setting is None:
            cells.append("–" if model[name] is None else floatformat(model[name], 3))
        else:
            cells.append(_shown(model[setting][name], interval=name != "brier"))
    return cells + [str(model["n_internal"]), str(model["n_external"])]


@pytest.mark.parametrize("role", ROLES)
def test_the_api_shows_the_travel_pages_numbers_for_every_model(client, make_user, token_for,
                                                                travel_run, role):
    body = _api(client, token_for, role, travel_run)
    page = _page(client, make_user, role, travel_run)
    stored = travel_run.external_validations.get().results
    [site] = body["sites"]
    assert (site["site"], site["label"]) == (CLINIC.name, CLINIC.label)
    assert len(site["models"]) == len(stored["models"]) > 0
    for model in site["models"]:
        assert _api_cells(model) == _row_cells(page, CLINIC.name, model), model["arm"]
    assert site["skipped_arms"] == stored["skipped"]
    for arm, reason in site["skipped_arms"].items():
        assert f"<strong>{ARM_LABELS[arm]}</strong>: {html.escape(reason)}" in page


@pytest.mark.parametrize("count,shown", [(0, 0), (1, "<11"), (10, "<11"), (11, 11), (123, 123)])
def test_the_api_hides_the_consent_exclusions_the_page_hides(client, make_user, token_for,
                                                             travel_run, count, shown):
    validation = travel_run.external_validations.get()
    stored = validation.results
    try:
        ExternalValidation.objects.filter(pk=validation.pk).update(results={
            **stored, "excluded_by_consent": {v: count for v in stored["excluded_by_consent"]}})
        body = _api(client, token_for, Role.STUDENT, travel_run)
        page = _page(client, make_user, Role.STUDENT, travel_run)
    finally:
        ExternalValidation.objects.filter(pk=validation.pk).update(results=stored)
    excluded = body["sites"][0]["excluded_by_consent"]
    assert excluded == {v: shown for v in stored["excluded_by_consent"]}
    for variant in excluded:
        assert (f"<strong>{html.escape(str(shown))}</strong>\n    patients from the "
                f"<code>{variant}</code> models") in page


@pytest.mark.parametrize("role", ROLES)
def test_the_policy_value_at_the_other_site_is_for_the_truth_roles_only(client, make_user,
                                                                         token_for, travel_run,
                                                                         role):
    site = _api(client, token_for, role, travel_run)["sites"][0]
    page = _page(client, make_user, role, travel_run)
    assert site["policy_value_withheld"] is not TRUTH_SHOWN[role]
    if not TRUTH_SHOWN[role]:
        assert site["policy_value"] is None and "travel-policy-clinic" not in page
        return
    table = page.split('id="travel-policy-clinic"')[1].split("</table>")[0]
    for policy in ("oracle", "model", "best_single", "random"):
        row = table.split(f'data-policy="{policy}"')[1].split("</tr>")[0]
        assert f'<td class="num">{percent(site["policy_value"][policy])}</td>' in row


@pytest.mark.parametrize("role,changes", [(Role.STUDENT, False), (Role.ETHICS_REVIEWER, True),
                                          (Role.EDUCATOR, True)])
def test_no_value_a_student_gets_changes_with_the_truth_at_the_other_site(client, token_for,
                                                                          travel_run, role,
                                                                          changes):
    validation = travel_run.external_validations.get()
    stored = validation.results
    headers = token_for(role)[1]
    before = _get(client, headers, travel_run)
    replaced = {name: round(0.0917 + 0.113 * i, 4) for i, name in enumerate(
        ("oracle", "model", "best_single", "random"))}
    try:
        ExternalValidation.objects.filter(pk=validation.pk).update(
            results={**stored, "policy": {**stored["policy"], **replaced}})
        after = _get(client, headers, travel_run)
    finally:
        ExternalValidation.objects.filter(pk=validation.pk).update(results=stored)
    assert (before != after) is changes


def test_an_arm_the_other_site_could_not_score_is_listed_with_its_reason_as_on_the_page(
        client, make_user, token_for, travel_run):
    validation = travel_run.external_validations.get()
    stored = validation.results
    arm = stored["models"][0]["arm"]
    reason = TOO_FEW_AT_SITE.format(arm=arm)
    try:
        ExternalValidation.objects.filter(pk=validation.pk).update(results={
            **stored, "models": [m for m in stored["models"] if m["arm"] != arm],
            "skipped": {arm: reason}})
        body = _api(client, token_for, Role.STUDENT, travel_run)
        page = _page(client, make_user, Role.STUDENT, travel_run)
    finally:
        ExternalValidation.objects.filter(pk=validation.pk).update(results=stored)
    [site] = body["sites"]
    assert site["skipped_arms"] == {arm: reason}
    assert arm not in {m["arm"] for m in site["models"]}
    assert f"<strong>{ARM_LABELS[arm]}</strong>: {html.escape(reason)}" in page
    assert body["validated_at"]["not_at"] == [f"Not validated at {CLINIC.label}: {reason}."]


def test_a_multi_site_run_says_where_it_was_validated(client, token_for, travel_run):
    validated = _api(client, token_for, Role.STUDENT, travel_run)["validated_at"]
    assert validated["development_site"] == {"site": TRIAL.name, "label": TRIAL.label}
    assert validated["external_sites"] == [{"site": CLINIC.name, "label": CLINIC.label}]
    assert validated["statement"] == (f"Validated at: {TRIAL.label} (internal, held-out) and "
                                      f"{CLINIC.label} (external).")


def test_a_one_site_run_says_it_was_validated_nowhere_else(client, token_for, run):
    body = _api(client, token_for, Role.STUDENT, run)
    assert body["sites"] == []
    assert body["validated_at"] == {"development_site": None, "external_sites": [],
                                    "statement": VALIDATED_AT_ONE_SITE, "not_at": []}


@pytest.mark.parametrize("role", ROLES)
def test_the_shap_shift_is_the_stored_one_every_feature_most_important_first(
        client, token_for, travel_run, role):
    stored = travel_run.external_validations.get().results["importance"]
    body = _api(client, token_for, role, travel_run)
    (site,) = body["sites"]
    assert [m["arm"] for m in site["importance"]] == [m["arm"] for m in stored]
    for shown, kept in zip(site["importance"], stored):
        assert sorted(shown["features"], key=lambda f: f["feature"]) == sorted(
            kept["features"], key=lambda f: f["feature"])
        internal = [f["internal"] for f in shown["features"]]
        assert internal == sorted(internal, reverse=True)
        assert shown["n_internal"] == (kept["n_internal"] if not 0 < kept["n_internal"] < 11
                                       else "<11")


def test_a_run_validated_before_the_shap_shift_was_stored_has_none(client, token_for, travel_run):
    validation = travel_run.external_validations.get()
    stored = validation.results
    try:
        ExternalValidation.objects.filter(pk=validation.pk).update(
            results={k: v for k, v in stored.items() if k != "importance"})
        assert _api(client, token_for, Role.STUDENT, travel_run)["sites"][0]["importance"] is None
    finally:
        ExternalValidation.objects.filter(pk=validation.pk).update(results=stored)
