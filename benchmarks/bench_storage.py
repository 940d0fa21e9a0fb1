"""Storing cohorts: ``cohort_store`` for 10k and 50k patients, on SQLite or PostgreSQL.

Run from the repository root:

    .venv/bin/python benchmarks/bench_storage.py                          # SQLite
    scripts/with-postgres .venv/bin/python benchmarks/bench_storage.py    # PostgreSQL
    .venv/bin/python benchmarks/bench_storage.py --profile 50000          # where the time goes

It never touches the developer's database: DATA_DIR points at a fresh temporary folder (so the
SQLite file, and any generated secret keys, live there); with PostgreSQL (PGHOST, PGDATABASE or
a postgres:// DATABASE_URL set) it creates a fresh database on that server and drops it at the
end. Either way it is migrated from scratch.

For each size the cohort is generated in memory first (not timed); then the whole
``cohort_store`` call (one transaction: the cohort row, patients, three data-class tables and
the ground truth) is timed ``repeats`` times. Between runs the cohort is deleted and the
database vacuumed (not timed), so each run starts from the same state.
"""

from __future__ import annotations

import argparse
import gc
import time

from _common import backend_lines, django_sandbox, environment_lines, print_table, summarize

DEFAULT_SIZES = [10_000, 50_000]


def reset(connection, cohort) -> float:
    """Delete the stored cohort and vacuum; returns the seconds it took (reported, not timed)."""
    start = time.perf_counter()
    type(cohort).objects.filter(pk=cohort.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES,
                        help="cohort sizes (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=2026, help="random_state (default: %(default)s)")
    parser.add_argument("--no-truth", action="store_true",
                        help="store the observed patients only (as a CSV import does)")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="instead of timing, run cProfile over one cohort_store of N patients "
                             "and print the top functions")
    args = parser.parse_args(argv)

    with django_sandbox("bench-storage-"):
        run(args)


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from decision_support.cohorts.models import Cohort
    from decision_support.cohorts.services import cohort_store
    from synthetic_data import GENERATOR_VERSION, make_cohort

    call_command("migrate", interactive=False, verbosity=0)

    def store(generated, label):
        return cohort_store(
            patients=generated.patients, truth=None if args.no_truth else generated.truth,
            name=label, scenario=generated.scenario, seed=generated.random_state,
            source=Cohort.Source.GENERATED, generator_version=GENERATOR_VERSION,
        )

    print("# cohort_store: patients, data-class tables"
          + ("" if args.no_truth else " and ground truth") + ", in one transaction")
    for line in environment_lines() + backend_lines(connection):
        print(f"# {line}")
    print(f"# django {django.get_version()}, seed {args.seed}")
    print()

    if args.profile:
        import cProfile
        import pstats

        generated = make_cohort(args.profile, random_state=args.seed)
        store(make_cohort(100, random_state=args.seed), "warm-up")  # imports, first queries
        profiler = cProfile.Profile()
        profiler.enable()
        store(generated, "profile")
        profiler.disable()
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)
        return

    rows = []
    for n in sorted(args.sizes):
        generated = make_cohort(n, random_state=args.seed)  # not timed
        times, resets = [], []
        for i in range(args.repeats):
            gc.collect()
            start = time.perf_counter()
            cohort = store(generated, f"benchmark {n} run {i}")
            times.append(time.perf_counter() - start)
            resets.append(reset(connection, cohort))
            print(f"  {n:,} patients, run {i + 1}: {times[-1]:.2f} s "
                  f"(delete + vacuum afterwards: {resets[-1]:.2f} s, not counted)", flush=True)
        s = summarize(times)
        rows.append([f"{n:,}", str(args.repeats), f"{s['median']:.2f}", f"{s['min']:.2f}",
                     f"{s['max']:.2f}", f"{n / s['median']:,.0f}",
                     f"{s['median'] / n * 1e6:.0f}"])
    print()
    print_table(["patients", "runs", "median s", "min s", "max s", "patients/s", "µs/patient"],
                rows)


if __name__ == "__main__":
    main()
