"""Models: training the default suite, one patient's explanations (warm), global SHAP.

Plain Python, no Django, no database. Run from the repository root:

    .venv/bin/python benchmarks/bench_models.py
    .venv/bin/python benchmarks/bench_models.py --repeats 5 --explain-repeats 100
    .venv/bin/python benchmarks/bench_models.py --profile explain     # where the time goes

1. Training: ``train_suite`` on ``make_cohort(5000, random_state=20261125)`` with its ground
   truth (every patient, no consent filter), i.e. the default suite (every arm, three algorithms, three variants: 63 models, with
   held-out metrics, bootstrap intervals, global SHAP, truth check, ranking refits and policy
   value). Timed ``--repeats`` times; the cohort is generated once, not timed.
2. One patient's explanations, per algorithm: ``model.explain(one_row)`` for every arm's model
   in variant "full" (7 models), as a patient page does. The first call is reported on its own
   ("cold": it builds the SHAP explainers, cached per model) and excluded; then
   ``--explain-repeats`` calls, each for a different patient, in milliseconds. The same again
   with the treatment ranking (``suite.rank(one_row)``) added, and the ranking alone.
3. Global SHAP: ``explainer.shap_matrix`` on the first 300 rows of each model's held-out set (the
   split ``train_suite`` makes, recomputed), as training does once per model: the sum over all 63
   models, and per algorithm the median per model and the sum.

Sections 2 and 3 run twice by default (``--threads default,1``): once as the web app runs, with
scikit-learn's OpenMP and OpenBLAS thread pools at their defaults (2 threads here), and once
capped at one thread with threadpoolctl, as ``train_suite`` always runs. On a busy machine the
default pools stall now and then (gradient boosting's OpenMP prediction has taken 1.2 s for a
call that takes 2 ms on one thread), which shows in the p90 and max columns.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
from _common import environment_lines, print_table, summarize, thread_caps

from synthetic_data import ARMS

DEFAULT_PATIENTS = 5_000
DEFAULT_SEED = 20261125


def percentile(times: list[float], q: float) -> float:
    return float(np.percentile(times, q))


def ms_row(label: str, times: list[float]) -> list[str]:
    s = summarize(times)
    return [label, str(len(times)), f"{s['median'] * 1e3:.1f}", f"{percentile(times, 90) * 1e3:.1f}",
            f"{s['min'] * 1e3:.1f}", f"{s['max'] * 1e3:.1f}"]


def time_training(cohort, args) -> tuple[list[float], object]:
    from models.training import train_suite

    times, suite = [], None
    for i in range(args.repeats):
        suite = None
        gc.collect()
        start = time.perf_counter()
        suite = train_suite(cohort.patients, truth=cohort.truth, scenario=cohort.scenario,
                            random_state=args.seed)
        times.append(time.perf_counter() - start)
        print(f"  training run {i + 1}: {times[-1]:.1f} s ({len(suite.models)} models"
              + (f", skipped: {', '.join(suite.skipped)}" if suite.skipped else "") + ")",
              flush=True)
    return times, suite


def explain_all_arms(suite, algorithm: str, row) -> None:
    for arm in suite_arms(suite):
        suite.models[(arm, algorithm, "full")].explain(row)


def suite_arms(suite) -> list[str]:
    return sorted({arm for arm, _, _ in suite.models}, key=list(ARMS).index)


def time_explanations(suite, patients, args, *, threads: int | None):
    """Rows of the latency table, and notes on the cold first calls. ``threads`` None runs as
    the web app does (scikit-learn's OpenMP and BLAS pools at their defaults); 1 caps them."""
    from threadpoolctl import threadpool_limits

    from models.algorithms import ALGORITHMS

    rng = np.random.default_rng(args.seed)
    positions = rng.choice(len(patients), size=args.explain_repeats + 1, replace=False)
    rows = [patients.iloc[[p]] for p in positions]  # one-row frames, as a page selects them
    table, notes = [], []
    label = "default" if threads is None else str(threads)

    def timed(fn) -> tuple[float, list[float]]:
        gc.collect()
        start = time.perf_counter()
        fn(rows[0])  # the first call, excluded from the warm figures
        cold = time.perf_counter() - start
        warm = []
        for row in rows[1:]:
            start = time.perf_counter()
            fn(row)
            warm.append(time.perf_counter() - start)
        return cold, warm

    arms = suite_arms(suite)
    with threadpool_limits(limits=threads):
        for algorithm in ALGORITHMS:
            models = [suite.models[(arm, algorithm, "full")] for arm in arms
                      if (arm, algorithm, "full") in suite.models]
            if not models:
                continue
            for model in models:  # a cold start as in a fresh web process: no explainer yet
                model.__dict__.pop("explainer", None)
            cold, warm = timed(lambda row: explain_all_arms(suite, algorithm, row))
            table.append([label, *ms_row(f"{algorithm}: explain {len(models)} arms", warm)])
            notes.append(f"threads {label}, {algorithm}: first call {cold * 1e3:.0f} ms "
                         f"(builds the {len(models)} SHAP explainers)")
            _, warm = timed(lambda row: (suite.rank(row), explain_all_arms(suite, algorithm, row)))
            table.append([label, *ms_row(f"{algorithm}: rank + explain {len(models)} arms", warm)])
        _, warm = timed(lambda row: suite.rank(row))
        table.append([label, *ms_row("ranking alone (suite.rank)", warm)])
    return table, notes


def held_out_rows(patients, seed: int, arms: list[str]) -> dict:
    """Per arm, the first rows of the held-out set ``train_suite`` used (same split, same seed;
    no consent filter, as ``train_suite`` without ``permitted``)."""
    from sklearn.model_selection import train_test_split

    from models.training import GLOBAL_SHAP_ROWS, TEST_SIZE

    samples = {}
    for arm in arms:
        received = patients[patients["arm"] == arm]
        y = received["response"].to_numpy()
        _, test = train_test_split(received, test_size=TEST_SIZE, stratify=y, random_state=seed)
        samples[arm] = test.iloc[:GLOBAL_SHAP_ROWS]
    return samples


def time_global_shap(suite, patients, seed: int, *, threads: int | None):
    """Rows per algorithm (median ms per model, sum s) and the total over all models."""
    from threadpoolctl import threadpool_limits

    samples = held_out_rows(patients, seed, suite_arms(suite))
    label = "default" if threads is None else str(threads)
    per_algorithm: dict[str, list[float]] = {}
    with threadpool_limits(limits=threads):
        for (arm, algorithm, _variant), model in suite.models.items():
            model.explainer  # built beforehand: training builds it once per model too
            gc.collect()
            start = time.perf_counter()
            model.explainer.shap_matrix(samples[arm])
            per_algorithm.setdefault(algorithm, []).append(time.perf_counter() - start)
    rows = []
    for algorithm, times in per_algorithm.items():
        s = summarize(times)
        rows.append([label, algorithm, str(len(times)), f"{s['median'] * 1e3:.0f}",
                     f"{s['min'] * 1e3:.0f}", f"{s['max'] * 1e3:.0f}", f"{sum(times):.2f}"])
    total = sum(sum(t) for t in per_algorithm.values())
    rows.append([label, "all", str(sum(len(t) for t in per_algorithm.values())), "", "", "",
                 f"{total:.2f}"])
    return rows


def profile(what: str, cohort, args) -> None:
    import cProfile
    import pstats

    from models.training import train_suite

    suite = train_suite(cohort.patients, truth=cohort.truth, scenario=cohort.scenario,
                        random_state=args.seed) if what != "train" else None
    from threadpoolctl import threadpool_limits

    profiler = cProfile.Profile()
    limits = threadpool_limits(limits=args.threads[0])
    if what == "train":
        profiler.enable()
        train_suite(cohort.patients, truth=cohort.truth, scenario=cohort.scenario,
                    random_state=args.seed)
        profiler.disable()
    else:
        rows = [cohort.patients.iloc[[p]] for p in range(args.explain_repeats + 1)]
        explain_all_arms(suite, args.profile_algorithm, rows[0])  # warm
        suite.rank(rows[0])
        profiler.enable()
        for row in rows[1:]:
            suite.rank(row)
            explain_all_arms(suite, args.profile_algorithm, row)
        profiler.disable()
    limits.restore_original_limits()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS,
                        help="cohort size (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="random_state of the cohort and the suite (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="training runs (default: %(default)s)")
    parser.add_argument("--explain-repeats", type=int, default=50,
                        help="warm explanation calls, one patient each (default: %(default)s)")
    parser.add_argument("--profile", choices=["train", "explain"],
                        help="instead of timing, run cProfile over one training run, or over "
                             "--explain-repeats patients' ranking + explanations (thread cap: the "
                             "first of --threads), and print the top functions")
    parser.add_argument("--profile-algorithm", default="random_forest",
                        help="algorithm whose explanations --profile explain runs "
                             "(default: %(default)s)")
    parser.add_argument("--threads", default="default,1", type=thread_caps,
                        help="thread-pool caps to time the explanations and global SHAP under, "
                             "comma-separated: 'default' (as the web app runs) or a number "
                             "(threadpoolctl limits; training always caps at 1) "
                             "(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.explain_repeats < 1:
        parser.error("--repeats and --explain-repeats must be positive")

    import shap
    import sklearn
    import threadpoolctl

    from synthetic_data import make_cohort

    print("# models: train_suite, one patient's explanations (warm), global SHAP")
    for line in environment_lines():
        print(f"# {line}")
    blas = [f"{p['internal_api']} {p.get('version') or ''} ({p['num_threads']} threads)".strip()
            for p in threadpoolctl.threadpool_info()]
    print(f"# scikit-learn {sklearn.__version__}, shap {shap.__version__}; thread pools: "
          f"{'; '.join(blas) or 'none loaded'}")
    print(f"# cohort make_cohort({args.patients}, random_state={args.seed}) with truth; "
          f"suite random_state {args.seed}")
    print()

    cohort = make_cohort(args.patients, random_state=args.seed)  # not timed
    if args.profile:
        profile(args.profile, cohort, args)
        return

    print(f"1. train_suite, {args.repeats} runs")
    times, suite = time_training(cohort, args)
    s = summarize(times)
    print()
    print_table(["patients", "models", "runs", "median s", "min s", "max s"],
                [[f"{args.patients:,}", str(len(suite.models)), str(args.repeats),
                  f"{s['median']:.1f}", f"{s['min']:.1f}", f"{s['max']:.1f}"]])
    print()

    print(f"2. one patient, variant 'full', warm: {args.explain_repeats} calls, each a different "
          "patient (milliseconds)")
    table, notes = [], []
    for threads in args.threads:
        t, n = time_explanations(suite, cohort.patients, args, threads=threads)
        table += t
        notes += n
    print_table(["threads", "what", "calls", "median", "p90", "min", "max"], table)
    for note in notes:
        print(f"  {note}")
    print()

    print("3. global SHAP: shap_matrix on up to 300 held-out rows per model (milliseconds per "
          "model; seconds summed)")
    rows = []
    for threads in args.threads:
        rows += time_global_shap(suite, cohort.patients, args.seed, threads=threads)
    print_table(["threads", "algorithm", "models", "median ms", "min ms", "max ms", "sum s"],
                rows)
    print("  (training computes the same once per model, with its thread pools capped at 1)")

if __name__ == "__main__":
    main()
