"""Does it travel? A multi-site cohort stored with each patient's site, trained at its development
site only, validated once per other site at the end of training (through the consent gate), and
the page that shows it."""

import html
import re

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import patients_frame
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.erasure import runs_trained_on
from decision_support.consent.reads import model_training_permitted, model_training_rows
from decision_support.registry import jobs, pages, services
from decision_support.registry.loading import fitted_model
from decision_support.registry.models import ExternalValidation
from models.external import LOCAL_UNUSABLE, importance_by_site
from models.ranking import RANKING_ALGORITHM
from models.training import GLOBAL_SHAP_ROWS
from synthetic_data import SITE_SCENARIOS
from tests.trained_runs import committed_run, narrow_training

pytestmark = pytest.mark.django_db

PER_SITE = 500


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    """A trial_to_clinic cohort of 500 patients per site, logistic regression only."""
    with committed_run(django_db_blocker, n_patients=PER_SITE, cohort_seed=5,
                       site_scenario="trial_to_clinic", algorithms=(RANKING_ALGORITHM,),
                       n_resamples=50) as run:
        yield run


@pytest.fixture(scope="module")
def assay_run(django_db_setup, django_db_blocker):
    """An assay_shift cohort of 500 patients per site, one logistic regression per arm."""
    with committed_run(django_db_blocker, n_patients=PER_SITE, cohort_seed=3,
                       site_scenario="assay_shift", algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        yield run


@pytest.fixture(scope="module")
def one_site_run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        yield run


def _site_patients(cohort, site):
    return Patient.objects.filter(cohort=cohort, site=site)


# --- storage ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SITE_SCENARIOS))
def test_a_site_scenario_cohort_stores_every_patients_site(name):
    cohort = cohort_generate(n_patients=40, seed=2, site_scenario=name)
    sites = [site.name for site in SITE_SCENARIOS[name].sites]
    assert cohort.scenario == name and cohort.n_patients == 40 * len(sites)
    assert cohort.development_site == sites[0]
    for site in sites:
        assert _site_patients(cohort, site).count() == 40


@pytest.mark.parametrize("scenario", ["default", "consent_selection"])
def test_a_cohort_without_sites_stores_none(scenario):
    cohort = cohort_generate(n_patients=30, seed=2, scenario=scenario)
    assert cohort.development_site is None
    assert not Patient.objects.filter(cohort=cohort, site__isnull=False).exists()


def test_the_site_is_no_model_input(run):
    frame = patients_frame(Patient.objects.filter(cohort=run.cohort))
    assert "site" not in frame.columns
    assert all("site" not in row.features for row in run.models.all())


# --- training and external validation -------------------------------------------------------

def test_the_run_trains_at_the_development_site_and_validates_once_at_each_other(run):
    trial, clinic = (site.name for site in SITE_SCENARIOS["trial_to_clinic"].sites)
    assert run.development_site == trial
    assert run.n_patients == PER_SITE  # the trial's patients only
    assert list(run.external_validations.values_list("site", flat=True)) == [clinic]
    results = run.external_validations.get().results
    assert results["n_patients"] == PER_SITE
    scored = {(m["arm"], m["algorithm"], m["variant"]) for m in results["models"]}
    assert scored and scored <= set(run.models.values_list("arm", "algorithm", "variant"))
    for m in results["models"]:
        assert m["internal"]["roc_auc"] == run.models.get(
            arm=m["arm"], algorithm=m["algorithm"], variant=m["variant"]).metrics["roc_auc"]


def test_a_run_without_sites_has_no_external_validation(one_site_run):
    assert one_site_run.development_site == ""
    assert not ExternalValidation.objects.filter(run=one_site_run).exists()


@pytest.mark.parametrize("variant", ["full", "no_genetic", "clinical_only"])
def test_external_figures_count_only_patients_whose_training_consent_covers_the_variant(
        run, variant):
    clinic = SITE_SCENARIOS["trial_to_clinic"].sites[1].name
    frame = patients_frame(_site_patients(run.cohort, clinic))
    permitted = model_training_permitted(frame.index)[variant]
    results = run.external_validations.get(site=clinic).results
    assert results["excluded_by_consent"][variant] == int((~permitted).sum())
    for m in (m for m in results["models"] if m["variant"] == variant):
        received = frame[permitted.to_numpy() & (frame["arm"] == m["arm"]).to_numpy()]
        assert m["external"]["n_test"] == len(received)


# --- the page ---------------------------------------------------------------------------------

def _page(client, make_user, role, run, **query):
    client.force_login(make_user(role))
    return client.get(reverse("run_travel", args=[run.pk]), query)


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER])
def test_the_page_shows_internal_beside_external_for_every_scored_model(client, make_user, run,
                                                                         role):
    response = _page(client, make_user, role, run)
    text = response.content.decode()
    clinic = SITE_SCENARIOS["trial_to_clinic"].sites[1]
    assert response.status_code == 200 and f'id="travel-table-{clinic.name}"' in text
    assert text.count('<tr data-arm=') == len(run.external_validations.get().results["models"])


@pytest.mark.parametrize("role,shown", [(Role.EDUCATOR, True), (Role.ETHICS_REVIEWER, True),
                                        (Role.STUDENT, False)])
def test_the_truth_line_is_for_the_roles_that_see_model_truth(client, make_user, run, role,
                                                              shown):
    text = _page(client, make_user, role, run).content.decode()
    assert ('id="truth-line"' in text) is shown
    assert ("Oracle (truly best arm)" in text) is shown


def test_the_run_overview_links_the_page_only_for_a_validated_run(client, make_user, run,
                                                                 one_site_run):
    client.force_login(make_user(Role.STUDENT))
    link = reverse("run_travel", args=[run.pk])
    assert link in client.get(reverse("run_overview", args=[run.cohort.pk])).content.decode()
    other = client.get(reverse("run_overview", args=[one_site_run.cohort.pk])).content.decode()
    assert 'id="travel-link"' not in other


def test_a_one_site_run_says_it_was_not_validated_elsewhere(client, make_user, one_site_run):
    response = _page(client, make_user, Role.STUDENT, one_site_run)
    assert response.status_code == 200 and 'id="no-external-validation"' in response.content.decode()


@pytest.mark.parametrize("seed", [1, 3, 7])
def test_recalibration_on_a_local_sample_leaves_the_auc_unchanged_or_reversed(
        client, make_user, run, seed):
    """A positive recalibration slope keeps the AUC; a negative one (said on the page) turns
    it into 1 - AUC."""
    response = _page(client, make_user, Role.STUDENT, run, n_local="50", seed=str(seed))
    text = response.content.decode()
    assert response.status_code == 200 and 'id="recalibration-table-clinic"' in text
    rows = text.split('data-figure="roc_auc"')[1:]
    assert rows, "no arm was recalibrated"
    for refusal in re.findall(r'<td colspan="5">(.*?)</td>', text, flags=re.S):
        assert html.unescape(refusal) == LOCAL_UNUSABLE or refusal.startswith("a local sample of")
    for row in rows:
        before, after = (float(cell.split()[0]) for cell in row.split('<td class="num">')[3:5])
        if row.startswith(" data-reversed"):
            assert "every rank reversed" in row and after == pytest.approx(1 - before, abs=1e-3)
        else:
            assert after == before


def test_the_same_seed_draws_the_same_local_sample(client, make_user, run):
    client.force_login(make_user(Role.STUDENT))
    path = reverse("run_travel", args=[run.pk])
    first, second, other = (client.get(path, {"n_local": "50", "seed": seed}).content.decode()
                            .split('id="recalibration-table-clinic"')[1].split("</table>")[0]
                            for seed in ("9", "9", "10"))
    assert first == second != other


@pytest.mark.parametrize("field,value", [("n_local", "49"), ("n_local", "501"),
                                         ("n_local", "abc"), ("n_local", "1e309"),
                                         ("n_local", "NaN"), ("n_local", ""), ("seed", "-1"),
                                         ("seed", "2147483648"), ("seed", "x")])
def test_a_bad_recalibration_setting_is_refused_naming_the_field(client, make_user, run, field,
                                                                 value):
    query = {"n_local": "100", "seed": "1", field: value}
    response = _page(client, make_user, Role.STUDENT, run, **query)
    assert response.status_code == 400 and f"({field})" in response.content.decode()


# --- what else knows a run's training set -----------------------------------------------------

def test_the_explanation_refits_use_the_training_patients_of_the_development_site(run):
    """The explanation comparison refits on a run's training split again: at the development
    site alone it is the split training used (as many patients as each model learnt from)."""
    for model in run.models.all():
        rows = model_training_rows(cohort_id=run.cohort_id, arm=model.arm, variant=model.variant,
                                   seed=run.seed, site=run.development_site)
        assert len(rows) == model.metrics["n_train"], model
        assert set(_site_patients(run.cohort, run.development_site)
                   .filter(pk__in=rows.index).values_list("pk", flat=True)) == set(rows.index)


@pytest.mark.parametrize("site,trained", [("trial", True), ("clinic", False)])
def test_erasing_a_patient_names_the_run_only_if_their_site_trained_it(run, site, trained):
    patients = _site_patients(run.cohort, site).order_by("pk")
    permitted = model_training_permitted(patients.values_list("pk", flat=True))["clinical_only"]
    patient = patients.get(pk=permitted[permitted].index[0])
    assert (runs_trained_on(patient) == [run]) is trained


@pytest.mark.parametrize("role,changes", [(Role.STUDENT, False), (Role.EDUCATOR, True)])
def test_no_number_a_student_sees_changes_with_the_truth_at_the_other_site(client, make_user, run,
                                                                           role, changes):
    """The policy value at the other site is scored with the truth: replacing it changes the
    educator's page and not one character of the student's."""
    validation = run.external_validations.get()
    stored = validation.results
    client.force_login(make_user(role))
    path = reverse("run_travel", args=[run.pk])
    before = client.get(path).content.decode()
    replaced = {name: round(0.0917 + 0.113 * i, 4) for i, name in enumerate(
        ("oracle", "model", "best_single", "random"))}
    try:
        ExternalValidation.objects.filter(pk=validation.pk).update(
            results={**stored, "policy": {**stored["policy"], **replaced}})
        after = client.get(path).content.decode()
    finally:
        ExternalValidation.objects.filter(pk=validation.pk).update(results=stored)
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|nonce="[^"]*"')
    assert (strip.sub("", before) != strip.sub("", after)) is changes


def test_each_arm_has_a_calibration_chart_at_both_sites_with_its_table(client, make_user, run):
    text = _page(client, make_user, Role.STUDENT, run).content.decode()
    models = [m for m in run.external_validations.get().results["models"]
              if (m["algorithm"], m["variant"]) == (RANKING_ALGORITHM, "full")]
    assert models
    for m in models:
        chart = text.split(f'data-chart="calibration-clinic-{m["arm"]}"')[1].split("</figure>")[0]
        assert "Table of this chart" in chart
        for setting in ("internal", "external"):
            for value in m[setting]["calibration"]["observed"]:
                assert f'<td class="num">{round(value, 4)}</td>' in chart


@pytest.mark.parametrize("count,shown", [(0, 0), (1, "<11"), (10, "<11"), (11, 11), (123, 123)])
def test_the_other_sites_small_counts_are_hidden(count, shown):
    excluded = {"full": count, "clinical_only": count}
    assert pages.travel_exclusions(excluded) == [("full", shown), ("clinical_only", shown)]
    rows = pages.travel_rows([{"arm": "ssri", "algorithm": RANKING_ALGORITHM, "variant": "full",
                               "internal": {"roc_auc": 0.6, "n_test": count},
                               "external": {"roc_auc": 0.5, "n_test": count}}])
    assert (rows[0]["n_internal"], rows[0]["n_external"]) == (shown, shown)


@pytest.mark.parametrize("label,message", [
    (services.EXTERNAL_LABEL, "Validating the models at the other sites, then storing them"),
    (services.STORING_LABEL, "Storing the models in the registry")])
def test_a_training_job_says_when_it_validates_at_the_other_sites(label, message):
    fraction, shown = jobs.progress_message(9, 9, label)
    assert shown == message and fraction == jobs.READ_SHARE + jobs.FIT_SHARE


def test_training_a_multi_site_cohort_reports_the_validation_step(monkeypatch):
    cohort = cohort_generate(n_patients=150, seed=4, site_scenario="assay_shift")
    narrow_training(monkeypatch, algorithms=(RANKING_ALGORITHM,), variants=("full",))
    labels = []
    run = services.training_run_create(cohort=cohort, seed=2,
                                       progress=lambda done, total, label: labels.append(label))
    assert labels[-1] == services.EXTERNAL_LABEL
    assert list(run.external_validations.values_list("site", flat=True)) == ["lab_b"]


# --- SHAP shift -------------------------------------------------------------------------------

def _importance(run, site):
    return {m["arm"]: m for m in run.external_validations.get(site=site).results["importance"]}


@pytest.mark.parametrize("patients", ["permitted", "everyone"])
def test_stored_importance_is_the_ranking_models_shap_at_both_sites_on_permitted_patients(
        run, patients):
    """Recomputed with ``importance_by_site`` on the other site's patients whose consent to
    model training covers the ranking model's data it matches the stored figures; on every
    patient (consent ignored) it would not."""
    clinic = SITE_SCENARIOS["trial_to_clinic"].sites[1].name
    frame = patients_frame(_site_patients(run.cohort, clinic))
    permitted = model_training_permitted(frame.index)["full"].to_numpy()
    rows = frame[permitted] if patients == "permitted" else frame
    stored = _importance(run, clinic)
    assert set(stored) == {m["arm"] for m in run.external_validations.get().results["models"]}
    matches = []
    for arm, m in stored.items():
        assert (m["algorithm"], m["variant"]) == (RANKING_ALGORITHM, "full")
        model = fitted_model(run.models.get(arm=arm, algorithm=RANKING_ALGORITHM, variant="full"))
        table = importance_by_site(model, {clinic: rows})
        assert [f["feature"] for f in m["features"]] == list(table.index)
        assert [f["internal"] for f in m["features"]] == table["internal"].tolist()
        matches.append([f["external"] for f in m["features"]]
                       == pytest.approx(table[clinic].tolist(), abs=1e-6))
        if patients == "permitted":
            assert m["n_external"] == min(GLOBAL_SHAP_ROWS, int((rows["arm"] == arm).sum()))
    assert all(matches) if patients == "permitted" else not any(matches)


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.STUDENT])
def test_each_arm_has_a_shap_shift_chart_whose_table_shows_the_stored_top_features(
        client, make_user, run, role):
    text = _page(client, make_user, role, run).content.decode()
    stored = _importance(run, "clinic")
    site_labels = {site.name: site.label for site in SITE_SCENARIOS["trial_to_clinic"].sites}
    assert stored
    for arm, m in stored.items():
        chart = text.split(f'data-chart="shap-shift-clinic-{arm}"')[1].split("</figure>")[0]
        assert "Table of this chart" in chart
        top = sorted(m["features"], key=lambda f: -f["internal"])[:pages.SHAP_SHIFT_TOP]
        labels = re.findall(r'<tr><th scope="row">(.*?)</th>', chart)
        assert labels == [html.escape(pages._label(f["feature"]), quote=True) for f in top]
        for f in top:
            row = chart.split(f'<th scope="row">{html.escape(pages._label(f["feature"]))}</th>')[1]
            row = row.split("</tr>")[0]
            assert row == (f'<td class="num">{round(f["internal"], 4)}</td>'
                           f'<td class="num">{round(f["external"], 4)}</td>')
        reading = text.split(f'id="shap-shift-clinic-{arm}-reading">')[1].split("</p>")[0]
        assert html.unescape(reading) == pages.importance_shift(top, site_labels["clinic"],
                                                                site_labels["trial"])


def test_a_run_stored_without_shap_importance_says_to_retrain(client, make_user, run):
    validation = run.external_validations.get()
    stored = validation.results
    old = {k: v for k, v in stored.items() if k != "importance"}
    try:
        ExternalValidation.objects.filter(pk=validation.pk).update(results=old)
        response = _page(client, make_user, Role.STUDENT, run)
    finally:
        ExternalValidation.objects.filter(pk=validation.pk).update(results=stored)
    text = response.content.decode()
    assert response.status_code == 200 and 'id="travel-table-clinic"' in text
    assert "not computed for this run; retrain to see it" in text
    assert 'data-chart="shap-shift-' not in text


def _feature(name, internal, external):
    return {"feature": name, "internal": internal, "external": external}


@pytest.mark.parametrize("features,moved,first", [
    ([_feature("crp_mg_l", 0.30, 0.50), _feature("age", 0.20, 0.21), _feature("hamd17", 0.1, 0.1)],
     "hs-CRP", "is the most important at both sites"),
    ([_feature("crp_mg_l", 0.30, 0.31), _feature("age", 0.20, 0.05), _feature("hamd17", 0.1, 0.1)],
     "Age", "is the most important at both sites"),
    ([_feature("crp_mg_l", 0.30, 0.10), _feature("age", 0.20, 0.21), _feature("hamd17", 0.1, 0.1)],
     "hs-CRP", "the most important is hs-CRP at Trial, Age at Clinic"),
])
def test_the_shap_shift_reading_names_the_feature_that_moved_most(features, moved, first):
    reading = pages.importance_shift(features, "Clinic", "Trial")
    assert reading.startswith(f"Of these 3 features, {moved}'s importance moved most")
    assert first in reading


def test_the_shifted_lab_changes_crps_importance_more_than_the_median_features(assay_run):
    """Site B's lab records CRP 40% higher and noisier: the models read CRP differently there.
    The relative change of mean |SHAP| (each feature on its own scale), averaged over the arms,
    is larger for CRP than for the median feature."""
    stored = _importance(assay_run, "lab_b")
    assert len(stored) >= 3
    changes = {}
    for m in stored.values():
        for f in m["features"]:
            changes.setdefault(f["feature"], []).append(abs(f["external"] / f["internal"] - 1))
    mean_change = {feature: sum(c) / len(c) for feature, c in changes.items()}
    median = sorted(mean_change.values())[len(mean_change) // 2]
    assert mean_change["crp_mg_l"] > 2 * median
