"""Each teaching scenario shows its designed effect in the data, and only that effect.

Model-level proofs (AUC gaps, SHAP ranks) are in tests/models/test_scenario_effects.py.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic_data import ARMS, SCENARIOS, Scenario, make_cohort, true_logit_terms
from synthetic_data.scenarios import _register

LESSONS = ("prs_portability", "underrepresented", "decoy_biomarker", "consent_selection",
           "confounding_by_indication", "candidate_gene", "label_bias", "random_labels")
DECOYS = ("hippocampal_volume_mm3", "bdnf_serum_ng_ml")
N = 20_000
SEED = 2027


@pytest.fixture(scope="module")
def cohorts():
    """One cohort per scenario, all from the same seed and size."""
    return {name: make_cohort(N, scenario=name, random_state=SEED) for name in ("default", *LESSONS)}


def _true_p_of_assigned_arm(cohort) -> np.ndarray:
    columns = [cohort.truth.columns.get_loc(f"p_response_{arm}") for arm in cohort.patients["arm"]]
    return cohort.truth.to_numpy()[np.arange(len(cohort.truth)), columns].astype(float)


# Every scenario is a complete lesson

def test_the_eight_lessons_and_the_default_are_registered():
    assert set(SCENARIOS) == {"default", *LESSONS}


@pytest.mark.parametrize("name", ["default", *LESSONS])
def test_every_scenario_has_a_title_a_note_three_questions_and_an_expectation(name):
    scenario = SCENARIOS[name]
    assert scenario.name == name and scenario.title and scenario.teaching_note
    assert isinstance(scenario.questions, tuple) and len(scenario.questions) == 3
    assert all(q.strip().endswith("?") for q in scenario.questions)
    assert len(set(scenario.questions)) == 3
    assert scenario.expected.strip()


def test_a_scenario_without_three_questions_and_an_expectation_is_refused():
    with pytest.raises(ValueError, match="needs 3 questions and an expectation"):
        _register(Scenario("half_done", "t", "n", questions=("Why?", "How?"), expected="x"))
    with pytest.raises(ValueError, match="needs 3 questions and an expectation"):
        _register(Scenario("no_expectation", "t", "n", questions=("A?", "B?", "C?")))
    assert "half_done" not in SCENARIOS and "no_expectation" not in SCENARIOS


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 2**32 - 1),
       scenario=st.sampled_from(sorted(SCENARIOS)))
def test_every_scenario_generates_with_any_seed_with_consent_decisions_aligned(n, seed, scenario):
    cohort = make_cohort(n, scenario=scenario, random_state=seed)
    assert len(cohort.patients) == len(cohort.truth) == len(cohort.consent) == n
    assert list(cohort.consent.columns) == ["patient_id", "declines_genetic", "declines_training"]
    np.testing.assert_array_equal(cohort.consent["patient_id"], cohort.patients["patient_id"])
    assert cohort.consent["declines_genetic"].dtype == bool
    assert cohort.consent["declines_training"].dtype == bool
    resistant = cohort.patients["prior_failures"] >= 2
    assert not cohort.patients.loc[~resistant, "arm"].isin(["rtms", "esketamine"]).any()
    assert (cohort.patients["remission"] <= cohort.patients["response"]).all()


def test_consent_decisions_are_reproducible_from_the_seed():
    first, second = (make_cohort(500, random_state=4) for _ in range(2))
    pd.testing.assert_frame_equal(first.consent, second.consent)


# The default consent mix: 20% decline genetic use, 5% model training, independently of the patient

def test_by_default_declining_is_independent_of_maltreatment(cohorts):
    cohort = cohorts["default"]
    consent, maltreated = cohort.consent, cohort.patients["childhood_maltreatment"] == 1
    assert abs(consent["declines_genetic"].mean() - 0.20) < 0.015
    assert abs(consent["declines_training"].mean() - 0.05) < 0.01
    gap = (maltreated[consent["declines_genetic"]].mean()
           - maltreated[~consent["declines_genetic"]].mean())
    assert abs(gap) < 0.03


# One test per lesson

def test_prs_portability_the_score_tracks_liability_in_eur_only(cohorts):
    def correlations(cohort):
        frame = pd.DataFrame({"prs": cohort.patients["polygenic_score_z"],
                              "liability": cohort.truth["genetic_liability_z"],
                              "ancestry": cohort.patients["ancestry"]})
        return {a: g["prs"].corr(g["liability"]) for a, g in frame.groupby("ancestry",
                                                                          observed=True)}
    lesson, default = correlations(cohorts["prs_portability"]), correlations(cohorts["default"])
    assert lesson["EUR"] > 0.85 and lesson["AFR"] < 0.25
    assert lesson["EUR"] - lesson["AFR"] > 2 * (default["EUR"] - default["AFR"])
    terms = true_logit_terms(cohorts["prs_portability"].patients, cohorts["prs_portability"].truth,
                             arm="ssri", scenario="prs_portability")
    assert terms["genetic_liability_z"].std() > 0.9  # -1.0 logits per SD of liability


def test_underrepresented_african_ancestry_is_3_percent(cohorts):
    shares = cohorts["underrepresented"].patients["ancestry"].value_counts(normalize=True)
    assert abs(shares["AFR"] - 0.03) < 0.005
    assert abs(cohorts["default"].patients["ancestry"].eq("AFR").mean() - 0.15) < 0.01


def test_decoy_biomarker_decoys_follow_burden_closely_and_have_no_true_effect(cohorts):
    cohort = cohorts["decoy_biomarker"]
    burden = cohort.truth["illness_burden_z"]
    assert cohort.patients["hippocampal_volume_mm3"].corr(burden) < -0.8
    assert np.log(cohort.patients["bdnf_serum_ng_ml"]).corr(burden) < -0.8
    assert cohorts["default"].patients["hippocampal_volume_mm3"].corr(
        cohorts["default"].truth["illness_burden_z"]) > -0.4
    for arm in ARMS:
        terms = true_logit_terms(cohort.patients, cohort.truth, arm=arm, scenario="decoy_biomarker")
        assert not set(DECOYS) & set(terms.columns)
        assert terms["illness_burden_z"].std() > 0.5  # burden has its own path to response


def test_consent_selection_genetic_decliners_were_more_often_maltreated(cohorts):
    cohort = cohorts["consent_selection"]
    declines = cohort.consent["declines_genetic"].to_numpy()
    maltreated = cohort.patients["childhood_maltreatment"].to_numpy() == 1
    assert abs(declines.mean() - 0.20) < 0.015  # the overall rate is kept
    assert maltreated[declines].mean() - maltreated[~declines].mean() > 0.25
    # Only the consent decisions differ from the default cohort of the same seed.
    pd.testing.assert_frame_equal(cohort.patients, cohorts["default"].patients)
    pd.testing.assert_frame_equal(cohort.truth, cohorts["default"].truth)


def test_confounding_by_indication_cbt_patients_are_milder(cohorts):
    def hamd_gap(patients):
        cbt = patients["arm"] == "cbt"
        return patients.loc[cbt, "hamd17"].mean() - patients.loc[~cbt, "hamd17"].mean()
    assert hamd_gap(cohorts["confounding_by_indication"].patients) < -2.0
    assert abs(hamd_gap(cohorts["default"].patients)) < 0.5
    patients = cohorts["confounding_by_indication"].patients
    cbt = patients["arm"] == "cbt"
    assert patients.loc[cbt, "prior_failures"].mean() < patients.loc[~cbt, "prior_failures"].mean()
    # Every arm is still used; only who gets CBT changed.
    assert set(patients["arm"].unique()) == set(ARMS)


def test_confounding_by_indication_cbt_looks_better_than_it_truly_is(cohorts):
    """CBT's patients would respond to CBT more often than the cohort as a whole would."""
    def excess(name):
        cohort = cohorts[name]
        cbt = (cohort.patients["arm"] == "cbt").to_numpy()
        p_cbt = cohort.truth["p_response_cbt"].to_numpy()
        recorded = cohort.patients["response"].to_numpy()
        return p_cbt[cbt].mean() - p_cbt.mean(), recorded[cbt].mean() - p_cbt.mean()
    true_lesson, recorded_lesson = excess("confounding_by_indication")
    true_default, _ = excess("default")
    assert true_lesson > true_default + 0.02
    assert recorded_lesson > 0.02


def test_candidate_gene_5httlpr_has_a_true_effect_on_ssri_response_only(cohorts):
    def httlpr_term(name, arm):
        cohort = cohorts[name]
        terms = true_logit_terms(cohort.patients, cohort.truth, arm=arm, scenario=name)
        return terms["httlpr_genotype"] if "httlpr_genotype" in terms else pd.Series(0.0)
    lesson = httlpr_term("candidate_gene", "ssri")
    assert lesson.std() > 0.15
    genotype = cohorts["candidate_gene"].patients["httlpr_genotype"].astype(str)
    assert lesson[genotype == "l/l"].iloc[0] - lesson[genotype == "s/s"].iloc[0] == pytest.approx(0.6)
    assert (httlpr_term("default", "ssri") == 0).all()
    assert all((httlpr_term("candidate_gene", arm) == 0).all() for arm in ARMS if arm != "ssri")


def test_label_bias_recorded_response_differs_in_one_group_while_the_truth_does_not(cohorts):
    lesson, default = cohorts["label_bias"], cohorts["default"]
    # The truth is the default's, patient for patient: only the measurement changed.
    pd.testing.assert_frame_equal(lesson.truth, default.truth)
    afr = (lesson.patients["ancestry"] == "AFR").to_numpy()
    true_p = _true_p_of_assigned_arm(lesson)
    recorded = lesson.patients["response"].to_numpy()
    assert recorded[afr].mean() - true_p[afr].mean() > 0.10
    assert abs(recorded[~afr].mean() - true_p[~afr].mean()) < 0.02
    assert abs(true_p[afr].mean() - true_p[~afr].mean()) < 0.03
    pd.testing.assert_frame_equal(lesson.patients[~afr], default.patients[~afr])


def test_random_labels_the_truth_is_constant_and_outcomes_ignore_every_feature(cohorts):
    cohort = cohorts["random_labels"]
    for arm in ARMS:
        p = cohort.truth[f"p_response_{arm}"]
        assert p.max() - p.min() < 1e-12, arm
        terms = true_logit_terms(cohort.patients, cohort.truth, arm=arm, scenario="random_labels")
        assert (terms.to_numpy() == 0).all(), arm
    patients = cohort.patients
    first_line = patients[patients["prior_failures"] < 2]
    # Response rates keep the published figures per arm, but no feature moves them.
    ssri = first_line[first_line["arm"] == "ssri"]
    assert abs(ssri["response"].mean() - 0.47) < 0.03
    for feature in ("anxious_depression", "childhood_maltreatment", "psychiatric_comorbidity"):
        rates = ssri.groupby(feature)["response"].mean()
        assert abs(rates.iloc[1] - rates.iloc[0]) < 0.05, feature
