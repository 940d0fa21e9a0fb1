"""Issue 16's yardstick on the ``trial_to_clinic`` lesson: models developed in the trial lose
discrimination at the clinic and their calibration slope falls below 1; recalibration on 200
local patients brings calibration-in-the-large back without changing the AUC.

20,000 patients per site, as the lesson's expectation says (smaller trials make the internal
figures themselves too noisy to compare: a held-out arm of 150 patients has an AUC interval of
about +-0.09); logistic regression on all data, the ranking algorithm.
"""

import numpy as np
import pytest

from models.external import external_validation, recalibrate
from models.training import train_suite
from synthetic_data import FIRST_LINE_ARMS, SITE_SCENARIOS, make_multisite_cohort

ALGORITHM, VARIANT = "logistic_regression", "full"
PER_SITE = 20_000
LESSON = SITE_SCENARIOS["trial_to_clinic"]
TRIAL, CLINIC = LESSON.sites


@pytest.fixture(scope="module")
def sites():
    cohort = make_multisite_cohort({TRIAL: PER_SITE, CLINIC: PER_SITE}, scenario=LESSON.scenario,
                                   random_state=0)
    at_trial = cohort.patients["site"] == TRIAL.name
    return cohort.patients, cohort.truth, at_trial


@pytest.fixture(scope="module")
def suite(sites):
    patients, truth, at_trial = sites
    return train_suite(patients[at_trial], truth=truth[at_trial], scenario=LESSON.scenario,
                       random_state=0, algorithms=(ALGORITHM,), variants=(VARIANT,),
                       n_resamples=100, n_refits=2)


@pytest.fixture(scope="module")
def at_clinic(sites, suite):
    patients, truth, at_trial = sites
    validation = external_validation(suite, patients[~at_trial], truth=truth[~at_trial],
                                     n_resamples=100, random_state=0)
    return {arm: validation.results[(arm, ALGORITHM, VARIANT)] for arm in FIRST_LINE_ARMS}


def test_trial_models_lose_at_least_005_auc_on_average_at_the_clinic(at_clinic):
    drops = [r["internal"]["roc_auc"] - r["external"]["roc_auc"] for r in at_clinic.values()]
    assert np.mean(drops) >= 0.05


@pytest.mark.parametrize("arm", FIRST_LINE_ARMS)
def test_at_the_clinic_each_first_line_models_calibration_slope_lies_below_1(at_clinic, arm):
    """Interval and all: the clinic's predictions are too extreme for its noisier outcomes."""
    external = at_clinic[arm]["external"]
    assert external["calibration_slope_high"] < 1
    assert external["calibration_slope"] < at_clinic[arm]["internal"]["calibration_slope"]


@pytest.mark.parametrize("arm", FIRST_LINE_ARMS)
def test_recalibration_on_200_clinic_patients_repairs_calibration_in_the_large_not_auc(
        sites, suite, arm):
    """On average over 20 local samples of 200 (one sample's intercept error is about 0.15
    logits, the mean's under 0.04); each sample leaves the ranking, and so the AUC, as it was.
    Before, placebo, SSRI and bupropion predictions are 0.15-0.33 logits too low at the clinic;
    SNRI and CBT happen to be about right on average (their spread is not)."""
    patients, _, at_trial = sites
    model = suite.model(arm=arm, algorithm=ALGORITHM, variant=VARIANT)
    results = [recalibrate(model, patients[~at_trial], n_local=200, n_resamples=5,
                           random_state=seed) for seed in range(20)]
    assert abs(np.mean([r["after"]["calibration_in_the_large"] for r in results])) < 0.05
    for result in results:
        if result["slope"] > 0:
            assert result["after"]["roc_auc"] == result["before"]["roc_auc"]
