import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic_data import (
    ARMS,
    DATA_DICTIONARY,
    PATIENT_COLUMNS,
    SCENARIOS,
    TRUTH_COLUMNS,
    make_cohort,
)


def test_same_seed_gives_identical_frames_and_byte_identical_csv():
    first, second = make_cohort(500, random_state=11), make_cohort(500, random_state=11)
    pd.testing.assert_frame_equal(first.patients, second.patients)
    pd.testing.assert_frame_equal(first.truth, second.truth)
    assert first.to_csv().encode() == second.to_csv().encode()


def test_different_seeds_give_different_cohorts():
    assert make_cohort(200, random_state=1).to_csv() != make_cohort(200, random_state=2).to_csv()


def test_patients_hold_observed_columns_and_truth_holds_the_rest():
    cohort = make_cohort(100, random_state=5)
    assert list(cohort.patients.columns) == list(PATIENT_COLUMNS)
    assert list(cohort.truth.columns) == list(TRUTH_COLUMNS)
    assert (cohort.patients["patient_id"] == cohort.truth["patient_id"]).all()
    for arm in ARMS:
        assert f"p_response_{arm}" in cohort.truth and f"response_{arm}" in cohort.truth
    hidden = {"inflammation_z", "illness_burden_z", "genetic_liability_z"}
    assert hidden.isdisjoint(cohort.patients.columns)


def test_observed_response_is_the_potential_outcome_of_the_assigned_arm():
    cohort = make_cohort(2000, random_state=8)
    potential = np.array([cohort.truth[f"response_{arm}"].iloc[i]
                          for i, arm in enumerate(cohort.patients["arm"])])
    np.testing.assert_array_equal(cohort.patients["response"].to_numpy(), potential)


def test_first_line_patients_never_get_treatment_resistant_arms():
    patients = make_cohort(3000, random_state=9).patients
    first_line = patients[patients["prior_failures"] < 2]
    assert not first_line["arm"].isin(["rtms", "esketamine"]).any()


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-5, ValueError), (10**8, ValueError),
                                         (2.5, TypeError), ("100", TypeError), (True, TypeError)])
def test_it_rejects_a_bad_cohort_size(bad, error):
    with pytest.raises(error, match="n_patients"):
        make_cohort(bad)


def test_it_rejects_an_unknown_scenario_and_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown scenario 'nope'.*default"):
        make_cohort(10, scenario="nope")


def test_every_scenario_has_a_title_and_teaching_note_and_generates():
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name and scenario.title and scenario.teaching_note
        assert len(make_cohort(50, scenario=name, random_state=1).patients) == 50


def test_a_scenario_is_a_declarative_override_of_the_defaults():
    from synthetic_data import Scenario

    lesson = Scenario("tiny_eas", "t", "n", overrides={"ancestry_shares": {
        "EUR": 0.0, "AFR": 0.0, "EAS": 1.0, "AMR": 0.0}})
    assert lesson.parameters.ancestry_shares["EAS"] == 1.0
    with pytest.raises(ValueError, match="unknown cohort parameter"):
        Scenario("broken", "t", "n", overrides={"no_such_knob": 1}).parameters


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 400), seed=st.integers(0, 2**32 - 1),
       scenario=st.sampled_from(sorted(SCENARIOS)))
def test_every_generated_value_is_allowed_by_the_data_dictionary(n, seed, scenario):
    cohort = make_cohort(n, scenario=scenario, random_state=seed)
    for frame in (cohort.patients, cohort.truth):
        for column in frame.columns:
            variable = DATA_DICTIONARY[column]
            values = frame[column]
            assert values.notna().all(), column
            if variable.categories:
                assert values.isin(variable.categories).all(), column
            elif variable.minimum is not None:
                assert values.between(variable.minimum, variable.maximum).all(), column
            if variable.decimals is not None:
                np.testing.assert_array_equal(values, values.round(variable.decimals))
    assert cohort.patients["patient_id"].is_unique
