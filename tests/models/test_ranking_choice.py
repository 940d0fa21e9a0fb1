"""The one rule that picks the algorithm a run ranks with (``choose_algorithm``) and the model a
model page opens on (``best_model``): highest cross-validated ROC AUC, ties to the earlier
algorithm and variant; ``ModelSuite.rank`` follows it, intervals only where refits exist."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from models.algorithms import ALGORITHMS
from models.features import VARIANTS
from models.ranking import RANKING_ALGORITHM, best_model, choose_algorithm
from models.training import train_suite
from synthetic_data import make_cohort


def _model(algorithm, score, variant="full", arm="ssri"):
    metrics = {} if score is None else {"cv_roc_auc_mean": score}
    return SimpleNamespace(arm=arm, algorithm=algorithm, variant=variant, metrics=metrics)


@pytest.mark.parametrize("scores, chosen", [
    # the highest mean wins, though another algorithm has the single best model
    ({"logistic_regression": [0.60, 0.60], "random_forest": [0.90, 0.20],
      "gradient_boosting": [0.58, 0.58]}, "logistic_regression"),
    ({"logistic_regression": [0.60, 0.60], "random_forest": [0.70, 0.62],
      "gradient_boosting": [0.58, 0.58]}, "random_forest"),
    ({"logistic_regression": [0.60], "random_forest": [0.60], "gradient_boosting": [0.61]},
     "gradient_boosting"),
    # a tie goes to the earlier algorithm
    ({"random_forest": [0.65], "gradient_boosting": [0.65]}, "random_forest"),
    ({"gradient_boosting": [0.5]}, "gradient_boosting"),
    # models without the metric do not count
    ({"logistic_regression": [None], "random_forest": [0.55, None]}, "random_forest"),
])
def test_the_highest_mean_cross_validated_auc_ranks(scores, chosen):
    models = [_model(a, s, arm=str(i))
              for a, values in scores.items() for i, s in enumerate(values)]
    choice = choose_algorithm(models)
    assert choice.algorithm == chosen
    counted = {a: [s for s in v if s is not None] for a, v in scores.items()}
    assert choice.scores == {a: pytest.approx(np.mean(v)) for a, v in counted.items() if v}
    assert list(choice.scores) == [a for a in ALGORITHMS if a in choice.scores]


def test_the_reason_names_every_score_and_the_chosen_algorithm():
    choice = choose_algorithm([_model("logistic_regression", 0.61),
                               _model("random_forest", 0.64), _model("gradient_boosting", 0.6)])
    assert choice.reason.startswith("Random forest ranks the arms: chosen for this training run "
                                    "because its mean cross-validated ROC AUC")
    assert ("logistic regression 0.610, random forest 0.640, gradient boosting 0.600"
            in choice.reason)


@pytest.mark.parametrize("models", [[], [_model("random_forest", None)]])
def test_without_a_score_the_default_ranks_and_says_so(models):
    choice = choose_algorithm(models)
    assert (choice.algorithm, choice.scores) == (RANKING_ALGORITHM, {})
    assert "by default" in choice.reason


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_best_model_is_the_highest_score_and_ties_go_to_the_earlier_model(algorithm, variant):
    models = [_model(a, 0.6, v) for a in ALGORITHMS for v in VARIANTS]
    winner = next(m for m in models if (m.algorithm, m.variant) == (algorithm, variant))
    winner.metrics["cv_roc_auc_mean"] = 0.7
    assert best_model(models) is winner
    tied = [_model(a, 0.6, v) for a in reversed(ALGORITHMS) for v in reversed(VARIANTS)]
    assert (best_model(tied).algorithm, best_model(tied).variant) == (ALGORITHMS[0], VARIANTS[0])


@pytest.fixture(scope="module")
def suite():
    cohort = make_cohort(300, random_state=3)
    return cohort.patients, train_suite(cohort.patients, random_state=3, variants=("full",),
                                        n_resamples=10, n_refits=5)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_suite_ranks_with_its_chosen_algorithm(suite, algorithm):
    patients, trained = suite
    models = {key: dataclasses.replace(m, metrics={**m.metrics, "cv_roc_auc_mean":
                                                   0.7 if m.algorithm == algorithm else 0.6})
              for key, m in trained.models.items()}
    forced = dataclasses.replace(trained, models=models)
    rows = patients.iloc[:5]
    for i, ranking in enumerate(forced.rank(rows)):
        for arm, probability, low in zip(ranking["arm"], ranking["probability"], ranking["low"]):
            model = forced.model(arm=arm, algorithm=algorithm, variant="full")
            assert probability == pytest.approx(model.predict(rows.iloc[[i]])[0])
            # only the algorithm refitted by bootstrap has intervals
            assert np.isnan(low) == (algorithm != RANKING_ALGORITHM)
