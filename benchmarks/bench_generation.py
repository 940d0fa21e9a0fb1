"""Cohort generation throughput in memory: ``make_cohort(n)`` for 10k, 100k and 1M patients.

Plain Python, no Django, no database. Run from the repository root:

    .venv/bin/python benchmarks/bench_generation.py
    .venv/bin/python benchmarks/bench_generation.py --sizes 10000 1000000 --repeats 7 3

The first call in the process is timed on its own ("cold"): it includes the one-off
calibration (arm intercepts, placebo among treatment-resistant patients and the
remission margin, on a 200,000-patient reference population, cached per
parameter set). Every later call is "warm". Each size is then timed ``repeats`` times and
reported as median, min and max seconds, patients per second, and the per-patient cost
relative to the smallest size (1.00 = scales linearly).
"""

from __future__ import annotations

import argparse
import gc
import time

from _common import environment_lines, print_table, summarize

from synthetic_data import make_cohort
from synthetic_data.generator import _CALIBRATIONS

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
DEFAULT_REPEATS = [5, 5, 3]


def timed_make_cohort(n: int, seed: int, scenario: str) -> float:
    gc.collect()
    start = time.perf_counter()
    cohort = make_cohort(n, scenario=scenario, random_state=seed)
    elapsed = time.perf_counter() - start
    assert len(cohort.patients) == n  # guards the benchmark, not the speed
    del cohort
    return elapsed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES,
                        help="cohort sizes (default: %(default)s)")
    parser.add_argument("--repeats", type=int, nargs="+", default=DEFAULT_REPEATS,
                        help="warm repeats per size; one number for all sizes, or one per size "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=2026, help="random_state (default: %(default)s)")
    parser.add_argument("--scenario", default="default", help="scenario (default: %(default)s)")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)
    repeats = args.repeats * len(sizes) if len(args.repeats) == 1 else args.repeats
    if len(repeats) != len(sizes) or min(repeats) < 1:
        parser.error("--repeats takes one positive number, or one per size")

    print("# make_cohort in memory")
    for line in environment_lines():
        print(f"# {line}")
    print(f"# scenario {args.scenario!r}, seed {args.seed}")
    print()

    _CALIBRATIONS.clear()  # a cold start even if something imported earlier calibrated already
    cold_n = sizes[0]
    cold = timed_make_cohort(cold_n, args.seed, args.scenario)

    results = {}
    for n, r in zip(sizes, repeats):
        times = [timed_make_cohort(n, args.seed, args.scenario) for _ in range(r)]
        results[n] = (summarize(times), r)

    base_n = sizes[0]
    base_cost = results[base_n][0]["median"] / base_n
    rows = []
    for n, (s, r) in results.items():
        rows.append([
            f"{n:,}", str(r), f"{s['median']:.3f}", f"{s['min']:.3f}", f"{s['max']:.3f}",
            f"{n / s['median']:,.0f}", f"{(s['median'] / n) / base_cost:.2f}",
        ])
    print_table(["patients", "runs", "median s", "min s", "max s", "patients/s",
                 f"cost/patient vs {base_n:,}"], rows)
    print()
    warm = results[cold_n][0]["median"]
    print(f"cold first call, {cold_n:,} patients: {cold:.3f} s "
          f"(intercept calibration ~{cold - warm:.3f} s = cold - warm median; once per process "
          f"and parameter set)")


if __name__ == "__main__":
    main()
