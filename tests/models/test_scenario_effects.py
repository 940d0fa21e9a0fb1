"""Each lesson's effect as a model shows it: trained on the scenario, compared with the truth.

The data-level effects of every scenario are in tests/synthetic_data/test_scenarios.py. These
train real models on larger cohorts (marked slow, still run by `make test` and CI).
"""

import pandas as pd
import pytest

from models.algorithms import ALGORITHMS
from models.lessons import auc_gap_by_ancestry
from models.training import train_suite
from models.truth import CREDITED_TOP, DECOYS, NOISE_AUC, PROXY_FLAG
from synthetic_data import DATA_DICTIONARY, make_cohort, true_logit_terms

pytestmark = pytest.mark.slow


def test_prs_portability_widens_the_ancestry_gap_in_held_out_auc():
    lesson_gap = auc_gap_by_ancestry("prs_portability", 20_000, 3)
    default_gap = auc_gap_by_ancestry("default", 20_000, 3)
    assert lesson_gap > default_gap + 0.05, (lesson_gap, default_gap)
    assert lesson_gap > 0.08


def test_random_labels_every_model_scores_chance_on_held_out_patients():
    cohort = make_cohort(30_000, scenario="random_labels", random_state=11)
    suite = train_suite(cohort.patients, truth=cohort.truth, scenario="random_labels",
                        random_state=11, arms=("ssri",), variants=("full",), n_resamples=50,
                        n_refits=2)
    for algorithm in ALGORITHMS:
        model = suite.model(arm="ssri", algorithm=algorithm, variant="full")
        assert 0.45 <= model.metrics["roc_auc"] <= 0.55, (algorithm, model.metrics)
        assert model.metrics["n_test"] > 1_000
        assert model.truth_check["oracle_roc_auc"] == 0.5
        # SHAP still credits features, though every true effect is zero.
        assert all(row["true_importance"] == 0 for row in model.truth_check["features"])
        assert max(model.global_importance.values()) > 0


def test_decoy_biomarker_ranks_in_the_top_five_by_shap_with_no_true_effect():
    cohort = make_cohort(10_000, scenario="decoy_biomarker", random_state=5)
    suite = train_suite(cohort.patients, truth=cohort.truth, scenario="decoy_biomarker",
                        random_state=5, arms=("ssri",), variants=("full",), n_resamples=50,
                        n_refits=2)
    terms = true_logit_terms(cohort.patients, cohort.truth, arm="ssri", scenario="decoy_biomarker")
    assert not set(DECOYS) & set(terms.columns)  # no term: a true effect of zero
    for algorithm in ALGORITHMS:
        model = suite.model(arm="ssri", algorithm=algorithm, variant="full")
        importance = pd.Series(model.global_importance).sort_values(ascending=False)
        top = list(importance.index[:CREDITED_TOP])
        credited = [decoy for decoy in DECOYS if decoy in top]
        assert credited, (algorithm, top)
        rows = {row["feature"]: row for row in model.truth_check["features"]}
        for decoy in credited:
            assert rows[decoy]["true_importance"] == 0
            assert rows[decoy]["flag"] == PROXY_FLAG.format(
                latent=DATA_DICTIONARY["illness_burden_z"].label.lower())
            assert rows[decoy]["held_out_auc_low"] > NOISE_AUC
            assert decoy in model.truth_check["flagged"]


def test_decoy_biomarker_under_default_the_decoys_stay_out_of_the_top_five():
    cohort = make_cohort(10_000, random_state=5)
    suite = train_suite(cohort.patients, truth=cohort.truth, random_state=5, arms=("ssri",),
                        algorithms=("logistic_regression",), variants=("full",),
                        n_resamples=50, n_refits=2)
    model = suite.model(arm="ssri", algorithm="logistic_regression", variant="full")
    top = pd.Series(model.global_importance).sort_values(ascending=False).index[:CREDITED_TOP]
    assert not set(DECOYS) & set(top)

