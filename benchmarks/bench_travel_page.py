""""Does it travel?" page render time (warm): ``GET /runs/<run>/travel/`` through Django's test
client, without and with a recalibration request.

Run from the repository root:

    .venv/bin/python benchmarks/bench_travel_page.py
    scripts/with-postgres .venv/bin/python benchmarks/bench_travel_page.py   # on PostgreSQL
    .venv/bin/python benchmarks/bench_travel_page.py --profile 10           # where the time goes

It never touches the developer's database: as ``bench_storage.py`` does, DATA_DIR points at a
fresh temporary folder (SQLite there), or with PostgreSQL selected a throw-away database is
created and dropped. The schema is migrated, a multi-site cohort generated and stored
(``cohort_generate(n_patients=--patients, site_scenario=--scenario)``: ``--patients`` per
site) and the default suite trained at its development site and validated at the others
(``training_run_create(cohort=..., seed=1)``); these set-up steps are timed once, for
information. A user in the educator role is created and logged in (``force_login``).

Then, per page: one warm-up request (reported on its own: the process's first loads and
verifies the models it needs from the registry) and ``--repeats`` requests, median, min and max
in milliseconds, with the page size and the number of SQL queries of the last request:

- the page as opened (the stored external validation, calibration and SHAP-shift charts);
- the page with a recalibration request (``?n_local=--n-local&seed=<i>``, another seed each
  request so that no request repeats another's draw): each arm's ranking model recalibrated on
  a local sample at each other site and scored on the rest, computed per request.

Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

from _common import django_sandbox, django_start, print_table, signed_in_client, summarize

DEFAULT_PATIENTS = 5_000
DEFAULT_SCENARIO = "trial_to_clinic"
DEFAULT_COHORT_SEED = 20261205
TRAINING_SEED = 1


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS,
                        help="patients per site (default: %(default)s)")
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO,
                        help="site scenario (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_COHORT_SEED,
                        help="cohort seed (default: %(default)s; training uses seed 1)")
    parser.add_argument("--repeats", type=int, default=20,
                        help="requests per page (default: %(default)s)")
    parser.add_argument("--n-local", type=int, default=200,
                        help="local sample of the recalibration request (default: %(default)s)")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="instead of timing, run cProfile over N warm requests of the page "
                             "as opened, then of the page with a recalibration request, and "
                             "print the top functions of each")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be positive")

    with django_sandbox("bench-travel-page-"):
        run(args)


def run(args) -> None:
    setup = django_start("travel page: GET /runs/<run>/travel/ through django.test.Client, warm",
                         f"{args.scenario} cohort of {args.patients:,} per site (seed "
                         f"{args.seed}), training seed {TRAINING_SEED}")
    from django.urls import reverse

    from decision_support.cohorts.services import cohort_generate
    from decision_support.registry.services import training_run_create

    with setup.timed("cohort_generate"):
        cohort = cohort_generate(n_patients=args.patients, seed=args.seed, name="benchmark",
                                 site_scenario=args.scenario)
    with setup.timed("training_run_create"):
        run_row = training_run_create(cohort=cohort, seed=TRAINING_SEED)
    print(f"set-up (once, not part of the page figures): {setup} (training and validation at "
          f"the other sites {run_row.duration_seconds:.1f} s; "
          f"{run_row.models.count()} models, validated at "
          f"{', '.join(run_row.external_validations.values_list('site', flat=True))})")
    print()

    client = signed_in_client(cohort.course)
    url = reverse("run_travel", args=[run_row.pk])

    pages = (("as opened", lambda i: ""),
             (f"recalibrated on {args.n_local}", lambda i: f"?n_local={args.n_local}&seed={i}"))
    if args.profile:
        for label, query in pages:
            print(f"## profile: the page {label}, {args.profile} warm requests")
            profile(client, url, query, args.profile)
        return

    rows, notes = [], []
    for label, query in pages:
        cold, times, size, queries = page_times(client, url, query, args.repeats)
        s = summarize(times)
        rows.append([label, str(len(times)), f"{s['median'] * 1e3:.1f}",
                     f"{s['min'] * 1e3:.1f}", f"{s['max'] * 1e3:.1f}", f"{size / 1024:.0f}",
                     str(queries)])
        notes.append(f"{label}: warm-up request {cold * 1e3:.0f} ms")
    print(f"travel page {url}, {args.repeats} requests each (milliseconds)")
    print_table(["page", "requests", "median", "min", "max", "KiB", "queries"], rows)
    for note in notes:
        print(f"  {note}")


def page_times(client, url: str, query, repeats: int):
    """The warm-up request's seconds, then ``repeats`` requests' seconds, the last page's size
    and its number of SQL queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = time.perf_counter()
    response = client.get(url + query(0))
    cold = time.perf_counter() - start
    if response.status_code != 200:
        sys.exit(f"bench_travel_page: {url + query(0)} answered {response.status_code}")
    times = []
    gc.collect()
    for i in range(1, repeats + 1):
        start = time.perf_counter()
        response = client.get(url + query(i))
        times.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url + query(repeats + 1))
    return cold, times, len(response.content), len(queries)


def profile(client, url: str, query, n: int) -> None:
    import cProfile
    import pstats

    client.get(url + query(0))  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(1, n + 1):
        client.get(url + query(i))
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
