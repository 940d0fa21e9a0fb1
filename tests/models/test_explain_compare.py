"""Explanation comparison: signs, ranks and shares across algorithms; stability across refits."""

import numpy as np
import pandas as pd
import pytest

from models.explain import Explanation
from models.explain_compare import (EXPLANATIONS_REQUIRED, FEATURES_DIFFER, SEEDS_REQUIRED,
                                    compare_explanations, normalised_shares, shap_stability)
from synthetic_data import make_cohort


def _explanation(values: dict, units: str) -> Explanation:
    contributions = pd.Series(values, dtype=float)
    return Explanation(base_value=0.0, contributions=contributions,
                       model_output=float(contributions.sum()), probability=0.5, units=units,
                       feature_values=pd.Series(0.0, index=contributions.index))


FEATURES = ["a", "b", "c", "d", "e", "f", "g"]


def _three(lr, rf, gb):
    return {"logistic_regression": _explanation(dict(zip(FEATURES, lr)), "log-odds"),
            "random_forest": _explanation(dict(zip(FEATURES, rf)), "probability"),
            "gradient_boosting": _explanation(dict(zip(FEATURES, gb)), "log-odds")}


def test_a_feature_whose_sign_differs_between_algorithms_is_a_sign_disagreement():
    comparison = compare_explanations(_three(
        lr=[0.9, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02],
        rf=[0.09, -0.05, 0.03, 0.02, 0.01, 0.005, 0.002],   # b changes sign, same rank
        gb=[0.8, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02]))
    assert comparison.sign_disagreement.to_dict() == {f: f == "b" for f in FEATURES}
    assert not comparison.rank_disagreement.any()
    assert comparison.disagreement["b"] and not comparison.disagreement["a"]


def test_a_top_three_feature_outside_another_algorithms_top_five_is_a_rank_disagreement():
    comparison = compare_explanations(_three(
        lr=[0.9, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02],
        rf=[0.09, 0.05, 0.001, 0.02, 0.01, 0.005, 0.03],   # c: rank 3 -> 7, g: rank 7 -> 3
        gb=[0.8, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02]))
    assert comparison.ranks.loc["c"].to_dict() == {"logistic_regression": 3, "random_forest": 7,
                                                   "gradient_boosting": 3}
    assert comparison.rank_disagreement.to_dict() == {f: f in ("c", "g") for f in FEATURES}
    assert not comparison.sign_disagreement.any()


def test_rank_four_against_rank_five_is_no_disagreement():
    comparison = compare_explanations({
        "x": pd.Series(dict(zip(FEATURES, [7, 6, 5, 4, 3, 2, 1]))),
        "y": pd.Series(dict(zip(FEATURES, [7, 6, 3, 4, 5, 2, 1]))),  # c: rank 3 -> rank 5
    })
    assert not comparison.disagreement.any()


def test_a_negligible_contribution_has_no_sign():
    comparison = compare_explanations({
        "x": pd.Series({"a": 1.0, "b": 0.001}), "y": pd.Series({"a": 1.0, "b": -0.001})})
    assert not comparison.sign_disagreement["b"]
    strict = compare_explanations({
        "x": pd.Series({"a": 1.0, "b": 0.001}), "y": pd.Series({"a": 1.0, "b": -0.001})},
        negligible_share=0.0)
    assert strict.sign_disagreement["b"]


def test_shares_sum_to_one_per_algorithm_whatever_the_units():
    comparison = compare_explanations(_three(
        lr=[0.9, -0.5, 0.3, 0.2, -0.1, 0.05, 0.0],
        rf=[0.09, -0.05, 0.03, 0.02, 0.01, 0.005, 0.0],
        gb=[1.8, 0.4, -0.3, 0.2, 0.1, 0.05, 0.02]))
    assert comparison.shares.sum().to_numpy() == pytest.approx([1.0, 1.0, 1.0])
    assert (comparison.shares >= 0).all().all()
    assert comparison.units == {"logistic_regression": "log-odds", "random_forest": "probability",
                                "gradient_boosting": "log-odds"}
    # Rows by mean share, largest first; the frame view has every column.
    assert comparison.features[0] == "a"
    assert list(comparison.as_frame().columns[:3]) == [
        "logistic_regression_value", "logistic_regression_rank", "logistic_regression_share"]


def test_an_explanation_where_nothing_moved_has_zero_shares():
    assert normalised_shares(pd.Series({"a": 0.0, "b": 0.0})).tolist() == [0.0, 0.0]
    assert normalised_shares(pd.Series({"a": 2.0, "b": -2.0})).sum() == pytest.approx(1.0)


def test_ties_share_their_best_rank():
    comparison = compare_explanations({"x": pd.Series({"a": 1.0, "b": 0.0, "c": 0.0}),
                                       "y": pd.Series({"a": 1.0, "b": 0.5, "c": 0.2})})
    assert comparison.ranks["x"].to_dict() == {"a": 1, "b": 2, "c": 2}


def test_comparing_needs_two_explanations_of_the_same_features():
    with pytest.raises(ValueError, match=EXPLANATIONS_REQUIRED.format(n=1)):
        compare_explanations({"x": pd.Series({"a": 1.0})})
    with pytest.raises(ValueError) as error:
        compare_explanations({"x": pd.Series({"a": 1.0}), "y": pd.Series({"b": 1.0})})
    assert str(error.value) == FEATURES_DIFFER.format(first="x", other="y")


# --- stability across refits ---------------------------------------------------------------


@pytest.fixture(scope="module")
def toy():
    """Simulated patients whose outcome depends on one feature only (the EEG SSRI signature),
    with one feature (serum BDNF) replaced by pure noise."""
    rng = np.random.default_rng(0)
    patients = make_cohort(400, random_state=3).patients.copy()
    patients["bdnf_serum_ng_ml"] = rng.normal(20.0, 5.0, len(patients))
    strong = patients["eeg_ssri_signature_z"].to_numpy()
    outcomes = (rng.random(len(patients)) < 1 / (1 + np.exp(-2.5 * strong))).astype(int)
    patient = patients.iloc[[0]].copy()
    patient["eeg_ssri_signature_z"] = 2.0  # far from the mean: a large, clear contribution
    patient["bdnf_serum_ng_ml"] = 20.0  # an ordinary value of the noise: its credit is chance
    return patients, outcomes, patient


@pytest.mark.parametrize("algorithm", ["logistic_regression", "gradient_boosting"])
def test_a_strong_feature_is_stable_and_a_noise_feature_less_so(toy, algorithm):
    patients, outcomes, patient = toy
    result = shap_stability(patients, outcomes, patient, algorithm=algorithm,
                            variant="no_genetic", seeds=range(8))
    assert result.index[0] == "eeg_ssri_signature_z"  # largest |mean| first
    strong, noise = result.loc["eeg_ssri_signature_z"], result.loc["bdnf_serum_ng_ml"]
    assert strong["mean"] > 0 and strong["sign_agreement"] == 1.0 and not strong["unstable"]
    assert strong["sd"] < strong["mean"] / 3
    assert noise["sign_agreement"] < 1.0 and noise["unstable"]
    assert noise["sd"] / abs(noise["mean"]) > strong["sd"] / strong["mean"]
    assert abs(noise["mean"]) < strong["mean"] / 5


def test_stability_reports_sign_agreement_per_feature_and_flags_unstable_ones(toy):
    patients, outcomes, patient = toy
    result = shap_stability(patients, outcomes, patient, algorithm="random_forest",
                            variant="no_genetic", seeds=(0, 1, 2, 3, 4))
    assert list(result.columns) == ["mean", "sd", "sign_agreement", "unstable", "units"]
    assert set(result["units"]) == {"probability"}
    assert result["sign_agreement"].between(0, 1).all()
    assert result.loc["eeg_ssri_signature_z", "sign_agreement"] == 1.0
    assert not result.loc["eeg_ssri_signature_z", "unstable"]
    noise = result.loc["bdnf_serum_ng_ml"]
    assert noise["sign_agreement"] < 1.0 and noise["unstable"]
    # Each flag follows the stated rule.
    expected = (result["sign_agreement"] < 0.8) | (result["sd"] > result["mean"].abs())
    assert (result["unstable"] == expected).all()


def test_the_same_seeds_give_the_same_stability(toy):
    patients, outcomes, patient = toy
    first = shap_stability(patients, outcomes, patient, algorithm="logistic_regression",
                           variant="clinical_only", seeds=(1, 2, 3))
    again = shap_stability(patients, outcomes, patient, algorithm="logistic_regression",
                           variant="clinical_only", seeds=(1, 2, 3))
    pd.testing.assert_frame_equal(first, again)


def test_stability_needs_two_seeds(toy):
    patients, outcomes, patient = toy
    with pytest.raises(ValueError, match=SEEDS_REQUIRED.format(n=1)):
        shap_stability(patients, outcomes, patient, algorithm="logistic_regression",
                       variant="full", seeds=(1,))
