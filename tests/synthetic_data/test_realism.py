"""The default cohort mirrors the published findings of ../shared/DOMAIN.md.

Expected figures are written out here from DOMAIN.md, not read from the generator's parameters,
so a wrong parameter fails a test.
"""

import numpy as np
import pandas as pd
import pytest

from synthetic_data import (
    ARMS,
    DATA_DICTIONARY,
    FIRST_LINE_ARMS,
    TREATMENT_RESISTANT_ARMS,
    make_cohort,
    true_response_probabilities,
)

pytestmark = pytest.mark.slow

# First-line patients (no prior failed treatment).
TARGET_RESPONSE = {"placebo": 0.37, "ssri": 0.47, "snri": 0.50, "bupropion": 0.45, "cbt": 0.41}
# Patients with two or more prior failures: placebo like sham (Berlim 2014), and each
# treatment-resistant arm's published edge over its trials' comparator, in points.
SHAM_RESPONSE = 0.10
EDGE = {"rtms": (("placebo",), 0.19), "esketamine": (("ssri", "snri"), 0.14)}
CYP2C19 = {  # PM, IM, NM, RM, UM
    "EUR": [0.021, 0.248, 0.406, 0.276, 0.047],
    "EAS": [0.17, 0.47, 0.34, 0.02, 0.0],
}
PRS_LOSS_FACTOR = {"EUR": 1.0, "AMR": 1.6, "EAS": 2.5, "AFR": 4.9}


@pytest.fixture(scope="module")
def cohort():
    return make_cohort(60_000, random_state=2026)


@pytest.fixture(scope="module")
def patients(cohort):
    return cohort.patients


@pytest.fixture(scope="module")
def large():
    """The size of the independent audit: sampling noise of a rate about 0.3-0.8 points."""
    return make_cohort(200_000, random_state=2027)


def _resistant(patients):
    return patients["prior_failures"] >= 2


def _first_line(patients):
    return patients["prior_failures"] == 0


@pytest.mark.parametrize("arm", FIRST_LINE_ARMS)
def test_first_line_response_rate_of_each_arm_is_within_1_point_of_the_literature(large, arm):
    patients = large.patients
    observed = patients.loc[_first_line(patients) & (patients["arm"] == arm), "response"].mean()
    assert abs(observed - TARGET_RESPONSE[arm]) <= 0.01
    true_rate = large.truth.loc[_first_line(patients).to_numpy(), f"p_response_{arm}"].mean()
    assert abs(true_rate - TARGET_RESPONSE[arm]) <= 0.005


def test_placebo_among_treatment_resistant_patients_responds_like_sham(large):
    resistant = _resistant(large.patients).to_numpy()
    assert abs(large.truth.loc[resistant, "response_placebo"].mean() - SHAM_RESPONSE) <= 0.01
    observed = large.patients.loc[resistant & (large.patients["arm"] == "placebo").to_numpy(),
                                  "response"].mean()
    assert abs(observed - SHAM_RESPONSE) <= 0.02


@pytest.mark.parametrize("arm", TREATMENT_RESISTANT_ARMS)
def test_treatment_resistant_arms_keep_their_published_edge_over_the_comparator(large, arm):
    comparators, edge = EDGE[arm]
    resistant = _resistant(large.patients).to_numpy()
    potential = large.truth.loc[resistant]
    comparator = np.mean([potential[f"response_{c}"].mean() for c in comparators])
    assert abs(potential[f"response_{arm}"].mean() - comparator - edge) <= 0.01
    patients = large.patients[resistant]
    observed = {a: patients.loc[patients["arm"] == a, "response"].mean()
                for a in (arm, *comparators)}
    observed_gap = observed[arm] - np.mean([observed[c] for c in comparators])
    assert abs(observed_gap - edge) <= 0.03  # about 3,500 patients an arm


def test_remission_is_rarer_than_response_and_ssri_remission_is_star_d_s(large):
    patients = large.patients
    assert (patients["remission"] <= patients["response"]).all()
    ssri = patients[_first_line(patients) & (patients["arm"] == "ssri")]
    assert 0.28 <= ssri["remission"].mean() <= 0.33


def test_outcomes_are_strongly_correlated_across_a_patients_treatments(large):
    """Variance-ratio meta-analyses: most outcome variation is shared across treatments."""
    truth = large.truth
    assert np.corrcoef(truth["response_placebo"], truth["response_ssri"])[0, 1] >= 0.5
    first_line = _first_line(large.patients).to_numpy()
    any_response = truth.loc[first_line, [f"response_{a}" for a in FIRST_LINE_ARMS]].max(axis=1)
    assert 0.55 <= any_response.mean() <= 0.75  # 0.93 if outcomes were independent


def test_no_patient_sits_on_a_truncation_bound_more_than_next_to_it(large):
    patients = large.patients
    ages = patients["age"].value_counts()
    assert ages[18] < ages[19] and ages[75] <= ages[74]
    hamd = patients["hamd17"].value_counts()
    assert hamd[14] < hamd[15]


def test_an_episode_is_never_longer_than_the_life_since_age_12(large):
    patients = large.patients
    assert (patients["episode_duration_months"] <= (patients["age"] - 12) * 12).all()


def test_hippocampal_volume_is_larger_in_men_and_smaller_with_age(large):
    patients = large.patients
    by_sex = patients.groupby("sex", observed=True)["hippocampal_volume_mm3"].mean()
    assert by_sex["male"] - by_sex["female"] > 150
    assert np.corrcoef(patients["age"], patients["hippocampal_volume_mm3"])[0, 1] < -0.2


def test_crp_is_above_1_in_58_percent_and_above_3_in_27_percent(patients):
    assert abs((patients["crp_mg_l"] > 1).mean() - 0.58) <= 0.04
    assert abs((patients["crp_mg_l"] > 3).mean() - 0.27) <= 0.04


@pytest.mark.parametrize("ancestry", ["EUR", "EAS"])
def test_cyp2c19_phenotype_shares_match_the_published_frequencies(patients, ancestry):
    group = patients.loc[patients["ancestry"] == ancestry, "cyp2c19_phenotype"]
    shares = group.value_counts(normalize=True).reindex(["PM", "IM", "NM", "RM", "UM"])
    np.testing.assert_allclose(shares.to_numpy(), CYP2C19[ancestry], atol=0.02)


@pytest.mark.parametrize("ancestry", ["AFR", "AMR"])
def test_cyp2c19_in_groups_without_data_is_assumed_near_european(patients, ancestry):
    group = patients.loc[patients["ancestry"] == ancestry, "cyp2c19_phenotype"]
    shares = group.value_counts(normalize=True).reindex(["PM", "IM", "NM", "RM", "UM"])
    np.testing.assert_allclose(shares.to_numpy(), CYP2C19["EUR"], atol=0.02)
    assert DATA_DICTIONARY["cyp2c19_phenotype"].finding.count("assumed")


def test_polygenic_score_tracks_liability_less_well_outside_european_ancestry(cohort):
    correlations = {}
    for ancestry, loss in PRS_LOSS_FACTOR.items():
        in_group = (cohort.patients["ancestry"] == ancestry).to_numpy()
        correlations[ancestry] = np.corrcoef(cohort.patients["polygenic_score_z"][in_group],
                                             cohort.truth["genetic_liability_z"][in_group])[0, 1]
        assert abs(correlations[ancestry] - 0.5 / np.sqrt(loss)) <= 0.04
    assert correlations["EUR"] > correlations["AMR"] > correlations["EAS"] > correlations["AFR"]


def test_population_distributions_match_the_cited_trials(patients):
    assert abs(patients["age"].mean() - 42) <= 0.5  # normal(41, 13) truncated to 18-75
    assert patients["age"].between(18, 75).all()
    assert abs((patients["sex"] == "female").mean() - 0.62) <= 0.02
    assert abs(patients["hamd17"].mean() - 22) <= 0.5
    assert abs(patients["hamd17"].std() - 4.2) <= 0.4
    assert abs(patients["anxious_depression"].mean() - 0.53) <= 0.02
    assert abs(patients["psychiatric_comorbidity"].mean() - 0.50) <= 0.02
    assert abs(patients["childhood_maltreatment"].mean() - 0.45) <= 0.02
    assert abs(patients["dst_nonsuppression"].mean() - 0.20) <= 0.03
    quartiles = patients["episode_duration_months"].quantile([0.25, 0.5, 0.75]).to_numpy()
    np.testing.assert_allclose(quartiles, [8, 16, 34], rtol=0.12)
    assert 0.25 <= (patients["episode_duration_months"] > 24).mean() <= 0.36
    shares = patients["ancestry"].value_counts(normalize=True)
    for ancestry, share in {"EUR": 0.60, "AFR": 0.15, "EAS": 0.15, "AMR": 0.10}.items():
        assert abs(shares[ancestry] - share) <= 0.015


def test_decoys_have_zero_true_effect_on_response(cohort):
    """Changing a decoy (or a null variable) leaves every true response probability unchanged."""
    edited = cohort.patients.copy()
    rng = np.random.default_rng(0)
    edited["hippocampal_volume_mm3"] = rng.integers(2000, 6000, len(edited))
    edited["bdnf_serum_ng_ml"] = rng.uniform(0.5, 100, len(edited)).round(1)
    edited["fkbp5_methylation"] = rng.uniform(0, 1, len(edited)).round(3)
    edited["bdnf_met_carrier"] = 1 - edited["bdnf_met_carrier"]
    edited["httlpr_genotype"] = pd.Categorical(["s/s"] * len(edited), categories=["l/l", "l/s", "s/s"])
    before = true_response_probabilities(cohort.patients, cohort.truth)
    after = true_response_probabilities(edited, cohort.truth)
    pd.testing.assert_frame_equal(before, after)
    np.testing.assert_allclose(before.to_numpy(), cohort.truth[before.columns].to_numpy())


def test_decoys_are_tied_to_illness_burden_so_a_model_may_credit_them(cohort):
    burden = cohort.truth["illness_burden_z"]
    assert np.corrcoef(cohort.patients["hippocampal_volume_mm3"], burden)[0, 1] < -0.2
    assert np.corrcoef(cohort.patients["bdnf_serum_ng_ml"], burden)[0, 1] < -0.2


def test_a_real_predictor_does_change_the_true_response(cohort):
    edited = cohort.patients.copy()
    edited["crp_mg_l"] = edited["crp_mg_l"] * 10
    before = true_response_probabilities(cohort.patients, cohort.truth)
    after = true_response_probabilities(edited, cohort.truth)
    assert (after["p_response_ssri"] < before["p_response_ssri"]).all()
    assert (after["p_response_snri"] > before["p_response_snri"]).all()
    pd.testing.assert_series_equal(after["p_response_cbt"], before["p_response_cbt"])


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    ranks = pd.Series(scores).rank().to_numpy()
    positives = labels.sum()
    negatives = len(labels) - positives
    return (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)


@pytest.mark.parametrize("arm", ARMS)
def test_even_the_true_probability_predicts_response_only_modestly(cohort, arm):
    """DOMAIN.md section 5: the oracle AUC is about 0.61-0.70 by arm; no model can beat it."""
    patients = cohort.patients
    population = _resistant(patients) if arm in TREATMENT_RESISTANT_ARMS else ~_resistant(patients)
    chosen = (population & (patients["arm"] == arm)).to_numpy()
    oracle = _auc(patients["response"].to_numpy()[chosen],
                  cohort.truth[f"p_response_{arm}"].to_numpy()[chosen])
    assert 0.58 <= oracle <= 0.73


def test_assignment_is_randomised_among_eligible_arms(patients):
    first_line = patients[~_resistant(patients)]
    resistant = patients[_resistant(patients)]
    assert set(first_line["arm"].unique()) == set(FIRST_LINE_ARMS)
    assert set(resistant["arm"].unique()) == set(ARMS)
    shares = resistant["arm"].value_counts(normalize=True)
    np.testing.assert_allclose(shares.to_numpy(), 1 / len(ARMS), atol=0.02)


@pytest.mark.parametrize("arm", ARMS)
def test_true_logit_terms_add_up_to_the_true_response_probability(cohort, arm):
    from synthetic_data import true_logit_terms

    terms = true_logit_terms(cohort.patients, cohort.truth, arm=arm)
    logit = np.log(cohort.truth[f"p_response_{arm}"] / (1 - cohort.truth[f"p_response_{arm}"]))
    intercept = logit - terms.sum(axis=1)
    assert intercept.std() < 1e-9  # everything but a constant is in the terms
    assert not {"hippocampal_volume_mm3", "bdnf_serum_ng_ml"} & set(terms.columns)
