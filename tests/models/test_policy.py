"""The policy value (``models.policy``) on probability tables built here: each policy equals a
recomputation written out below, the policies keep their order whatever the model chooses, and
the intervals hold their value and come back the same from the same seed."""

import numpy as np
import pandas as pd
import pytest

from models.policy import POLICIES, policy_values
from models.ranking import ACTIVE_ARMS, eligible_arms

FIRST_LINE = list(eligible_arms(False))
RESISTANT = list(eligible_arms(True))


def _table(seed: int, n: int, resistant_share: float):
    rng = np.random.default_rng(seed)
    # A shared propensity per patient, as the integrator's generator adds: arms move together.
    shared = rng.normal(size=(n, 1))
    p = pd.DataFrame(1 / (1 + np.exp(-(shared + rng.normal(0, 0.5, (n, len(ACTIVE_ARMS)))))),
                     columns=list(ACTIVE_ARMS))
    resistant = rng.random(n) < resistant_share
    return p, resistant, rng


def _model_choice(p, resistant, rng, kind):
    eligible = [RESISTANT if r else FIRST_LINE for r in resistant]
    if kind == "best":
        return [p.loc[i, arms].idxmax() for i, arms in enumerate(eligible)]
    if kind == "worst":
        return [p.loc[i, arms].idxmin() for i, arms in enumerate(eligible)]
    return [rng.choice(arms) for arms in eligible]


CASES = [(seed, n, share, kind) for seed, n, share in [(1, 40, 0.2), (2, 300, 0.1), (3, 25, 0.0),
                                                        (4, 120, 0.5)]
         for kind in ("best", "worst", "random")]


@pytest.mark.parametrize("seed, n, resistant_share, kind", CASES)
def test_each_policy_equals_its_recomputation_from_the_true_probabilities(
        seed, n, resistant_share, kind):
    p, resistant, rng = _table(seed, n, resistant_share)
    choice = _model_choice(p, resistant, rng, kind)
    result = policy_values(p, resistant, choice, n_resamples=50, random_state=seed)
    eligible = [RESISTANT if r else FIRST_LINE for r in resistant]
    assert result["oracle"] == pytest.approx(np.mean([p.loc[i, a].max()
                                                      for i, a in enumerate(eligible)]))
    assert result["random"] == pytest.approx(np.mean([p.loc[i, a].mean()
                                                      for i, a in enumerate(eligible)]))
    assert result["model"] == pytest.approx(np.mean([p.loc[i, c] for i, c in enumerate(choice)]))
    total, arms = 0.0, {}
    for group, mask, names in (("first_line", ~resistant, FIRST_LINE),
                               ("treatment_resistant", resistant, RESISTANT)):
        arms[group] = p.loc[mask, names].mean().idxmax() if mask.any() else None
        total += p.loc[mask, arms[group]].sum() if mask.any() else 0.0
    assert result["best_single"] == pytest.approx(total / n)
    assert {g: v["arm"] for g, v in result["groups"].items()} == arms
    assert {g: v["n_patients"] for g, v in result["groups"].items()} == {
        "first_line": int((~resistant).sum()), "treatment_resistant": int(resistant.sum())}
    assert result["n_patients"] == n


@pytest.mark.parametrize("seed, n, resistant_share, kind", CASES)
def test_no_policy_beats_the_oracle_and_the_best_single_treatment_beats_random(
        seed, n, resistant_share, kind):
    p, resistant, rng = _table(seed, n, resistant_share)
    result = policy_values(p, resistant, _model_choice(p, resistant, rng, kind), n_resamples=50,
                           random_state=seed)
    assert result["oracle"] >= result["model"]
    assert result["oracle"] >= result["best_single"] >= result["random"]
    lows = {name: result["intervals"][name][0] for name in POLICIES}
    highs = {name: result["intervals"][name][1] for name in POLICIES}
    assert all(lows[name] <= result[name] <= highs[name] for name in POLICIES)


@pytest.mark.parametrize("seed, n, resistant_share, kind", CASES[:3])
def test_the_same_seed_gives_the_same_intervals(seed, n, resistant_share, kind):
    p, resistant, rng = _table(seed, n, resistant_share)
    choice = _model_choice(p, resistant, rng, kind)
    first, second = (policy_values(p, resistant, choice, n_resamples=30, random_state=7)
                     for _ in range(2))
    assert first == second
