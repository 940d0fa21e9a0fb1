"""Model pages and patient pages, on one trained run shared by the module (training is slow)."""

import html
import re

import pandas as pd
import pytest
from django.urls import reverse

from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.services import cohort_store
from decision_support.consent.reads import consented_patient
from decision_support.consent.services import consent_give
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.predictions import pages, selectors
from decision_support.predictions.selectors import patient_predictions
from decision_support.registry.loading import fitted_model
from decision_support.registry.models import TrainedModel, TrainingRun
from decision_support.registry.selectors import ranking_choice
from models import explain as explain_module
from models import ranking as ranking_module
from models.algorithms import ALGORITHMS
from models.features import prepare_rows
from models.pgx import GUIDANCE_DISCLAIMER
from synthetic_data import ARMS, DATA_DICTIONARY, make_cohort
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

# Seed 15 gives 1,500 patients with at least ten responders and non-responders in every arm,
# rTMS and esketamine included, so no arm is skipped: 7 arms x 3 algorithms x 3 variants.
COHORT_SEED = 15


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    """One cohort of 1,500 patients and its training run, committed for the whole module."""
    with committed_run(django_db_blocker, n_patients=1500, cohort_seed=COHORT_SEED) as run:
        yield run


@pytest.fixture
def patient(run):
    """A treatment-resistant patient (every active arm is ranked, rTMS and esketamine too) whose
    consent covers every class and whose CYP2C19 phenotype brings prescribing guidance."""
    for candidate in (Patient.objects.filter(cohort=run.cohort, clinical__prior_failures__gte=2)
                      .exclude(genetics__cyp2c19_phenotype="NM").order_by("pk")):
        consented = consented_patient(candidate, purpose=Purpose.EDUCATION)
        if consented.variant == "full" and not consented.withheld:
            return candidate
    pytest.fail("no fully consented treatment-resistant patient with CYP2C19 guidance")


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _assert_no_inline_script(page: str):
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts
    for tag in scripts:
        assert "src=" in tag or tag == '<script id="chart-specs" type="application/json">', tag


def _assert_every_chart_has_a_table(response):
    page = response.content.decode()
    specs = response.context["chart_specs"]
    assert specs
    for spec in specs:
        assert f'data-chart="{spec["id"]}"' in page
    assert page.count('class="chart-table"') == page.count("data-chart=") == len(specs)


# --- sign-in ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/models/", "/cohorts/1/models/", "/runs/1/arms/ssri/",
                                 "/runs/1/arms/ssri/?threshold=0.3", "/cohorts/1/patients/",
                                 "/patients/0123456789abcdef01234567/"])
def test_every_new_page_requires_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- training run overview ----------------------------------------------------------------


def test_run_overview_lists_every_model_and_warns_on_small_samples(signed_in_client, run):
    response = signed_in_client.get(reverse("run_overview", args=[run.cohort_id]))
    page = _page(response)
    assert run.skipped_arms == {}
    table = page.split('id="model-table"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr") == 1 + 63
    small = [m for m in run.models.all() if m.metrics["small_sample"]]
    assert small  # rTMS and esketamine: few treatment-resistant patients
    assert table.count('class="small-sample"') == len(small)
    assert table.count("sample too small to trust") == len(small)
    assert f"<dd>{run.seed}</dd>" in page
    assert "scikit-learn" in page and run.library_versions["scikit-learn"] in page
    for arm in ARMS:
        assert f'href="{reverse("model_detail", args=[run.pk, arm])}"' in page
    assert 'data-chart="policy-value"' in page and 'id="policy-table"' in page
    _assert_every_chart_has_a_table(response)
    _assert_no_inline_script(page)


def test_run_overview_without_a_run_tells_how_to_train(signed_in_client, demo_cohort):
    page = _page(signed_in_client.get(reverse("run_overview", args=[demo_cohort.pk])))
    assert "No training run yet" in page
    assert f"manage.py train_models --cohort {demo_cohort.pk}" in page


def test_models_nav_leads_to_the_newest_cohorts_models(signed_in_client, run):
    page = _page(signed_in_client.get(reverse("cohort_overview", args=[run.cohort_id])))
    assert f'href="{reverse("models_home")}"' in page
    assert f'href="{reverse("patient_list", args=[run.cohort_id])}"' in page
    assert f'href="{reverse("run_overview", args=[run.cohort_id])}"' in page
    response = signed_in_client.get(reverse("models_home"))
    assert response["Location"] == reverse("run_overview", args=[Cohort.objects.first().pk])


# --- model page ---------------------------------------------------------------------------


def _model_url(run, arm, **query):
    url = reverse("model_detail", args=[run.pk, arm])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_model_page_shows_the_selected_models_auc_and_interval(signed_in_client, run):
    row = run.models.get(arm="ssri", algorithm="random_forest", variant="no_genetic")
    response = signed_in_client.get(_model_url(run, "ssri", algorithm="random_forest",
                                               variant="no_genetic"))
    page = _page(response)
    m = row.metrics
    assert f'<span id="metric-auc">{m["roc_auc"]:.3f}</span>' in page
    assert f'{m["roc_auc_low"]:.3f}\u2060\u2013\u2060{m["roc_auc_high"]:.3f}' in page
    assert response.context["summary"]["model"] == row
    comparison = page.split('id="comparison-table"', 1)[1].split("</table>", 1)[0]
    assert comparison.count("<tr") == 1 + 9
    assert "Random forest (shown)" in comparison
    assert ('id="small-sample-warning"' in page) == m["small_sample"]
    assert "probability units" in page  # random forest SHAP units


def test_small_sample_models_carry_a_warning_banner(signed_in_client, run):
    page = _page(signed_in_client.get(_model_url(run, "rtms")))
    assert 'id="small-sample-warning"' in page and "Sample too small to trust" in page


def test_confusion_matrix_follows_the_threshold(signed_in_client, run):
    row = run.models.get(arm="snri", algorithm="logistic_regression", variant="full")
    n_test = row.metrics["n_test"]
    matrices = {}
    for threshold in ("0.30", "0.50", "0.70"):
        response = signed_in_client.get(_model_url(run, "snri", algorithm="logistic_regression",
                                                   variant="full", threshold=threshold))
        page = _page(response)
        cells = {name: int(re.search(rf'id="cm-{name}">(\d+)<', page).group(1))
                 for name in ("tp", "fp", "fn", "tn", "predicted-positive", "n")}
        assert cells["tp"] + cells["fp"] + cells["fn"] + cells["tn"] == n_test == cells["n"]
        assert cells["predicted-positive"] == cells["tp"] + cells["fp"]
        assert f"Confusion matrix at threshold {threshold}" in page
        matrices[threshold] = cells
        confusion = response.context["confusion"]
        assert confusion["sensitivity"] == pytest.approx(cells["tp"] / (cells["tp"] + cells["fn"]))
        assert confusion["specificity"] == pytest.approx(cells["tn"] / (cells["tn"] + cells["fp"]))
    positives = [matrices[t]["predicted-positive"] for t in ("0.30", "0.50", "0.70")]
    assert positives[0] > positives[1] > positives[2]


@pytest.mark.parametrize("value", ["abc", "2", "0.01", "0.33", "nan", "1e309"])
def test_a_bad_threshold_is_refused_naming_it(signed_in_client, run, value):
    """(Every numeric query parameter: tests/safeguards/test_numeric_query_parameters.py.)"""
    response = signed_in_client.get(_model_url(run, "ssri", threshold=value))
    assert response.status_code == 400
    errors = response.content.decode().split('id="form-errors"', 1)[1].split("</ul>", 1)[0]
    assert 'data-field="threshold"' in errors and "Threshold (threshold):" in errors
    assert "confusion" not in response.context


def test_a_bad_algorithm_keeps_the_valid_threshold(signed_in_client, run):
    response = signed_in_client.get(_model_url(run, "ssri", algorithm="svm", threshold="0.4"))
    page = _page(response)
    assert "Algorithm:" in page.split('id="form-errors"', 1)[1].split("</ul>", 1)[0]
    # The default instead: the arm's model with the highest cross-validated AUC.
    best = max(run.models.filter(arm="ssri"), key=lambda m: m.metrics["cv_roc_auc_mean"])
    assert response.context["summary"]["algorithm"] == best.algorithm
    assert response.context["confusion"]["threshold"] == 0.4


def test_model_page_charts_each_have_a_table(signed_in_client, run):
    response = signed_in_client.get(_model_url(run, "ssri", algorithm="gradient_boosting"))
    page = _page(response)
    ids = {spec["id"] for spec in response.context["chart_specs"]}
    assert ids == {"roc", "calibration", "global-shap", "beeswarm", "truth-shares"}
    _assert_every_chart_has_a_table(response)
    _assert_no_inline_script(page)
    specs = {spec["id"]: spec for spec in response.context["chart_specs"]}
    assert specs["roc"]["layout"] == {"diagonal": True}
    assert [t["name"] for t in specs["calibration"]["traces"]] == [
        "Observed response rate", "True response probability"]
    # Dictionary labels, most important first.
    row = run.models.get(arm="ssri", algorithm="gradient_boosting", variant="full")
    top = max(row.explanation["global_importance"].items(), key=lambda kv: kv[1])[0]
    assert specs["global-shap"]["traces"][0]["x"][0] == DATA_DICTIONARY[top].label
    assert "log-odds" in specs["global-shap"]["y_title"]


def test_truth_check_marks_flagged_features(signed_in_client, run):
    flagged = [m for m in run.models.filter(variant="full")
               if any(f["flag"] for f in m.truth_check["features"])]
    assert flagged
    row = flagged[0]
    page = _page(signed_in_client.get(_model_url(run, row.arm, algorithm=row.algorithm,
                                                 variant="full")))
    table = page.split('id="truth-table"', 1)[1].split("</table>", 1)[0]
    flags = [f for f in row.truth_check["features"] if f["flag"]]
    assert table.count('class="flagged"') == len(flags)
    for feature in flags:
        assert f'<tr class="flagged"><th scope="row">{feature["label"]}</th>' in table
        # Each flag with the held-out evidence it rests on: the AUC and its interval.
        interval = (f'{feature["held_out_auc"]:.2f} ({feature["held_out_auc_low"]:.2f}\u2060\u2013'
                    f'\u2060{feature["held_out_auc_high"]:.2f})')
        assert f"(held-out AUC {interval})</mark>" in table
    assert f'id="truth-oracle-auc">{row.truth_check["oracle_roc_auc"]:.3f}<' in page
    assert f'id="truth-model-auc">{row.metrics["roc_auc"]:.3f}<' in page
    mae = row.truth_check["mean_absolute_error_vs_true_probability"]
    assert f'id="truth-mae">{mae * 100:.1f} pp<' in page
    assert "True genetic liability is not observed" in page
    assert "through Depression polygenic score" in page


@pytest.mark.parametrize("variant", ["full", "clinical_only"])
def test_truth_check_lists_sex_and_names_the_decoys_as_stand_ins_for_illness_burden(
        signed_in_client, run, variant):
    row = run.models.get(arm="ssri", algorithm="logistic_regression", variant=variant)
    page = html.unescape(_page(signed_in_client.get(
        _model_url(run, "ssri", algorithm="logistic_regression", variant=variant))))
    decoys = " and ".join(DATA_DICTIONARY[f].label for f in ("hippocampal_volume_mm3",
                                                            "bdnf_serum_ng_ml"))
    burden = DATA_DICTIONARY["illness_burden_z"].label.lower()
    assert re.search(rf"The decoys {decoys} have no effect of their own:</strong>\s+they stand in "
                     rf"for {burden}", page)
    # Every true driver the model does not use, sex included, with its true share.
    table = page.split('id="truth-not-used"', 1)[1].split("</table>", 1)[0]
    not_used = row.truth_check["not_used"]
    assert "sex" in {f["feature"] for f in not_used}
    assert (variant == "clinical_only") == ("crp_mg_l" in {f["feature"] for f in not_used})
    for item in not_used:
        assert (f'<th scope="row">{item["label"]}</th><td class="num">'
                f'{item["true_share"] * 100:.1f}%</td>') in table


def test_unknown_arm_or_run_is_404(signed_in_client, run):
    assert signed_in_client.get(reverse("model_detail", args=[run.pk, "lithium"])).status_code == 404
    assert signed_in_client.get(reverse("model_detail", args=[run.pk + 999, "ssri"])).status_code == 404


# --- patients -----------------------------------------------------------------------------


def test_patient_list_is_paginated(signed_in_client, run):
    url = reverse("patient_list", args=[run.cohort_id])
    page = _page(signed_in_client.get(url))
    first = Patient.objects.filter(cohort=run.cohort).order_by("pk").first()
    assert page.count('href="/patients/') == 50
    assert f'href="{reverse("patient_detail", args=[first.pseudonym])}"' in page
    fiftieth = Patient.objects.filter(cohort=run.cohort).order_by("number")[49].number
    assert "Page 1 of 30" in page and f'href="?after={fiftieth}" rel="next"' in page
    last = _page(signed_in_client.get(url + "?page=30"))
    assert last.count('href="/patients/') == 50 and "Page 30 of 30" in last
    for bad in ("31", "0", "abc", "-1"):
        response = signed_in_client.get(url + f"?page={bad}")
        assert response.status_code == 400 and 'data-field="page"' in response.content.decode()


def test_patient_page_shows_ranking_waterfalls_pgx_and_truth(signed_in_client, run, patient):
    response = signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym]))
    page = _page(response)
    assert "no-store" in response["Cache-Control"]
    assert re.fullmatch(r"/patients/[0-9a-f]{24}/", response.request["PATH_INFO"])  # no numeric id

    ranking = response.context["ranking"]
    probabilities = [r["probability"] for r in ranking]
    assert len(ranking) == 6 and probabilities == sorted(probabilities, reverse=True)
    assert "A recommendation for teaching, not a decision." in page
    assert page.count("<tr", page.index('id="ranking-table"'),
                      page.index("</table>", page.index('id="ranking-table"'))) == 1 + 6

    explained = response.context["explained"]
    assert [item["arm"] for item in explained] == [r["arm"] for r in ranking]
    for item in explained:
        assert page.count(f'data-chart="waterfall-{item["arm"]}"') == 1
        assert f'id="narrative-{item["arm"]}">{item["narrative"]}</p>' in html.unescape(page)
        spec = item["chart"].as_json()
        assert spec["kind"] == "waterfall" and spec["y_title"] == "Model output (log-odds)"
    _assert_every_chart_has_a_table(response)
    _assert_no_inline_script(page)

    pgx = page.index('id="pgx-section"')
    assert GUIDANCE_DISCLAIMER in html.unescape(page[pgx:])
    guidance = response.context["guidance"]
    assert guidance and page.count('class="pgx-rule"') == len(guidance)
    assert page.index('id="explanations"') < pgx  # separate from the model output

    truth = page.split('id="truth-table"', 1)[1].split("</table>", 1)[0]
    assert truth.count("<tr") == 1 + len(ARMS)
    assert "unknown (imported cohort)" not in truth
    for row in response.context["truth_rows"]:
        assert row["true"] is not None
        assert f"{row['true'] * 100:.1f}%" in truth

    values = page.split('id="values-biomarker"', 1)[1].split("</table>", 1)[0]
    assert "hs-CRP" in values and "mg/L" in values


def test_patient_page_explains_with_the_chosen_algorithm(signed_in_client, run, patient):
    response = signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym])
                                    + "?algorithm=random_forest")
    page = _page(response)
    assert {item["model"].algorithm for item in response.context["explained"]} == {"random_forest"}
    assert all(item["units"] == "probability" for item in response.context["explained"])
    assert "Model output (probability)" in page
    bad = signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym]) + "?algorithm=x")
    assert "Explain with:" in _page(bad)
    assert {item["model"].algorithm for item in bad.context["explained"]} == {"logistic_regression"}


def test_unknown_pseudonym_is_404(signed_in_client, run):
    assert signed_in_client.get(reverse("patient_detail", args=["f" * 24])).status_code == 404


def test_patient_page_without_a_run_shows_values_pgx_and_how_to_train(signed_in_client, demo_cohort):
    patient = Patient.objects.filter(cohort=demo_cohort).first()
    response = signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym]))
    page = _page(response)
    assert "no-store" in response["Cache-Control"]
    assert f"manage.py train_models --cohort {demo_cohort.pk}" in page
    assert 'id="values-clinical"' in page and 'id="pgx-table"' in page
    assert "data-chart=" not in page and "plotly" not in page


def test_imported_patients_show_truth_as_unknown(signed_in_client, signed_in_user, run):
    """An imported cohort has no ground truth; its run here reuses the trained models."""
    generated = make_cohort(20, random_state=5)
    cohort = cohort_store(patients=generated.patients, truth=None, name="Imported",
                          scenario="default", seed=None, source=Cohort.Source.IMPORTED)
    copy = TrainingRun.objects.create(
        cohort=cohort, scenario="default", seed=run.seed, n_patients=20,
        library_versions=run.library_versions, duration_seconds=0.0)
    TrainedModel.objects.bulk_create([
        TrainedModel(run=copy, arm=m.arm, algorithm=m.algorithm, variant=m.variant,
                     artifact_id=m.artifact_id, features=m.features, metrics=m.metrics,
                     evaluation=m.evaluation, explanation=m.explanation, truth_check=None,
                     refit_coefficients=m.refit_coefficients)
        for m in run.models.filter(algorithm="logistic_regression", variant="full")])
    patient = Patient.objects.filter(cohort=cohort).first()
    for data_class in CONSENT_CLASSES:  # imported patients have no consent records yet
        consent_give(patient=patient, data_class=data_class, purpose=Purpose.EDUCATION,
                     actor=signed_in_user)
    page = _page(signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym])))
    truth = page.split('id="truth-table"', 1)[1].split("</table>", 1)[0]
    assert truth.count("unknown (imported cohort)") == len(ARMS)
    row = copy.models.get(arm="ssri")
    model_page = _page(signed_in_client.get(reverse("model_detail", args=[copy.pk, "ssri"])))
    assert "No ground truth" in model_page and row.metrics["n_test"] > 0


def test_truth_rows_say_why_an_arm_is_not_ranked(run, patient):
    from decision_support.cohorts.selectors import patients_frame

    values = patients_frame(Patient.objects.filter(pk=patient.pk)).iloc[0].copy()
    values["prior_failures"] = 0
    rows = {r["arm"]: r for r in pages.truth_rows(values, None, run, None)}
    assert rows["placebo"]["reason"] == "not ranked (placebo)"
    assert rows["rtms"]["reason"].startswith("not ranked (not eligible")
    assert rows["ssri"]["true"] is None


def test_a_patient_without_genetic_consent_is_served_by_the_no_genetic_model(signed_in_client,
                                                                              signed_in_user, run):
    from decision_support.consent.services import consent_withdraw

    patient = next(p for p in Patient.objects.filter(cohort=run.cohort)
                   if consented_patient(p, purpose=Purpose.EDUCATION).variant == "full")
    consent_withdraw(patient=patient, data_class="genetic", purpose=Purpose.EDUCATION,
                     actor=signed_in_user)
    page = _page(signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym])))
    assert "Withheld by consent" in page and "no_genetic" in page
    for name, variable in DATA_DICTIONARY.items():
        if variable.data_class in ("genetic", "epigenetic"):
            assert variable.label not in page.split('id="consent-note"')[1].split('id="truth-table"')[0], name
    pgx = page.split('id="pgx"')[1].split("</table>")[0]
    assert 'id="pgx-withheld"' in pgx and 'class="pgx-rule"' not in pgx


def test_a_patient_without_clinical_consent_gets_no_prediction(signed_in_client, signed_in_user, run):
    from decision_support.consent.services import consent_withdraw

    patient = Patient.objects.filter(cohort=run.cohort).last()
    consent_withdraw(patient=patient, data_class="clinical", purpose=Purpose.EDUCATION,
                     actor=signed_in_user)
    page = _page(signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym])))
    assert 'id="no-prediction"' in page and 'data-chart="waterfall-' not in page


def test_viewing_a_patient_writes_exactly_one_audit_entry(signed_in_client, signed_in_user, run):
    from decision_support.audit.models import AuditEntry
    from decision_support.audit.verify import verify_chain

    patient = Patient.objects.filter(cohort=run.cohort).first()
    before = AuditEntry.objects.count()
    signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym]))
    entries = list(AuditEntry.objects.order_by("sequence")[before:])
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor, entry.role, entry.purpose, entry.action, entry.object_ref, entry.outcome) == (
        signed_in_user.username, "educator", "TRAIN", "patient.view", patient.pseudonym, "allowed")
    assert verify_chain().ok


# --- What a patient's predictions cost: each row prepared once, no model called twice -------------


def _prepare_counter(monkeypatch) -> list:
    """Counts ``prepare_rows`` calls wherever a patient's predictions make them."""
    calls = []

    def counted(pipeline, rows):
        calls.append(id(pipeline))
        return prepare_rows(pipeline, rows)

    for module in (selectors, ranking_module, explain_module):
        monkeypatch.setattr(module, "prepare_rows", counted)
    return calls


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_numbers_shown_are_each_models_own_predictions_for_every_algorithm(
        run, patient, algorithm):
    consented = consented_patient(patient, purpose=Purpose.EDUCATION)
    predictions = patient_predictions(consented, run, algorithm=algorithm)
    by_arm = {m.arm: fitted_model(m) for m in run.models.filter(variant=consented.variant)}
    ranking_by = {m.arm: fitted_model(m) for m in run.models.filter(
        variant=consented.variant, algorithm=predictions.choice.algorithm)}
    assert len(predictions.ranking) == 6 and len(predictions.explanations) == 6
    for row in predictions.ranking.itertuples():
        assert row.probability == pytest.approx(
            ranking_by[row.arm].predict(consented.frame)[0], abs=1e-9)
    for item in predictions.explanations:
        model = fitted_model(item.model)
        assert model.algorithm == algorithm and by_arm[item.arm].variant == consented.variant
        assert item.explanation.probability == pytest.approx(model.predict(consented.frame)[0],
                                                             abs=1e-9)
        pd.testing.assert_series_equal(
            item.explanation.feature_values.astype(object),
            consented.frame.iloc[0][model.features].astype(object), check_names=False)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_patient_page_prepares_each_models_row_once(signed_in_client, run, patient, algorithm,
                                                      monkeypatch):
    ranking_algorithm = ranking_choice(run).algorithm
    calls = _prepare_counter(monkeypatch)
    _page(signed_in_client.get(reverse("patient_detail", args=[patient.pseudonym]),
                               {"algorithm": algorithm}))
    assert len(calls) == len(set(calls)) == (6 if algorithm == ranking_algorithm else 12)
