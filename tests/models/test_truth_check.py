"""The truth check on small cohorts: every true driver is accounted for with its true share (sex,
which is not a model input, included), and a feature without a true effect is flagged only for
credit beyond noise: pure noise among the top five is not, a decoy standing in for illness burden
at the app's default cohort size is, each flag with its interval."""

import numpy as np
import pytest

from models.algorithms import ALGORITHMS
from models.features import VARIANTS
from models.training import GLOBAL_SHAP_ROWS, split_arm, train_suite
from models.truth import CREDITED_TOP, NOISE_AUC
from synthetic_data import make_cohort, true_logit_terms

DECOYS = ("hippocampal_volume_mm3", "bdnf_serum_ng_ml")
DEFAULT_ARMS = ("ssri", "cbt", "placebo")
NOISE_ARMS = ("ssri", "snri", "cbt", "placebo")
DECOY_ARMS = ("ssri", "placebo")
APP_DEFAULT_PATIENTS = 5000  # the size the app's cohort form proposes
# The flag rule's intervals are at a Bonferroni level over the top five (5% for the five
# together), so noise may reach a flag in at most this share of its candidates.
NOISE_FLAG_RATE = 0.05


def _suite(n, scenario, seed, **options):
    cohort = make_cohort(n, scenario=scenario, random_state=seed)
    return cohort, train_suite(cohort.patients, truth=cohort.truth, scenario=scenario,
                               random_state=seed, n_resamples=20, n_refits=2, **options)


@pytest.fixture(scope="module")
def default_run():
    return _suite(1500, "default", 21, arms=DEFAULT_ARMS, algorithms=("logistic_regression",))


@pytest.fixture(scope="module")
def noise_run():
    return _suite(1500, "random_labels", 1, arms=NOISE_ARMS, variants=("full",))


@pytest.fixture(scope="module")
def decoy_run():
    return _suite(APP_DEFAULT_PATIENTS, "decoy_biomarker", 5, arms=DECOY_ARMS, variants=("full",))


def _true_shares(cohort, suite, arm) -> dict[str, float]:
    """Each variable's share of the true effects on the patients the truth check explains,
    computed here from the generator's terms."""
    received = cohort.patients[cohort.patients["arm"] == arm]
    explained = split_arm(received, seed=suite.random_state)[1].iloc[:GLOBAL_SHAP_ROWS]
    terms = true_logit_terms(explained, cohort.truth.loc[explained.index], arm=arm)
    importance = (terms - terms.mean()).abs().mean()
    return (importance / importance.sum()).to_dict()


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("arm", DEFAULT_ARMS)
def test_every_true_driver_appears_with_its_true_share_sex_included(default_run, arm, variant):
    cohort, suite = default_run
    check = suite.model(arm=arm, algorithm="logistic_regression", variant=variant).truth_check
    not_used = check.get("not_used", [])
    shown = {row["feature"]: row["true_share"]
             for row in check["features"] + check["unobserved"] + not_used}
    expected = _true_shares(cohort, suite, arm)
    assert expected["sex"] > 0 and "sex" in {item["feature"] for item in not_used}
    assert {f for f, share in expected.items() if share > 0} <= set(shown)
    for feature, share in expected.items():
        assert shown[feature] == pytest.approx(share), feature
    assert sum(shown.values()) == pytest.approx(1.0)


def _candidates(check: dict) -> list[dict]:
    return [row for row in check["features"][:CREDITED_TOP] if row["true_importance"] == 0]


def test_noise_among_the_top_five_is_not_flagged(noise_run):
    _, suite = noise_run
    assert len(suite.models) == len(NOISE_ARMS) * len(ALGORITHMS)
    # Every true effect is zero here: whatever a model credits most is noise.
    candidates = [row for model in suite.models.values() for row in _candidates(model.truth_check)]
    assert len(candidates) == CREDITED_TOP * len(suite.models)
    flagged = [row["feature"] for row in candidates if row["flag"]]
    assert len(flagged) <= NOISE_FLAG_RATE * len(candidates), flagged
    for row in candidates:
        assert row["held_out_auc_low"] <= row["held_out_auc"] <= row["held_out_auc_high"]
        assert bool(row["flag"]) == (row["held_out_auc_low"] > NOISE_AUC)
    for model in suite.models.values():
        check = model.truth_check
        assert check["flagged"] == [row["feature"] for row in check["features"] if row["flag"]]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("arm", DECOY_ARMS)
def test_a_decoy_standing_in_for_illness_burden_is_flagged_with_its_interval(decoy_run, arm,
                                                                             algorithm):
    _, suite = decoy_run
    check = suite.model(arm=arm, algorithm=algorithm, variant="full").truth_check
    credited = [row for row in _candidates(check) if row["feature"] in DECOYS]
    assert credited, [row["feature"] for row in check["features"][:CREDITED_TOP]]
    for row in credited:
        assert NOISE_AUC < row["held_out_auc_low"] <= row["held_out_auc"] <= row["held_out_auc_high"]
        assert "illness burden" in row["flag"] and row["feature"] in check["flagged"]
    burden = {item["feature"]: item["true_share"] for item in check["unobserved"]}
    assert burden["illness_burden_z"] > 0
    assert not np.isnan([row["model_share"] for row in check["features"]]).any()
