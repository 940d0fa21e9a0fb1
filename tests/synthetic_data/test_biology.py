"""Why each variable and arm could matter (``synthetic_data.biology``): complete, and what it says
the simulation encodes is what the generator does."""

import math

import pandas as pd
import pytest

from synthetic_data import (
    ARM_BIOLOGY,
    ARMS,
    BIOLOGY,
    DATA_DICTIONARY,
    SCENARIOS,
    TOPICS,
    biology_of,
    make_cohort,
    true_logit_terms,
)
from synthetic_data.generator import calibrate

TAUGHT = [v.name for v in DATA_DICTIONARY.values() if v.observed and v.data_class != "identifier"]
EFFECTS = [(entry, effect) for entry in BIOLOGY.values() for effect in entry.effects]

# Two values of a variable whose terms differ by exactly the effect's size:
# (column, value, reference).
CONTRASTS = {
    ("effect_female", ""): ("sex", "female", "male"),
    ("effect_maltreatment_drug_arms", ""): ("childhood_maltreatment", 1, 0),
    ("placebo_hamd_slope", ""): ("hamd17", 23, 22),
    ("effect_anxious", ""): ("anxious_depression", 1, 0),
    ("effect_chronic", ""): ("episode_duration_months", 30.0, 12.0),
    ("effect_one_prior_failure", ""): ("prior_failures", 1, 0),
    ("effect_two_plus_prior_failures", ""): ("prior_failures", 2, 0),
    ("effect_comorbidity", ""): ("psychiatric_comorbidity", 1, 0),
    ("ssri_ln_crp", ""): ("crp_mg_l", math.e, 1.0),
    ("noradrenergic_ln_crp", ""): ("crp_mg_l", math.e, 1.0),
    ("effect_racc_theta", ""): ("racc_theta_z", 1.0, 0.0),
    ("ssri_eeg_signature", ""): ("eeg_ssri_signature_z", 1.0, 0.0),
    ("rtms_eeg_signature", ""): ("eeg_ssri_signature_z", 1.0, 0.0),
    ("placebo_dst_nonsuppression", ""): ("dst_nonsuppression", 1, 0),
    ("ssri_cyp2c19", "UM"): ("cyp2c19_phenotype", "UM", "NM"),
    ("ssri_cyp2c19", "RM"): ("cyp2c19_phenotype", "RM", "NM"),
    ("ssri_httlpr_per_l_allele", ""): ("httlpr_genotype", "l/l", "l/s"),
    ("effect_illness_burden", ""): ("illness_burden_z", 1.0, 0.0),
    ("effect_genetic_liability", ""): ("genetic_liability_z", 1.0, 0.0),
}


@pytest.fixture(scope="module")
def cohort():
    return make_cohort(600, random_state=17)


@pytest.mark.parametrize("name", TAUGHT + list(ARMS))
def test_every_observed_variable_and_every_arm_has_biology_topic_caveat_and_citation(name):
    entry = biology_of(name)
    assert entry is not None, f"{name} has no entry in synthetic_data.biology"
    assert entry.topic in TOPICS
    for field in ("biology", "caveat", "citation"):
        assert getattr(entry, field).strip(), f"{name} lacks its {field}"
    assert entry.encoded().strip()


def test_the_arm_variable_and_the_arms_are_told_apart():
    assert set(ARM_BIOLOGY) == set(ARMS)
    assert biology_of("arm") is BIOLOGY["arm"] and biology_of("ssri") is ARM_BIOLOGY["ssri"]
    assert biology_of("patient_id") is None


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_effects_named_are_the_generators_terms_on_the_same_arms(cohort, scenario):
    parameters = SCENARIOS[scenario].parameters
    for arm in ARMS:
        terms = true_logit_terms(cohort.patients, cohort.truth, arm=arm, scenario=scenario)
        acting = {name for name in terms if terms[name].abs().max() > 0}
        named = {entry.name for entry, effect in EFFECTS
                 if arm in effect.arms and effect.size(parameters)}
        assert acting == named, arm


@pytest.mark.parametrize("entry, effect", EFFECTS,
                         ids=[f"{e.name}-{x.parameter}-{x.key}" for e, x in EFFECTS])
def test_each_stated_size_is_the_generators_term_and_the_page_says_it(cohort, entry, effect):
    # The first scenario in which the effect is not zero (the 5-HTTLPR effect is null by default).
    scenario = next(s for s in SCENARIOS if effect.size(SCENARIOS[s].parameters))
    parameters = SCENARIOS[scenario].parameters
    column, value, reference = CONTRASTS[(effect.parameter, effect.key)]
    patients = cohort.patients.iloc[[0, 0]].reset_index(drop=True)
    truth = cohort.truth.iloc[[0, 0]].reset_index(drop=True)
    frame = truth if column in truth.columns and column not in patients.columns else patients
    frame[column] = pd.Series([value, reference], dtype=frame[column].dtype)
    for arm in effect.arms:
        terms = true_logit_terms(patients, truth, arm=arm, scenario=scenario)
        expected = effect.size(parameters)
        if arm == "placebo" and effect.parameter == "effect_two_plus_prior_failures":
            # Placebo's own extra effect, solved by the calibration (the note says so).
            expected += calibrate(parameters).placebo_resistant_offset
        assert terms[entry.name].iloc[0] - terms[entry.name].iloc[1] == pytest.approx(expected)
    assert f"{effect.size(parameters):+.2f} logits" in entry.encoded(parameters)


def test_a_size_changed_by_a_scenario_changes_the_text():
    httlpr = BIOLOGY["httlpr_genotype"]
    assert "no effect per long (l) allele" in httlpr.encoded()
    size = SCENARIOS["candidate_gene"].parameters.ssri_httlpr_per_l_allele
    assert f"{size:+.2f} logits per long (l) allele" in httlpr.encoded(
        SCENARIOS["candidate_gene"].parameters)
    assert "5-HTTLPR" in ARM_BIOLOGY["ssri"].encoded(SCENARIOS["candidate_gene"].parameters)
    assert "5-HTTLPR" not in ARM_BIOLOGY["ssri"].encoded()


@pytest.mark.parametrize("entry", [e for e in BIOLOGY.values() if e.effects], ids=lambda e: e.name)
def test_no_effect_claims_stronger_evidence_than_the_dictionary(entry):
    variable = DATA_DICTIONARY[entry.name]
    for effect in entry.effects:
        assert effect.evidence in (None, "assumed"), "only the dictionary's label, or weaker"
        shown = effect.evidence or variable.evidence
        if "size assumed" in variable.finding or "sizes assumed" in variable.finding:
            assert shown == "assumed", effect.parameter
        if effect.size():  # a null effect states no size
            assert f"(size {shown})" in entry.encoded()
