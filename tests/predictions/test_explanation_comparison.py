"""The explanation comparison page: three algorithms side by side, disagreements marked, stability
across refits on request; consent, the pause, field rules and the audit entry respected."""

import html
import re

import pytest
from django.urls import reverse

from decision_support.accounts.access import GENOTYPE_FEATURES
from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient, model_training_rows
from decision_support.consent.services import consent_withdraw
from decision_support.lib.vocabulary import Purpose
from decision_support.predictions import comparison_views
from decision_support.predictions.selectors import patient_ranking
from decision_support.predictions.services import predictions_pause
from decision_support.registry import loading
from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from models.explain_compare import compare_explanations
from synthetic_data import DATA_DICTIONARY
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    """400 patients and a run of the three algorithms in the two variants these tests use (few
    bootstrap resamples: the page does not show them), committed for the module."""
    with committed_run(django_db_blocker, n_patients=400, variants=("full", "no_genetic"), n_refits=10) as run:
        yield run


@pytest.fixture
def educator(make_user):
    return make_user("educator", username="test_educator")


def _client(client, make_user, role):
    client.force_login(make_user(role))
    return client


def _url(patient, **query):
    url = reverse("patient_explanations", args=[patient.pseudonym])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _table(page: str, table_id: str) -> str:
    return page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]


def _direct_comparison(patient, run, arm, variant):
    consented = consented_patient(patient, purpose=Purpose.EDUCATION)
    explanations = {m.algorithm: loading.fitted_model(m).explain(consented.frame)[0]
                    for m in run.models.filter(arm=arm, variant=variant)}
    return compare_explanations(explanations)


# --- side by side -------------------------------------------------------------------------


def test_the_page_shows_the_three_algorithms_for_the_top_ranked_arm(client, make_user, run,
                                                                    patient):
    response = _client(client, make_user, "educator").get(_url(patient))
    page = _page(response)
    assert "no-store" in response["Cache-Control"]
    top = patient_ranking(consented_patient(patient, purpose=Purpose.EDUCATION), run)["arm"].iloc[0]
    assert response.context["arm"] == top and response.context["variant"] == "full"
    assert [a["algorithm"] for a in response.context["algorithms"]] == list(ALGORITHMS)
    table = _table(page, "comparison-table")
    for algorithm in ALGORITHMS:
        assert f'colspan="3">{ALGORITHM_LABELS[algorithm]}</th>' in table
    assert "SHAP (probability)" in table and table.count("SHAP (log-odds)") == 2
    n_features = len(run.models.filter(arm=top, variant="full").first().features)
    assert table.count('<tr id="feature-') == n_features
    # Units differ: the page says so and compares signs, ranks and shares.
    note = html.unescape(page.split('id="units-note"', 1)[1].split("</p>", 1)[0])
    assert "probability" in note and "log-odds" in note and "normalised shares" in note
    # The chart of shares, with its table, and no inline script.
    specs = response.context["chart_specs"]
    assert [s["id"] for s in specs] == ["explanation-shares"]
    assert [t["name"] for t in specs[0]["traces"]] == [ALGORITHM_LABELS[a] for a in ALGORITHMS]
    assert page.count('class="chart-table"') == page.count("data-chart=") == 1
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or tag == '<script id="chart-specs" type="application/json">', tag


def test_the_numbers_are_those_of_the_stored_models(client, make_user, run, patient):
    response = _client(client, make_user, "educator").get(_url(patient))
    arm = response.context["arm"]
    direct = _direct_comparison(patient, run, arm, "full")
    rows = response.context["rows"]
    assert [r["feature"] for r in rows] == direct.features
    for row in rows:
        for algorithm, cell in zip(ALGORITHMS, row["cells"]):
            assert cell["value"] == f"{direct.values.at[row['feature'], algorithm]:+.4f}"
            assert cell["rank"] == direct.ranks.at[row["feature"], algorithm]
            assert cell["share"] == pytest.approx(direct.shares.at[row["feature"], algorithm])
    page = _page(response)
    for index, algorithm in enumerate(ALGORITHMS):
        total = sum(row["cells"][index]["share"] for row in rows)
        # Shares add up to 100%, unless the model credits nothing: then the page says so.
        credits_nothing = not direct.values[algorithm].any()
        assert total == pytest.approx(0.0 if credits_nothing else 1.0)
        assert (f'id="credits-nothing-{algorithm}"' in page) == credits_nothing


def test_disagreements_are_marked(client, make_user, run, patient):
    client = _client(client, make_user, "ethics_reviewer")
    arms = list(patient_ranking(consented_patient(patient, purpose=Purpose.EDUCATION), run)["arm"])
    marked = 0
    for arm in arms:
        page = _page(client.get(_url(patient, arm=arm)))
        direct = _direct_comparison(patient, run, arm, "full")
        table = _table(page, "comparison-table")
        assert table.count('class="disagreement"') == int(direct.disagreement.sum())
        assert table.count('class="sign-disagreement"') == int(direct.sign_disagreement.sum())
        assert table.count('class="rank-disagreement"') == int(direct.rank_disagreement.sum())
        for feature in direct.features:
            assert (f'<tr id="feature-{feature}" class="disagreement">' in table) == bool(
                direct.disagreement[feature])
        marked += int(direct.disagreement.sum())
    assert marked > 0  # the three algorithms do not tell one story for this patient


def test_each_view_writes_exactly_one_audit_entry(client, make_user, run, patient):
    client = _client(client, make_user, "student")
    for query in ({}, {"stability": "1"}):
        before = AuditEntry.objects.count()
        _page(client.get(_url(patient, **query)))
        entries = list(AuditEntry.objects.order_by("sequence")[before:])
        assert len(entries) == 1
        entry = entries[0]
        assert (entry.action, entry.object_type, entry.object_ref, entry.outcome,
                entry.purpose) == ("patient.compare", "patient", patient.pseudonym, "allowed",
                                   "TRAIN")
        assert entry.detail["withheld"] == []
        assert entry.detail["stability"] is bool(query)


def test_a_student_sees_genetic_features_without_their_values(client, make_user, run, patient):
    genetic = sorted(GENOTYPE_FEATURES)
    values = consented_patient(patient, purpose=Purpose.EDUCATION).values
    student = _page(_client(client, make_user, "student").get(_url(patient)))
    table = _table(student, "comparison-table")
    shown = [f for f in genetic if f'id="feature-{f}"' in table]
    assert shown  # named, with their SHAP values
    for feature in shown:
        row = table.split(f'id="feature-{feature}"', 1)[1].split("</tr>", 1)[0]
        assert f'<th scope="row">{html.escape(DATA_DICTIONARY[feature].label)}</th>' in row
        assert '<td class="num">value not shown</td>' in row
    for feature in ("cyp2c19_phenotype", "cyp2d6_phenotype", "httlpr_genotype"):
        row = table.split(f'id="feature-{feature}"', 1)[1].split("</tr>", 1)[0]
        assert str(values[feature]) not in row.split("</th>", 1)[1].split("</td>", 1)[0]
    assert "True response probability" not in student


def test_an_educator_sees_genetic_values_and_the_truth(client, make_user, run, patient):
    values = consented_patient(patient, purpose=Purpose.EDUCATION).values
    page = _page(_client(client, make_user, "educator").get(_url(patient)))
    table = _table(page, "comparison-table")
    assert "value not shown" not in table
    row = table.split('id="feature-cyp2c19_phenotype"', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num">{values["cyp2c19_phenotype"]}</td>' in row
    assert 'id="true-probability"' in page


def test_a_patient_without_genetic_consent_gets_the_no_genetic_variant_for_all_three(
        client, make_user, educator, run, patient):
    consent_withdraw(patient=patient, data_class="genetic", purpose=Purpose.EDUCATION,
                     actor=educator)
    client.force_login(educator)
    response = client.get(_url(patient))
    page = _page(response)
    assert response.context["variant"] == "no_genetic"
    assert "Withheld by consent" in page and "no_genetic" in page
    arm = response.context["arm"]
    no_genetic = run.models.filter(arm=arm, variant="no_genetic").first().features
    assert [r["feature"] for r in response.context["rows"]] == _direct_comparison(
        patient, run, arm, "no_genetic").features
    assert {r["feature"] for r in response.context["rows"]} == set(no_genetic)
    table = _table(page, "comparison-table")
    for feature in GENOTYPE_FEATURES:
        assert f'id="feature-{feature}"' not in table
        assert DATA_DICTIONARY[feature].label not in page.split('id="compare-form"', 1)[1]


def test_paused_predictions_show_nothing(client, make_user, educator, run, patient):
    predictions_pause(actor=educator, reason="audit", purpose=Purpose.EDUCATION)
    client.force_login(educator)
    for query in ({}, {"stability": "1"}):
        response = client.get(_url(patient, **query))
        page = _page(response)
        assert 'id="paused"' in page
        assert 'id="comparison-table"' not in page and "data-chart=" not in page
        assert 'id="stability-form"' not in page and "stability" not in response.context
        assert response.context["chart_specs"] == []


@pytest.mark.parametrize("arm", ["lithium", "placebo", ""])
def test_a_bad_arm_is_a_form_error_naming_the_field(client, make_user, run, patient, arm):
    response = _client(client, make_user, "educator").get(_url(patient, arm=arm))
    page = _page(response)
    errors = html.unescape(page.split('id="form-errors"', 1)[1].split("</ul>", 1)[0])
    assert "Arm:" in errors and "Showing the default" in errors
    top = patient_ranking(consented_patient(patient, purpose=Purpose.EDUCATION), run)["arm"].iloc[0]
    assert response.context["arm"] == top
    assert 'id="comparison-table"' in page


def test_an_ineligible_arm_is_refused(client, make_user, run):
    """A first-line patient's page offers no treatment-resistant arm."""
    first_line = Patient.objects.filter(cohort=run.cohort, clinical__prior_failures__lt=2)
    patient = next(p for p in first_line.order_by("pk")
                   if consented_patient(p, purpose=Purpose.EDUCATION).variant == "full")
    response = _client(client, make_user, "educator").get(_url(patient, arm="rtms"))
    assert "Arm:" in _page(response).split('id="form-errors"', 1)[1]
    assert response.context["arm"] != "rtms"


# --- stability across refits --------------------------------------------------------------


def test_stability_is_computed_only_on_request(client, make_user, run, patient, monkeypatch):
    calls = []
    real = comparison_views.shap_stability
    monkeypatch.setattr(comparison_views, "shap_stability",
                        lambda *a, **k: calls.append(k["algorithm"]) or real(*a, **k))
    client = _client(client, make_user, "student")
    page = _page(client.get(_url(patient)))
    assert calls == [] and 'id="stability-form"' in page and 'id="stability-summary"' not in page
    arm = client.get(_url(patient)).context["arm"]

    response = client.get(_url(patient, arm=arm, stability="1"))
    page = _page(response)
    assert calls == list(ALGORITHMS)
    stability = response.context["stability"]
    assert stability["n_train"] > 0 and not stability["refused"]
    for table in stability["tables"]:
        html_table = _table(page, f"stability-{table['algorithm']}")
        assert html_table.count("<tr") == 1 + len(response.context["rows"])
        assert html_table.count('class="unstable"') == table["n_unstable"]
        assert html_table.count("<mark>unstable</mark>") == table["n_unstable"]
    assert "value not shown" not in _table(page, "stability-random_forest")


def test_stability_trains_only_on_patients_who_consented_to_model_training(run, patient):
    from decision_support.consent.gate import variant_permitted
    from decision_support.consent.selectors import consent_permitted_classes

    arm = "ssri"
    train = model_training_rows(cohort_id=run.cohort_id, arm=arm, variant="full", seed=run.seed)
    assert len(train) and set(train["arm"]) == {arm}
    for pk in train.index:
        assert variant_permitted(consent_permitted_classes(pk, purpose=Purpose.MODEL_TRAINING),
                                 "full")
    stored = run.models.get(arm=arm, algorithm="logistic_regression", variant="full")
    assert len(train) == stored.metrics["n_train"]  # the run's own training split


def test_a_bad_stability_value_is_a_form_error(client, make_user, run, patient):
    response = _client(client, make_user, "educator").get(_url(patient, stability="yes"))
    page = _page(response)
    assert "Stability across refits:" in page.split('id="form-errors"', 1)[1]
    assert "stability" not in response.context


def test_the_patient_page_links_to_the_comparison(client, make_user, run, patient):
    page = _page(_client(client, make_user, "student").get(
        reverse("patient_detail", args=[patient.pseudonym])))
    arms = list(patient_ranking(consented_patient(patient, purpose=Purpose.EDUCATION), run)["arm"])
    for arm in arms:
        assert f'href="{_url(patient)}?arm={arm}"' in page
