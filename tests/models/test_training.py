"""Training, evaluation, SHAP and the truth check, on small cohorts (plain Python, no database)."""

import json

import numpy as np
import pandas as pd
import pytest

from models.explain import narrative
from models.features import VARIANT_DATA_CLASSES, FeatureRows, prepare_rows, variant_features
from models.ranking import ACTIVE_ARMS
from models.training import CV_FOLDS, train_suite
from models.truth import CREDITED_TOP, MEASURES, NOISE_AUC, PROXY_FLAG, ZERO_EFFECT_FLAG
from synthetic_data import DATA_DICTIONARY, FIRST_LINE_ARMS, TREATMENT_RESISTANT_ARMS, make_cohort

METRIC_COLUMNS = {"arm", "algorithm", "variant", "roc_auc", "roc_auc_low", "roc_auc_high",
                  "balanced_accuracy", "brier", "n_train", "n_test", "calibration"}


@pytest.fixture(scope="module")
def cohort():
    return make_cohort(2500, random_state=31)


@pytest.fixture(scope="module")
def suite(cohort):
    return train_suite(cohort.patients, truth=cohort.truth, random_state=5, n_resamples=50,
                       n_refits=5)


@pytest.fixture(scope="module")
def large_cohort():
    return make_cohort(12_000, random_state=7)


@pytest.fixture(scope="module")
def large_suite(large_cohort):
    return train_suite(large_cohort.patients, truth=large_cohort.truth, random_state=3,
                       variants=("full",), n_resamples=100, n_refits=5)


def test_metrics_hold_every_model_with_intervals_and_sizes(suite):
    metrics = suite.metrics
    assert METRIC_COLUMNS <= set(metrics.columns)
    assert len(metrics) == 7 * 3 * 3
    assert (metrics["roc_auc_low"] <= metrics["roc_auc"]).all()
    assert (metrics["roc_auc"] <= metrics["roc_auc_high"]).all()
    assert (metrics["n_train"] > metrics["n_test"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("arm", FIRST_LINE_ARMS)
def test_full_models_are_modest_and_never_beat_the_oracle(large_suite, arm):
    """Held-out AUC between 0.53 and the oracle's + 0.03: a model above that would be leaking."""
    for algorithm in ("logistic_regression", "random_forest", "gradient_boosting"):
        model = large_suite.model(arm=arm, algorithm=algorithm, variant="full")
        oracle = model.truth_check["oracle_roc_auc"]
        assert 0.53 <= model.metrics["roc_auc"] <= oracle + 0.03, (algorithm, model.metrics)


@pytest.mark.slow
def test_the_models_policy_beats_random_assignment_but_not_the_oracle(large_suite):
    policy = large_suite.policy
    assert policy["random"] < policy["model"] < policy["oracle"]


def test_treatment_resistant_arms_warn_that_the_sample_is_too_small(suite):
    for arm in TREATMENT_RESISTANT_ARMS:
        metrics = suite.model(arm=arm, algorithm="logistic_regression", variant="full").metrics
        assert metrics["small_sample"] and metrics["roc_auc_high"] - metrics["roc_auc_low"] > 0.2


def test_the_same_seed_gives_identical_metrics_and_shap_values(cohort):
    runs = [train_suite(cohort.patients, truth=cohort.truth, random_state=9, arms=("ssri",),
                        n_resamples=30, n_refits=3) for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0].metrics, runs[1].metrics)
    rows = cohort.patients.iloc[:20]
    for algorithm in ("logistic_regression", "random_forest", "gradient_boosting"):
        first, second = (r.explain(rows, arm="ssri", algorithm=algorithm, variant="full") for r in runs)
        for a, b in zip(first, second):
            pd.testing.assert_series_equal(a.contributions, b.contributions)


def _own_outputs(model, rows) -> np.ndarray:
    """The model's own output, in the units of its SHAP values: the forest's probability, the
    others' log-odds (scikit-learn's transform and classifier, not ours)."""
    prepared = model.pipeline[:-1].transform(rows[model.features])
    classifier = model.pipeline[-1]
    return (classifier.predict_proba(prepared)[:, 1] if model.algorithm == "random_forest"
            else classifier.decision_function(prepared))


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest", "gradient_boosting"])
@pytest.mark.parametrize("variant", ["full", "no_genetic", "clinical_only"])
def test_shap_values_add_up_to_the_model_output(suite, cohort, algorithm, variant):
    """Exact to 1e-9 for every algorithm: the output and probability an explanation shows are
    its SHAP values' sum, not another call of the model."""
    rows = cohort.patients.iloc[:25]
    for arm in ACTIVE_ARMS:
        model = suite.model(arm=arm, algorithm=algorithm, variant=variant)
        explanations = suite.explain(rows, arm=arm, algorithm=algorithm, variant=variant)
        probabilities = model.predict(rows)
        for explanation, probability, output in zip(explanations, probabilities,
                                                    _own_outputs(model, rows)):
            total = explanation.base_value + explanation.contributions.sum()
            assert total == pytest.approx(output, abs=1e-9)
            assert explanation.model_output == pytest.approx(output, abs=1e-9)
            assert explanation.probability == pytest.approx(probability, abs=1e-9)
            assert list(explanation.contributions.index) == variant_features(variant)
    assert explanations[0].units == ("probability" if algorithm == "random_forest" else "log-odds")


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest", "gradient_boosting"])
def test_an_explanation_calls_no_model_beside_its_shap_values(suite, cohort, algorithm,
                                                              monkeypatch):
    model = suite.model(arm="snri", algorithm=algorithm, variant="full")
    expected = model.explain(cohort.patients.iloc[:5])
    classifier = type(model.pipeline[-1])
    for method in ("predict_proba", "decision_function", "predict"):
        if hasattr(classifier, method):
            monkeypatch.setattr(classifier, method, lambda *args, **kwargs: pytest.fail("called"))
    explained = model.explain(FeatureRows(cohort.patients.iloc[:5]))
    for a, b in zip(explained, expected):
        assert a.probability == b.probability and a.model_output == b.model_output
        pd.testing.assert_series_equal(a.contributions, b.contributions)
        pd.testing.assert_series_equal(a.feature_values.astype(object),
                                       b.feature_values.astype(object))


@pytest.mark.parametrize("variant", ["full", "no_genetic", "clinical_only"])
def test_variants_leave_out_whole_data_classes_and_never_use_ancestry_or_sex(variant):
    features = variant_features(variant)
    assert {DATA_DICTIONARY[f].data_class for f in features} <= set(VARIANT_DATA_CLASSES[variant])
    assert not {"ancestry", "sex"} & set(features)
    if variant != "full":
        assert not any(DATA_DICTIONARY[f].data_class in ("genetic", "epigenetic") for f in features)


def test_global_importance_and_beeswarm_are_computed_at_training_time(suite):
    model = suite.model(arm="ssri", algorithm="gradient_boosting", variant="full")
    importance = list(model.global_importance.values())
    assert importance == sorted(importance, reverse=True) and importance[0] > 0
    top = model.beeswarm["features"][0]
    assert len(model.beeswarm["shap"][top]) == len(model.beeswarm["colour"][top]) > 100


def test_truth_check_gives_decoys_zero_true_effect_and_flags_what_the_model_credits(suite):
    model = suite.model(arm="ssri", algorithm="random_forest", variant="full")
    rows = {row["feature"]: row for row in model.truth_check["features"]}
    for decoy in ("hippocampal_volume_mm3", "bdnf_serum_ng_ml"):
        assert rows[decoy]["true_importance"] == 0
    assert rows["crp_mg_l"]["true_importance"] > 0 and rows["eeg_ssri_signature_z"]["true_share"] > 0.1
    candidates = [r for r in model.truth_check["features"][:CREDITED_TOP] if r["true_importance"] == 0]
    assert model.truth_check["flagged"] == [r["feature"] for r in candidates
                                            if r["held_out_auc_low"] > NOISE_AUC]
    for f in model.truth_check["flagged"]:
        latent = MEASURES.get(f)
        assert rows[f]["flag"] == (PROXY_FLAG.format(latent=DATA_DICTIONARY[latent].label.lower())
                                   if latent else ZERO_EFFECT_FLAG)
    assert {u["feature"] for u in model.truth_check["unobserved"]} == {"genetic_liability_z"}
    calibration = model.truth_check["calibration_against_truth"]
    assert calibration["predicted"] == sorted(calibration["predicted"])


@pytest.mark.parametrize("responders", [1, 2, 5])
def test_bootstrap_refits_of_a_small_arm_keep_both_response_classes(suite, cohort, responders):
    """A plain resample of an arm with few responders (or few non-responders) often draws none, and
    no classifier fits one class: the refits resample within each class, so every one fits."""
    from models.ranking import bootstrap_coefficients

    pipeline = suite.model(arm="ssri", algorithm="logistic_regression", variant="full").pipeline
    received = cohort.patients[cohort.patients["arm"] == "ssri"]
    rows = pd.concat([received[received["response"] == 1].head(responders),
                      received[received["response"] == 0].head(30)])
    for frame in (rows, rows.assign(response=1 - rows["response"])):
        refits = bootstrap_coefficients(pipeline, frame, n_refits=200,
                                        rng=np.random.default_rng(0))
        assert refits.shape[0] == 200 and np.isfinite(refits).all()


def test_ranking_sorts_eligible_arms_with_intervals(suite, cohort):
    rows = cohort.patients.iloc[:40]
    for (_, row), ranking in zip(rows.iterrows(), suite.rank(rows)):
        assert list(ranking["probability"]) == sorted(ranking["probability"], reverse=True)
        assert (ranking["low"] <= ranking["high"]).all()
        expected = set(ACTIVE_ARMS) if row["prior_failures"] >= 2 else set(ACTIVE_ARMS) - set(TREATMENT_RESISTANT_ARMS)
        assert set(ranking["arm"]) == expected


def test_narrative_names_the_top_driver_and_its_direction(suite, cohort):
    model = suite.model(arm="ssri", algorithm="logistic_regression", variant="full")
    explanation = model.explain(cohort.patients.iloc[:1])[0]
    top = explanation.contributions.abs().idxmax()
    text = narrative(explanation, arm_label="SSRI", medians=model.medians)
    direction = "raised" if explanation.contributions[top] > 0 else "lowered"
    assert DATA_DICTIONARY[top].label.lower() in text.lower()
    assert f"{direction} the predicted SSRI response" in text.split(";")[0]


def test_a_suite_of_placebo_alone_has_no_policy_value(cohort):
    suite = train_suite(cohort.patients, truth=cohort.truth, random_state=1, arms=("placebo",),
                        algorithms=("logistic_regression",), variants=("full",), n_resamples=10,
                        n_refits=2)
    assert suite.policy is None
    assert ("placebo", "logistic_regression", "full") in suite.models


@pytest.mark.parametrize("n", [300, 200])
def test_an_arm_with_too_few_patients_is_skipped_with_a_reason_that_names_no_count(n):
    """Pages show the reason as it is: it must not carry a count of 1-10 patients, so it is
    the same whatever the counts (here 300 and 200 patients give different ones)."""
    patients = make_cohort(n, random_state=2).patients
    suite = train_suite(patients, random_state=1, arms=("rtms",), n_resamples=10, n_refits=2)
    assert suite.skipped["rtms"] == ("too few patients: fewer than 10 responders or "
                                     "non-responders among those who received rtms")
    with pytest.raises(ValueError, match="too few patients"):
        suite.model(arm="rtms", algorithm="logistic_regression", variant="full")


@pytest.mark.parametrize("split, variant", [(0, "full"), (1, "full"), (0, "clinical_only"),
                                            (1, "clinical_only")])
@pytest.mark.parametrize("response", [True, False])
def test_an_arm_whose_consenting_patients_lack_a_response_class_is_skipped_not_scored_nan(
        cohort, split, variant, response):
    """Without consent, a split can lose every responder (or non-responder): its AUC and its
    calibration would be undefined (NaN, which no page can show and no JSON column can store)."""
    from models.training import split_arm

    patients = cohort.patients
    received = patients[patients["arm"] == "ssri"]
    part = split_arm(received, seed=3)[split]
    dropped = part.index[part["response"] == response]
    permitted = {v: pd.Series(True, index=patients.index) for v in VARIANT_DATA_CLASSES}
    permitted[variant].loc[dropped] = False
    suite = train_suite(patients, truth=cohort.truth, random_state=3, arms=("ssri", "cbt"),
                        algorithms=("logistic_regression",), permitted=permitted,
                        n_resamples=10, n_refits=2)
    name = ("training", "held-out")[split]
    shortfall = (f"fewer than {CV_FOLDS} responders or non-responders",
                 "no responders or no non-responders")[split]
    assert suite.skipped["ssri"] == (
        f"too few patients who consented to model training: the {name} split of the {variant} "
        f"variant has {shortfall}")
    assert not any(arm == "ssri" for arm, _, _ in suite.models)
    for model in suite.models.values():
        json.dumps([model.metrics, model.calibration, model.truth_check], allow_nan=False)


def test_patients_a_variant_may_not_use_are_left_out_of_its_training(cohort):
    patients = cohort.patients
    permitted = {"full": patients["patient_id"] % 4 != 0, "no_genetic": patients["patient_id"] > 0,
                 "clinical_only": patients["patient_id"] > 0}
    suite = train_suite(patients, truth=cohort.truth, random_state=2, arms=("ssri", "cbt"),
                        algorithms=("logistic_regression",), permitted=permitted,
                        n_resamples=10, n_refits=2)
    full = {arm: suite.model(arm=arm, algorithm="logistic_regression", variant="full").metrics
            for arm in ("ssri", "cbt")}
    rest = suite.model(arm="ssri", algorithm="logistic_regression", variant="no_genetic").metrics
    assert full["ssri"]["n_train"] + full["ssri"]["n_test"] < rest["n_train"] + rest["n_test"]
    assert suite.excluded == {"full": int((~permitted["full"]).sum()), "no_genetic": 0,
                              "clinical_only": 0}
    received = int(patients["arm"].isin(["ssri", "cbt"]).sum())
    split = suite.excluded_by_split["full"]
    assert split["training"] + split["held_out"] == received - sum(
        m["n_train"] + m["n_test"] for m in full.values())
    assert suite.excluded_by_split["no_genetic"] == {"training": 0, "held_out": 0}
    # The policy value ranks each held-out patient with the richest variant permitted, as the
    # patient page does: those who decline genetic data with no_genetic, so none is left out.
    assert suite.policy["n_patients"] == sum(
        suite.model(arm=arm, algorithm="logistic_regression", variant="no_genetic").metrics["n_test"]
        for arm in ("ssri", "cbt"))
    assert suite.policy["n_excluded"] == 0


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest", "gradient_boosting"])
@pytest.mark.parametrize("variant", ["full", "no_genetic", "clinical_only"])
def test_fast_row_preparation_equals_scikit_learns(suite, cohort, algorithm, variant):
    pipeline = suite.model(arm="cbt", algorithm=algorithm, variant=variant).pipeline
    for rows in (cohort.patients.iloc[:1], cohort.patients.iloc[5:80]):
        expected = pipeline[:-1].transform(rows[variant_features(variant)])
        np.testing.assert_array_equal(prepare_rows(pipeline, rows), expected)
        np.testing.assert_array_equal(prepare_rows(pipeline, FeatureRows(rows)), expected)
