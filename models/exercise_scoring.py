"""Scoring a class's treatment choices against the simulation's truth (plain Python, no Django).

A case exercise asks students to choose a treatment for a few simulated patients. Every number
here comes from the simulation's true response probabilities (``p_response`` per arm), never
from one arm's observed outcome: the expected response rate of a set of choices is the mean true
probability of response under the arms chosen.

All four policies (the class, the model's top arm, a random eligible arm, the oracle) are scored
on the same cases, each case weighing the same: the cases at least one student answered. The
class's interval is a bootstrap over students (a student's answers stay together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

CONFIDENCE_BINS = (0, 20, 40, 60, 80, 101)  # 0-19, 20-39, 40-59, 60-79, 80-100
N_BOOTSTRAP = 1000
INTERVAL = 0.90
NO_ELIGIBLE_ARM = "case {key} has no eligible arm with a true probability"


@dataclass(frozen=True)
class ScoredCase:
    """One case: the arms a patient may receive, their true response probabilities and the
    model's top arm."""

    key: str
    eligible: tuple[str, ...]
    p_response: dict[str, float]
    model_top: str | None

    def __post_init__(self):
        if not any(arm in self.p_response for arm in self.eligible):
            raise ValueError(NO_ELIGIBLE_ARM.format(key=self.key))

    @property
    def best_arm(self) -> str:
        """The truly best eligible arm (the first in ``eligible`` order on a tie)."""
        return max((a for a in self.eligible if a in self.p_response), key=self.p_response.get)

    @property
    def oracle(self) -> float:
        return self.p_response[self.best_arm]

    @property
    def random(self) -> float:
        """The expected response of an arm drawn uniformly among the eligible ones."""
        return float(np.mean([self.p_response[a] for a in self.eligible if a in self.p_response]))

    @property
    def model(self) -> float | None:
        return self.p_response.get(self.model_top) if self.model_top else None

    @property
    def model_wrong(self) -> bool | None:
        """Whether the model's top arm is not the truly best arm (None without a model)."""
        return None if self.model_top is None else self.model_top != self.best_arm


@dataclass(frozen=True)
class Choice:
    student: str
    case: str
    arm: str
    confidence: int
    shows_model: bool


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def class_rate(cases: dict[str, ScoredCase], choices: Sequence[Choice]) -> float | None:
    """Per case the mean true response of the arms students chose, averaged over cases."""
    by_case: dict[str, list[float]] = {}
    for choice in choices:
        by_case.setdefault(choice.case, []).append(cases[choice.case].p_response[choice.arm])
    return _mean(np.mean(values) for values in by_case.values())


def class_interval(cases: dict[str, ScoredCase], choices: Sequence[Choice], *,
                   n_bootstrap: int = N_BOOTSTRAP, random_state=None) -> tuple[float, float] | None:
    """The ``INTERVAL`` bootstrap interval of ``class_rate`` over students (each resample draws
    students with replacement and keeps each one's answers); None with fewer than two students."""
    students = sorted({c.student for c in choices})
    if len(students) < 2:
        return None
    rng = check_random_state(random_state)
    own = {s: [c for c in choices if c.student == s] for s in students}
    rates = []
    for _ in range(n_bootstrap):
        drawn = rng.randint(len(students), size=len(students))
        rates.append(class_rate(cases, [c for i in drawn for c in own[students[i]]]))
    tail = (1 - INTERVAL) / 2 * 100
    low, high = np.percentile(rates, [tail, 100 - tail])
    return float(low), float(high)


def follow_rates(cases: dict[str, ScoredCase], choices: Sequence[Choice]) -> list[dict]:
    """Per group (with the model shown, without) and per model outcome (wrong: its top arm is not
    the truly best one; right), how many answers chose the model's top arm. Without the model
    shown it is the baseline: the same choice made without seeing it."""
    rows = []
    for shows_model in (True, False):
        for wrong in (True, False):
            chosen = [c for c in choices if c.shows_model is shows_model
                      and cases[c.case].model_wrong is wrong]
            followed = sum(c.arm == cases[c.case].model_top for c in chosen)
            rows.append({"shows_model": shows_model, "model_wrong": wrong, "answers": len(chosen),
                         "followed": followed,
                         "share": followed / len(chosen) if chosen else None})
    return rows


def calibration(cases: dict[str, ScoredCase], choices: Sequence[Choice],
                bins: Sequence[int] = CONFIDENCE_BINS) -> list[dict]:
    """Per confidence band: answers, mean confidence and the share that chose the truly best arm."""
    rows = []
    for low, high in zip(bins[:-1], bins[1:]):
        band = [c for c in choices if low <= c.confidence < high]
        rows.append({"band": f"{low}–{min(high - 1, 100)}",
                     "answers": len(band),
                     "mean_confidence": _mean(c.confidence / 100 for c in band),
                     "best_share": _mean(float(c.arm == cases[c.case].best_arm) for c in band)})
    return rows


def summary(cases: dict[str, ScoredCase], choices: Sequence[Choice], *,
            n_bootstrap: int = N_BOOTSTRAP, random_state=None) -> dict:
    """Everything the reveal shows: the expected response rate of the class (with its bootstrap
    interval over students), of each group, of the model, of random choice and of the oracle;
    follow rates; calibration. Rates are over the cases some student answered."""
    answered = {k: case for k, case in cases.items() if any(c.case == k for c in choices)}

    def group(shows_model: bool) -> float | None:
        return class_rate(cases, [c for c in choices if c.shows_model is shows_model])

    return {
        "cases_answered": len(answered),
        "students": len({c.student for c in choices}),
        "class": class_rate(cases, choices),
        "class_interval": class_interval(cases, choices, n_bootstrap=n_bootstrap,
                                         random_state=random_state),
        "with_model": group(True),
        "without_model": group(False),
        "model": _mean(case.model for case in answered.values()),
        "random": _mean(case.random for case in answered.values()),
        "oracle": _mean(case.oracle for case in answered.values()),
        "follow": follow_rates(cases, choices),
        "calibration": calibration(cases, choices),
    }
