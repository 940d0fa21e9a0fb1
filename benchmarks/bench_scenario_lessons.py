"""At which cohort sizes does each teaching scenario's lesson show? Trains and counts, per size.

Plain Python, no Django. For each scenario and size, over several seeds, runs the scenario's
lesson check (``models.lessons``: generates a cohort, trains what the lesson needs and checks
the lesson as its ``expected`` text states it). Prints, per scenario and size,
in how many seeds the lesson showed. ``synthetic_data.scenarios`` records the smallest size at
which it showed in every seed (``Scenario.min_patients``) and the cohort page refuses smaller
ones. Slow (minutes); asserts nothing.

    .venv/bin/python benchmarks/bench_scenario_lessons.py
    .venv/bin/python benchmarks/bench_scenario_lessons.py --sizes 300 2000 --seeds 1 2 --scenarios underrepresented
"""

from __future__ import annotations

import argparse
import time

from _common import environment_lines, print_table

from models.lessons import LESSON_CHECKS

SIZES = [300, 1_000, 2_000, 5_000, 10_000, 20_000]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--scenarios", nargs="+", default=list(LESSON_CHECKS),
                        choices=list(LESSON_CHECKS))
    args = parser.parse_args(argv)
    print("\n".join(f"# {line}" for line in environment_lines()))
    rows = []
    for name in args.scenarios:
        start = time.perf_counter()
        shown = [sum(LESSON_CHECKS[name](n, seed) for seed in args.seeds) for n in args.sizes]
        rows.append([name, *(f"{k}/{len(args.seeds)}" for k in shown),
                     f"{time.perf_counter() - start:.0f} s"])
        print(f"# {name} done", flush=True)
    print_table(["scenario", *(f"{n:,}" for n in args.sizes), "time"], rows)


if __name__ == "__main__":
    main()
