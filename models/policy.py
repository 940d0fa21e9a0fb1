"""Policy value: the expected response rate if every held-out patient received the arm a policy
chooses, scored with the simulation's true response probabilities (never with the outcomes
observed under the one arm each patient received).

Four policies side by side, each over the same patients and only the arms each may receive:

- ``oracle``: each patient's truly best arm, the ceiling no model can pass;
- ``model``: the arm the ranking puts first;
- ``best_single``: one treatment for everyone: the first-line arm with the highest mean true
  probability for the first-line patients, and likewise one arm for the treatment-resistant
  patients, both chosen on these patients;
- ``random``: an eligible arm drawn at random.

Each has a percentile interval over bootstrap resamples of the patients (the best single arms
chosen again in each resample).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ranking import eligible_arms

POLICIES = ("oracle", "model", "best_single", "random")
INTERVAL_LEVEL = 0.95
GROUPS = {"first_line": False, "treatment_resistant": True}  # group -> resistant


def _group_masks(arms: list[str]) -> dict[str, np.ndarray]:
    return {group: np.array([a in eligible_arms(tr) for a in arms]) for group, tr in GROUPS.items()}


def _eligible(arms: list[str], resistant: np.ndarray) -> np.ndarray:
    """Per patient and arm, whether the patient may receive the arm."""
    masks = _group_masks(arms)
    return np.where(resistant[:, None], masks["treatment_resistant"], masks["first_line"])


def oracle_arms(true_probability: pd.DataFrame, resistant) -> list[str]:
    """Per patient, the truly best arm the oracle policy chooses: the eligible column of
    ``true_probability`` with the highest true probability (the first such column on a tie)."""
    arms = list(true_probability.columns)
    eligible = _eligible(arms, np.asarray(resistant, dtype=bool))
    best = np.where(eligible, true_probability.to_numpy(dtype=float), -np.inf).argmax(axis=1)
    return [arms[i] for i in best]


def policy_values(true_probability: pd.DataFrame, resistant, model_choice, *, n_resamples: int,
                  random_state: int | None = None) -> dict:
    """The four policies' expected response rates with intervals.

    Parameters
    ----------
    true_probability : pandas.DataFrame
        One row per patient, one column per arm that can be chosen: the true probability of
        response under that arm.
    resistant : array of bool
        Per patient, two or more prior failures (the treatment-resistant arms are eligible).
    model_choice : array of str
        Per patient, the arm the ranking puts first (an eligible column of ``true_probability``).
    n_resamples : int
        Bootstrap resamples of the patients for the intervals.
    random_state : int, optional
        Seed of the resamples.

    Returns
    -------
    dict
        Each policy's value (``POLICIES``), ``intervals`` (policy -> [low, high], at
        ``interval_level``), ``n_resamples``, ``n_patients``, the patients and chosen arm of each
        group of the best single treatment (``groups``: group -> {"n_patients", "arm"}; arm None
        for an empty group) and ``top_choice_shares`` (how often the model chose each arm).
    """
    arms = list(true_probability.columns)
    p = true_probability.to_numpy(dtype=float)
    resistant = np.asarray(resistant, dtype=bool)
    n = len(p)
    masks = _group_masks(arms)
    eligible = _eligible(arms, resistant)
    chosen = np.array([arms.index(a) for a in model_choice], dtype=int)
    per_patient = {
        "oracle": np.where(eligible, p, -np.inf).max(axis=1),
        "model": p[np.arange(n), chosen],
        "random": np.where(eligible, p, 0.0).sum(axis=1) / eligible.sum(axis=1),
    }
    rng = np.random.default_rng(random_state)
    # Resample counts per patient: each policy's resampled mean is then one product.
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n)
                       for _ in range(n_resamples)]).astype(float)
    values = {name: float(v.mean()) for name, v in per_patient.items()}
    resampled = {name: counts @ v / n for name, v in per_patient.items()}
    groups, best_total, best_resampled = {}, 0.0, np.zeros(n_resamples)
    for group, tr in GROUPS.items():
        members = resistant == tr
        columns = np.flatnonzero(masks[group])
        arm = None
        if members.any():
            sums = p[np.ix_(members, columns)].sum(axis=0)
            arm = arms[columns[sums.argmax()]]
            best_total += sums.max()
            best_resampled += (counts[:, members] @ p[np.ix_(members, columns)]).max(axis=1)
        groups[group] = {"n_patients": int(members.sum()), "arm": arm}
    values["best_single"] = float(best_total / n)
    resampled["best_single"] = best_resampled / n
    tail = (1 - INTERVAL_LEVEL) / 2 * 100
    return {
        **{name: values[name] for name in POLICIES},
        "intervals": {name: np.percentile(resampled[name], [tail, 100 - tail]).tolist()
                      for name in POLICIES},
        "interval_level": INTERVAL_LEVEL,
        "n_resamples": int(n_resamples),
        "n_patients": int(n),
        "groups": groups,
        "top_choice_shares": {arm: float((chosen == i).mean()) for i, arm in enumerate(arms)},
    }
