"""Differentially private aggregates, computed with OpenDP (pure functions: a frame in, rows out).

Each aggregate is a fixed, named query over the patients of one cohort whose research-export
consent covers the data it needs (the caller selects them; see ``selectors.export_frame``):

- **counts** (``responders_by_arm``, ``ancestry_by_sex``, ``cyp2c19_by_ancestry``): one count
  per combination of categories, released with OpenDP's ``count_by_categories`` and the discrete
  Laplace mechanism. A patient falls in exactly one combination, so adding or removing one
  patient changes the vector of counts by 1 in L1 and the scale is ``1 / epsilon``.
- **bounded mean** (``mean_hamd_by_arm``): HAM-D17 clamped to the explicit bounds [0, 52] (the
  scale's range), per arm a noisy clamped sum (``epsilon / 2``, sensitivity 52) and a noisy count
  (``epsilon / 2``) composed by OpenDP; the mean is their ratio, clamped to the bounds. The
  arms are disjoint (a patient has one arm), so by parallel composition the whole release costs
  ``epsilon``.

OpenDP checks every measurement's privacy loss; a measurement that would spend more than asked
is refused (``AssertionError``) before it sees the data. The noise comes from OpenDP's own
secure sampler and cannot be seeded.

Released values: counts rounded to whole numbers, negatives clamped to 0, and a noisy count of 1
to 10 still shown as ``"<11"`` (as is the mean of a group whose noisy count is below 11).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import opendp.prelude as dp
import pandas as pd

from decision_support.lib.suppression import MIN_CELL, SUPPRESSED
from synthetic_data import ARMS, DATA_DICTIONARY

dp.enable_features("contrib")

HAMD_BOUNDS = (0, 52)  # HAM-D17 total score: the scale's range, not taken from the data
BAD_EPSILON = "epsilon must be a finite number above 0; got {value!r}"
UNKNOWN_AGGREGATE = "aggregate must be one of {known}; got {value!r}"
MEAN_SUPPRESSED = "<11 patients"


@dataclass(frozen=True)
class Aggregate:
    key: str
    label: str
    kind: str  # counts | mean
    group_by: tuple[str, ...]  # dictionary variables defining the groups
    value: str | None = None  # the variable averaged (mean only)

    @property
    def variables(self) -> tuple[str, ...]:
        return self.group_by + ((self.value,) if self.value else ())

    def header(self) -> list[str]:
        if self.kind == "counts":
            return [*self.group_by, "noisy_patients"]
        return [*self.group_by, "noisy_patients", f"noisy_mean_{self.value}"]


AGGREGATES: dict[str, Aggregate] = {a.key: a for a in [
    Aggregate("responders_by_arm", "Responders and non-responders by arm", "counts",
              ("arm", "response")),
    Aggregate("mean_hamd_by_arm", "Mean baseline HAM-D17 by arm (bounded to 0-52)", "mean",
              ("arm",), "hamd17"),
    Aggregate("ancestry_by_sex", "Patients by ancestry group and sex", "counts",
              ("ancestry", "sex")),
    Aggregate("cyp2c19_by_ancestry", "CYP2C19 phenotype by ancestry group", "counts",
              ("ancestry", "cyp2c19_phenotype")),
]}


def _categories(variable: str) -> list[str]:
    if variable == "arm":
        return list(ARMS)
    entry = DATA_DICTIONARY[variable]
    if entry.categories:
        return list(entry.categories)
    if entry.kind == "binary":
        return ["0", "1"]
    raise ValueError(f"{variable} is not categorical")


def _label(value, variable: str) -> str:
    if DATA_DICTIONARY[variable].kind == "binary":
        return str(int(value))
    return str(value)


def check_epsilon(epsilon) -> float:
    if isinstance(epsilon, bool):
        raise ValueError(BAD_EPSILON.format(value=epsilon))
    try:
        value = float(epsilon)
    except (TypeError, ValueError):
        raise ValueError(BAD_EPSILON.format(value=epsilon)) from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(BAD_EPSILON.format(value=epsilon))
    return value


def released_count(noisy) -> int | str:
    """A noisy count as released: a whole number, at least 0, and ``"<11"`` for 1 to 10."""
    count = max(0, int(round(noisy)))
    return SUPPRESSED if 0 < count < MIN_CELL else count


def _check_loss(measurement, epsilon: float) -> None:
    loss = measurement.map(1)
    if loss > epsilon * (1 + 1e-9):
        raise AssertionError(f"measurement spends {loss}, more than epsilon {epsilon}")


def noisy_counts(labels: Sequence[str], categories: Sequence[str], *, epsilon: float) -> list[int]:
    """One noisy count per category of ``labels`` (each patient one label), epsilon-DP under
    adding or removing one patient."""
    epsilon = check_epsilon(epsilon)
    space = dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()
    measurement = (space >> dp.t.then_count_by_categories(categories=list(categories),
                                                           null_category=False)
                   >> dp.m.then_laplace(scale=1.0 / epsilon))
    _check_loss(measurement, epsilon)
    return list(measurement([str(label) for label in labels]))


def noisy_bounded_mean(values: Sequence[int], *, bounds: tuple[int, int],
                       epsilon: float) -> tuple[int, float | None]:
    """(noisy count, noisy mean) of whole-number ``values`` clamped to ``bounds``, epsilon-DP
    under adding or removing one patient; the mean is ``None`` when the noisy count is not
    positive."""
    epsilon = check_epsilon(epsilon)
    low, high = (int(b) for b in bounds)
    space = dp.vector_domain(dp.atom_domain(T=dp.i64)), dp.symmetric_distance()
    noisy_sum = (space >> dp.t.then_clamp((low, high)) >> dp.t.then_sum()
                 >> dp.m.then_laplace(scale=max(abs(low), abs(high)) / (epsilon / 2)))
    noisy_count = space >> dp.t.then_count() >> dp.m.then_laplace(scale=1.0 / (epsilon / 2))
    measurement = dp.c.make_composition([noisy_sum, noisy_count])
    _check_loss(measurement, epsilon)
    total, count = measurement([int(v) for v in values])
    if count <= 0:
        return int(count), None
    return int(count), min(max(total / count, low), high)


def compute_aggregate(frame: pd.DataFrame, aggregate: str, *, epsilon) -> list[list]:
    """The released rows (header first) of ``aggregate`` over ``frame``.

    Parameters
    ----------
    frame : DataFrame
        One row per patient that may be counted, with the aggregate's ``variables``; the caller
        has already left out patients whose consent does not cover them.
    aggregate : str
        A key of ``AGGREGATES``.
    epsilon : float
        The privacy loss of the whole release (any positive number here; the web form allows
        only a short list).
    """
    if aggregate not in AGGREGATES:
        raise ValueError(UNKNOWN_AGGREGATE.format(known=", ".join(AGGREGATES), value=aggregate))
    spec = AGGREGATES[aggregate]
    epsilon = check_epsilon(epsilon)
    rows: list[list] = [spec.header()]
    if spec.kind == "counts":
        groups = [[]]
        for variable in spec.group_by:
            groups = [[*g, c] for g in groups for c in _categories(variable)]
        keys = ["|".join(g) for g in groups]
        labels = frame[list(spec.group_by)].apply(
            lambda row: "|".join(_label(row[v], v) for v in spec.group_by), axis=1) \
            if len(frame) else pd.Series([], dtype=str)
        counts = noisy_counts(labels.tolist(), keys, epsilon=epsilon)
        rows += [[*group, released_count(count)] for group, count in zip(groups, counts)]
        return rows
    (group_var,) = spec.group_by
    for category in _categories(group_var):
        values = frame.loc[frame[group_var] == category, spec.value].dropna()
        # Disjoint groups: each is released at the full epsilon (parallel composition).
        count, mean = noisy_bounded_mean(values.astype(int).tolist(), bounds=HAMD_BOUNDS,
                                         epsilon=epsilon)
        shown = released_count(count)
        if mean is None or count < MIN_CELL:
            rows.append([category, shown, MEAN_SUPPRESSED if count > 0 else ""])
        else:
            rows.append([category, shown, f"{mean:.1f}"])
    return rows
