"""The default cohort against ../shared/DOMAIN.md, figure by figure, at the audit's size.

Plain Python, no Django. Prints each published figure beside what the generator produces on
cohorts of 200,000 patients (two seeds by default), from the observed outcomes of the patients
who received each arm and from every patient's potential outcomes (the truth). Asserts nothing:
tests/synthetic_data/test_realism.py holds the same figures to their tolerances.

    .venv/bin/python benchmarks/check_domain.py
    .venv/bin/python benchmarks/check_domain.py --size 500000 --seeds 1 2 3
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import environment_lines, print_table

from synthetic_data import FIRST_LINE_ARMS, make_cohort
from synthetic_data.parameters import TREATMENT_RESISTANT_COMPARATORS

FIRST_LINE = {"placebo": 0.37, "ssri": 0.47, "snri": 0.50, "bupropion": 0.45, "cbt": 0.41}
SHAM = 0.10
EDGE = {"rtms": 0.19, "esketamine": 0.14}
REMISSION = [  # (arm, prior failures, DOMAIN's figure)
    ("ssri", 0, "28-33%"), ("snri", 0, "~38%"), ("bupropion", 1, "26%"), ("cbt", 1, "31%"),
    ("rtms", 2, "19%"),
]


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def rows_for(cohort) -> list[list[str]]:
    patients, truth = cohort.patients, cohort.truth
    failures = patients["prior_failures"].to_numpy()
    first_line, resistant = failures == 0, failures >= 2
    received = {arm: (patients["arm"] == arm).to_numpy() for arm in patients["arm"].cat.categories}
    rows = []
    for arm, target in FIRST_LINE.items():
        observed = patients["response"].to_numpy()[first_line & received[arm]].mean()
        rows.append([f"response, {arm}, first line", _pct(target), _pct(observed),
                     _pct(truth[f"response_{arm}"].to_numpy()[first_line].mean())])
    rows.append(["response, placebo, 2+ failures (sham)", _pct(SHAM),
                 _pct(patients["response"].to_numpy()[resistant & received["placebo"]].mean()),
                 _pct(truth["response_placebo"].to_numpy()[resistant].mean())])
    for arm, edge in EDGE.items():
        comparators = TREATMENT_RESISTANT_COMPARATORS[arm]

        def gap(rates):
            return rates(arm) - np.mean([rates(c) for c in comparators])

        observed = gap(lambda a: patients["response"].to_numpy()[resistant & received[a]].mean())
        potential = gap(lambda a: truth[f"response_{a}"].to_numpy()[resistant].mean())
        rows.append([f"edge of {arm} over {'/'.join(comparators)}, 2+ failures",
                     f"{100 * edge:+.1f}", f"{100 * observed:+.1f}", f"{100 * potential:+.1f}"])
    for arm, n_failures, figure in REMISSION:
        chosen = (np.minimum(failures, 2) == n_failures) & received[arm]
        rows.append([f"remission, {arm}, {n_failures} prior failures", figure,
                     _pct(patients["remission"].to_numpy()[chosen].mean()), ""])
    rows.append(["placebo-SSRI potential responses, correlation", "high (assumed)", "",
                 f"{np.corrcoef(truth['response_placebo'], truth['response_ssri'])[0, 1]:.2f}"])
    any_arm = truth.loc[first_line, [f"response_{a}" for a in FIRST_LINE_ARMS]].max(axis=1)
    rows.append(["first line: responds to at least one arm", "", "", _pct(any_arm.mean())])
    ages = patients["age"].value_counts(normalize=True)
    rows.append(["age exactly 18 / exactly 19", "no pile at the bound",
                 f"{_pct(ages.get(18, 0))} / {_pct(ages.get(19, 0))}", ""])
    too_long = patients["episode_duration_months"] > (patients["age"] - 12) * 12
    rows.append(["episode longer than life since 12", "0", _pct(too_long.mean()), ""])
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    print("\n".join(f"# {line}" for line in environment_lines()))
    for seed in args.seeds:
        print(f"\n## default cohort, {args.size:,} patients, seed {seed}")
        print_table(["figure", "DOMAIN", "observed (received the arm)", "potential (truth)"],
                    rows_for(make_cohort(args.size, random_state=seed)))


if __name__ == "__main__":
    main()
