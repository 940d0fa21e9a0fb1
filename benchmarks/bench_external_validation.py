"""External validation: a full suite trained at one site, scored at another.

Plain Python, no Django, no database. Run from the repository root:

    .venv/bin/python benchmarks/bench_external_validation.py                  # 20,000 per site
    .venv/bin/python benchmarks/bench_external_validation.py --patients 5000 --repeats 3

Two sites are two draws of the default scenario (``make_cohort(--patients, random_state=seed)``
and ``seed + 1``); a third draw joins them for leave-one-site-out. The site-A suite is the default
one (every arm, three algorithms, three variants: 63 models), trained once with
``train_suite(..., truth=...)`` and not timed (its time is printed). Then, each ``--repeats``
times, with the thread pools capped at one thread as training runs:

1. ``external_validation(suite, site_b, truth=...)``: every model's internal and external
   figures (ROC AUC, calibration-in-the-large and slope, each with 200 bootstrap resamples, the
   calibration curve, Brier) and the policy value over every site-B patient;
2. ``recalibrate(model, site_b, n_local=200)`` for every first-line model (each on the rest of
   site B; the treatment-resistant arms have too few patients at 5,000 per site);
3. ``importance_by_site(model, {"A": ..., "B": ...})`` for every model (global SHAP on up to 300
   patients per site);
4. ``leave_one_site_out`` over the three sites (logistic regression, variant "full": three
   trainings of seven models and their external figures).

Columns: median, min and max seconds over the repeats.
"""

from __future__ import annotations

import argparse
import gc
import time

from _common import environment_lines, print_table, summarize

DEFAULT_PATIENTS = 20_000
DEFAULT_SEED = 20261205
LOCAL_SAMPLE = 200


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS,
                        help="patients per site (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="seed of site A; sites B and C take the next two "
                             "(default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs of each section (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be positive")

    import pandas as pd
    from threadpoolctl import threadpool_limits

    from models.external import (external_validation, importance_by_site, leave_one_site_out,
                                 recalibrate)
    from models.training import train_suite
    from synthetic_data import FIRST_LINE_ARMS, make_cohort

    print("# external validation: a full suite trained at site A, scored at site B")
    for line in environment_lines():
        print(f"# {line}")
    print(f"# sites: make_cohort({args.patients}, random_state={args.seed}, +1, +2); "
          f"{args.repeats} timed runs per section, thread pools capped at 1")
    print()

    site_a, site_b, site_c = (make_cohort(args.patients, random_state=args.seed + i)
                              for i in range(3))
    start = time.perf_counter()
    suite = train_suite(site_a.patients, truth=site_a.truth, random_state=args.seed)
    print(f"training at site A (not timed below): {time.perf_counter() - start:.1f} s, "
          f"{len(suite.models)} models", flush=True)
    sites = pd.concat([site.patients.assign(site=name)
                       for name, site in zip("ABC", (site_a, site_b, site_c))], ignore_index=True)
    models = list(suite.models.values())
    first_line = [m for m in models if m.arm in FIRST_LINE_ARMS]
    sections = [
        ("external_validation, every model + policy value",
         lambda: external_validation(suite, site_b.patients, truth=site_b.truth,
                                     random_state=args.seed)),
        (f"recalibrate on {LOCAL_SAMPLE} local patients, {len(first_line)} first-line models",
         lambda: [recalibrate(m, site_b.patients, n_local=LOCAL_SAMPLE, random_state=args.seed)
                  for m in first_line]),
        ("importance_by_site (A, B), every model",
         lambda: [importance_by_site(m, {"A": site_a.patients, "B": site_b.patients})
                  for m in models]),
        ("leave_one_site_out, 3 sites, logistic regression 'full'",
         lambda: leave_one_site_out(sites, random_state=args.seed)),
    ]
    rows = []
    with threadpool_limits(limits=1):
        for label, fn in sections:
            s = summarize(timed(fn, args.repeats))
            rows.append([label, f"{args.patients:,}", str(args.repeats), f"{s['median']:.2f}",
                         f"{s['min']:.2f}", f"{s['max']:.2f}"])
            print(f"  {label}: median {s['median']:.2f} s", flush=True)
    print()
    print_table(["what", "patients per site", "runs", "median s", "min s", "max s"], rows)


if __name__ == "__main__":
    main()
