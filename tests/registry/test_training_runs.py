"""Training runs stored in the registry: content-addressed models, hash-checked loads."""

import pytest

from decision_support.registry.loading import fitted_model
from decision_support.registry.models import ModelArtifact
from models.persistence import TamperedModelError
from tests.trained_runs import clear_model_caches, committed_run

pytestmark = pytest.mark.django_db
REFITS = 8  # bootstrap refits of each ranking model (the app's 20 would take longer)


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    """One run for the whole module (training takes seconds); removed again afterwards."""
    with committed_run(django_db_blocker, n_patients=900, cohort_seed=3, training_seed=11,
                       n_refits=REFITS) as run:
        yield run


@pytest.fixture(autouse=True)
def fresh_caches():
    clear_model_caches()
    yield
    clear_model_caches()


def test_a_run_records_every_model_with_its_provenance(run):
    assert run.models.count() == 7 * 3 * 3 - 9 * len(run.skipped_arms)
    row = run.models.get(arm="ssri", algorithm="gradient_boosting", variant="full")
    assert run.seed == 11 and run.scenario == "default" and run.cohort.n_patients == 900
    assert {"scikit-learn", "shap", "skops", "numpy", "pandas", "python"} <= set(run.library_versions)
    assert {"roc_auc", "roc_auc_low", "roc_auc_high", "brier", "n_train", "n_test"} <= set(row.metrics)
    assert row.features[0] == "age" and "ancestry" not in row.features
    assert row.truth_check["oracle_roc_auc"] is not None
    assert run.policy_value["oracle"] >= run.policy_value["model"]


def test_models_are_stored_content_addressed_and_load_to_the_same_predictions(run):
    row = run.models.get(arm="ssri", algorithm="random_forest", variant="full")
    assert len(row.artifact_id) == 64 and row.artifact.size_bytes == len(bytes(row.artifact.data))
    from decision_support.cohorts.models import Patient
    from decision_support.cohorts.selectors import patients_frame

    rows = patients_frame(Patient.objects.filter(cohort=run.cohort)).iloc[:10]
    model = fitted_model(row)
    assert model.predict(rows).shape == (10,)
    explanation = model.explain(rows.iloc[:1])[0]
    assert explanation.base_value + explanation.contributions.sum() == pytest.approx(
        explanation.model_output, abs=1e-6)


def test_a_tampered_model_is_refused_with_a_clear_error(run):
    row = run.models.get(arm="ssri", algorithm="logistic_regression", variant="full")
    original = bytes(row.artifact.data)
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0xFF
    ModelArtifact.objects.filter(pk=row.artifact_id).update(data=bytes(tampered))
    try:
        with pytest.raises(TamperedModelError, match="SHA-256"):
            fitted_model(row)
    finally:
        ModelArtifact.objects.filter(pk=row.artifact_id).update(data=original)


def test_ranking_models_carry_their_bootstrap_refits(run):
    ranking = run.models.filter(algorithm="logistic_regression")
    assert ranking.exists() and all(len(m.refit_coefficients) == REFITS for m in ranking)
    assert not run.models.exclude(algorithm="logistic_regression").exclude(refit_coefficients=None).exists()


def test_training_leaves_out_patients_without_training_consent_and_records_how_many(run):
    from decision_support.lib.vocabulary import Purpose
    from decision_support.consent.selectors import permitted_classes_by_patient

    ids = list(run.cohort.patients.values_list("pk", flat=True))
    consent = permitted_classes_by_patient(ids, purpose=Purpose.MODEL_TRAINING)
    no_training = sum(not classes for classes in consent.values())
    no_genetic = sum("genetic" not in classes for classes in consent.values())
    assert run.excluded_by_consent["clinical_only"] == no_training > 0
    assert run.excluded_by_consent["full"] == no_genetic > no_training
    for variant in ("full", "clinical_only"):
        model = run.models.get(arm="ssri", algorithm="logistic_regression", variant=variant)
        used = model.metrics["n_train"] + model.metrics["n_test"]
        received = run.cohort.patients.filter(arm="ssri").count()
        assert used < received
