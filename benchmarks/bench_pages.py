"""Server time of the cohort and model pages (warm), at 5,000 and 100,000 patients, and the
storage rate: ``django.test.Client`` in process (no server, no network), DEBUG off.

Run from the repository root:

    .venv/bin/python benchmarks/bench_pages.py                                 # SQLite
    scripts/with-postgres .venv/bin/python benchmarks/bench_pages.py           # PostgreSQL
    .venv/bin/python benchmarks/bench_pages.py --sizes 5000 --profile overview # where the time goes

It never touches the developer's database (``_common.django_sandbox``). Per size (``--sizes``):

1. Two cohorts of that size (``make_cohort``, seeds ``--seed`` and ``--seed`` + 1) generated in
   memory (not timed) and stored with their ground truth and consent mix (``cohort_store``,
   as ``cohort_generate`` does): the seconds and patients per second of each store.
2. At the sizes in ``--train-at`` (default 5,000), the default suite trained on the first
   cohort (``training_run_create(seed=1)``, timed once for information). The run's pages read
   what training stored per run (metrics, curves, SHAP on at most 300 held-out patients), not
   the cohort: without a run at a size, the run overview and the model page are not timed there.
3. Per page, an educator's first request (it computes and stores what the page caches, such as
   the cohort's aggregates), then ``--repeats`` warm requests: median, p95, min and max in
   milliseconds, the page size and the SQL queries of one more request. Pages: the cohort
   overview, the cohort comparison (the two cohorts), the run overview, the model page of one
   arm (``/runs/<run>/arms/ssri/``).
4. The first overview request after a consent decision (one patient withdraws genetic consent
   for education): the aggregates computed again, ``--repeats`` times (one decision each).

Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import time

from _common import django_sandbox, django_start, p95, print_table, signed_in_client, summarize

DEFAULT_SIZES = [5_000, 100_000]
DEFAULT_SEED = 20261205
TRAINING_SEED = 1
MODEL_PAGE_ARM = "ssri"
PAGES = ("overview", "comparison", "run overview", "model page")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES,
                        help="cohort sizes (default: %(default)s)")
    parser.add_argument("--train-at", type=int, nargs="*", default=[5_000],
                        help="sizes at which a run is trained for the run pages "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="first cohort's seed (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=30,
                        help="warm requests per page (default: %(default)s)")
    parser.add_argument("--profile", choices=PAGES,
                        help="instead of timing, cProfile over --repeats warm requests of one "
                             "page at each size")
    args = parser.parse_args(argv)
    if args.repeats < 2:
        parser.error("--repeats must be at least 2")
    with django_sandbox("bench-pages-"):
        run(args)


def run(args) -> None:
    django_start("cohort and model pages: GET through django.test.Client, warm, as an educator",
                 f"cohorts seeds {args.seed} and {args.seed + 1}, training seed {TRAINING_SEED}")
    storage, rows, after_consent = [], [], []
    for size in args.sizes:
        a, b, stored = store_pair(size, args.seed)
        storage += stored
        run_row = train(a) if size in args.train_at else None
        client = signed_in_client(a.course, username=f"benchmark_{size}")
        urls = page_urls(a, b, run_row)
        if args.profile:
            if args.profile in urls:
                profile(client, urls[args.profile], args.repeats, f"{args.profile}, {size:,}")
            continue
        for page, url in urls.items():
            rows.append([f"{size:,}", page, *page_times(client, url, args.repeats)])
        after_consent.append([f"{size:,}", *consent_change_times(client, a, args.repeats)])
    if args.profile:
        return
    print()
    print("storing a cohort (cohort_store: patients, data-class tables, ground truth, consent "
          "mix; one transaction)")
    print_table(["patients", "seconds", "patients/s"], storage)
    print()
    print(f"pages: first request, then {args.repeats} warm requests (milliseconds)")
    print_table(["patients", "page", "first", "median", "p95", "min", "max", "KiB", "queries"],
                rows)
    print()
    print(f"the overview's first request after a consent decision, {args.repeats} decisions "
          "(milliseconds)")
    print_table(["patients", "median", "p95", "min", "max"], after_consent)


def store_pair(size: int, seed: int):
    from decision_support.cohorts.models import Cohort
    from decision_support.cohorts.services import cohort_store
    from synthetic_data import GENERATOR_VERSION, make_cohort

    cohorts, stored = [], []
    for s in (seed, seed + 1):
        generated = make_cohort(size, random_state=s)
        gc.collect()
        start = time.perf_counter()
        cohorts.append(cohort_store(
            patients=generated.patients, truth=generated.truth, consent=generated.consent,
            name=f"benchmark {size:,} seed {s}", scenario=generated.scenario, seed=s,
            source=Cohort.Source.GENERATED, generator_version=GENERATOR_VERSION))
        seconds = time.perf_counter() - start
        stored.append([f"{size:,}", f"{seconds:.2f}", f"{size / seconds:,.0f}"])
    return *cohorts, stored


def train(cohort):
    from decision_support.registry.services import training_run_create

    start = time.perf_counter()
    run_row = training_run_create(cohort=cohort, seed=TRAINING_SEED)
    print(f"set-up: training_run_create on {cohort.n_patients:,} patients "
          f"{time.perf_counter() - start:.0f} s ({run_row.models.count()} models), not timed below")
    return run_row


def page_urls(a, b, run_row) -> dict[str, str]:
    from django.urls import reverse

    urls = {"overview": reverse("cohort_overview", args=[a.pk]),
            "comparison": reverse("cohort_compare") + f"?a={a.pk}&b={b.pk}"}
    if run_row is not None:
        urls["run overview"] = reverse("run_overview", args=[a.pk])
        urls["model page"] = reverse("model_detail", args=[run_row.pk, MODEL_PAGE_ARM])
    return urls


def page_times(client, url: str, repeats: int) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = time.perf_counter()
    response = client.get(url)
    first = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"bench_pages: {url} answered {response.status_code}")
    times = []
    gc.collect()
    for _ in range(repeats):
        start = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    s = summarize(times)
    return [f"{first * 1e3:.0f}", f"{s['median'] * 1e3:.1f}", f"{p95(times) * 1e3:.1f}",
            f"{s['min'] * 1e3:.1f}", f"{s['max'] * 1e3:.1f}",
            f"{len(response.content) / 1024:.0f}", str(len(queries))]


def consent_change_times(client, cohort, repeats: int) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from decision_support.consent.services import consent_withdraw
    from decision_support.lib.vocabulary import Purpose

    actor = get_user_model().objects.get(username=f"benchmark_{cohort.n_patients}")
    url = reverse("cohort_overview", args=[cohort.pk])
    times = []
    for patient in cohort.patients.order_by("pk")[:repeats]:
        consent_withdraw(patient=patient, data_class="genetic", purpose=Purpose.EDUCATION,
                         actor=actor)
        start = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - start)
    s = summarize(times)
    return [f"{s['median'] * 1e3:.0f}", f"{p95(times) * 1e3:.0f}", f"{s['min'] * 1e3:.0f}",
            f"{s['max'] * 1e3:.0f}"]


def profile(client, url: str, repeats: int, label: str) -> None:
    import cProfile
    import pstats

    client.get(url)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        client.get(url)
    profiler.disable()
    print(f"## profile: {label}, {repeats} warm requests")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
