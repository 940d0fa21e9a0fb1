"""Patient page render time (warm): ``GET /patients/<pseudonym>/`` through Django's test client.

Run from the repository root:

    .venv/bin/python benchmarks/bench_patient_page.py
    scripts/with-postgres .venv/bin/python benchmarks/bench_patient_page.py   # on PostgreSQL
    .venv/bin/python benchmarks/bench_patient_page.py --profile 30           # where the time goes

It never touches the developer's database: as ``bench_storage.py`` does, DATA_DIR points at a
fresh temporary folder (SQLite there), or with PostgreSQL selected a throw-away database is
created and dropped. The schema is migrated, a 5,000-patient cohort generated and stored
(``cohort_generate``, seed 20261125) and the default suite trained and stored
(``training_run_create(cohort=..., seed=1)``); these set-up steps are timed once, for
information. A user is created and logged in (``force_login``).

Then, per explanation algorithm (the page's ``?algorithm=``), one warm-up request (reported on
its own: it loads and verifies the models from the registry, once per process; then every model
of the run is loaded and its explainer built, untimed, so that a patient whose consent selects
another model variant finds it warm too) and then one
request for each of ``--repeats`` different patients: the whole request through the middleware,
view, queries and template, in milliseconds (median and p95). The view's ``patient_predictions``
call (the ranking and a SHAP explanation per ranked arm) is wrapped and timed inside the same
requests, so the rest of the page (consent gate, queries, context, template) shows as the
difference; the wrapper also tells whether the page computed predictions at all (a patient's
consent can rule them out) and with which model variant. ``--threads`` times the pages under
thread-pool caps (threadpoolctl) as well as the app's own (``default``). Then the API's
explanations of the same patients, ``GET /api/patients/<pseudonym>/explanations/`` with a bearer
token, per algorithm. Last, the model page of one arm, ``/runs/<run>/arms/ssri/``, requested
``--repeats`` times after a warm-up. ``--train-patients N`` trains on the cohort's first N
patients (for 100,000-patient runs: the per-patient work does not depend on it).

Exits with status 2, printing why and no numbers, when the page does not exist yet or answers
404 or fails for the patients.
"""

from __future__ import annotations

import argparse
import functools
import gc
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass

import numpy as np
from _common import (django_sandbox, django_start, print_table, signed_in_client, summarize,
                     thread_caps)

DEFAULT_PATIENTS = 5_000
DEFAULT_COHORT_SEED = 20261125
TRAINING_SEED = 1
MODEL_PAGE_ARM = "ssri"


class NotMeasurable(Exception):
    """The page is missing or failing: say so and exit 2 rather than print numbers."""


def ms_row(label: str, times: list[float], extra: list[str] = ()) -> list[str]:
    s = summarize(times)
    return [label, str(len(times)), f"{s['median'] * 1e3:.1f}",
            f"{np.percentile(times, 95) * 1e3:.1f}", f"{s['min'] * 1e3:.1f}",
            f"{s['max'] * 1e3:.1f}", *extra]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS,
                        help="cohort size (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_COHORT_SEED,
                        help="cohort seed (default: %(default)s; training uses seed 1)")
    parser.add_argument("--repeats", type=int, default=50,
                        help="requests per page, each for a different patient (default: %(default)s)")
    parser.add_argument("--algorithms", nargs="+", default=None,
                        help="explanation algorithms to time the page with (default: all three)")
    parser.add_argument("--profile", type=int, metavar="N",
                        help="instead of timing, run cProfile over N (at most --repeats) warm "
                             "patient-page requests (thread cap: the first of --threads) and "
                             "print the top functions")
    parser.add_argument("--profile-out", metavar="FILE",
                        help="with --profile, also write the profile to FILE (pstats format)")
    parser.add_argument("--profile-algorithm", default="logistic_regression",
                        help="the page's ?algorithm= for --profile (default: %(default)s)")
    parser.add_argument("--threads", default="default", type=thread_caps,
                        help="thread-pool caps to time the patient page under, comma-separated: "
                             "'default' (as the web app runs now) or a number (threadpoolctl "
                             "limits, as OMP_NUM_THREADS/OPENBLAS_NUM_THREADS would set) "
                             "(default: %(default)s)")
    parser.add_argument("--train-patients", type=int, metavar="N",
                        help="train the suite on the cohort's first N patients only (default: "
                             "all; at 100,000 training takes most of an hour here, and a page's "
                             "work per patient does not depend on the training set's size)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be positive")

    status = 0
    with django_sandbox("bench-patient-page-"):
        try:
            run(args)
        except NotMeasurable as problem:
            print(f"\nbench_patient_page: NOT MEASURED: {problem}", flush=True)
            status = 2
    sys.exit(status)


def get(client, url: str, what: str):
    """One request; a failing view is reported as NotMeasurable, not as a number."""
    try:
        return client.get(url)
    except Exception as error:  # the page is being written: report, do not time
        raise NotMeasurable(f"{what} {url} raised {type(error).__name__}: {error}\n"
                            + "".join(traceback.format_exception(error)[-6:])) from error


def run(args) -> None:
    setup = django_start("patient page: GET /patients/<pseudonym>/ through django.test.Client, "
                         "warm", cohort_details(args))
    from django.urls import NoReverseMatch, reverse
    from threadpoolctl import threadpool_limits

    from decision_support.cohorts.models import Patient
    from decision_support.cohorts.services import cohort_generate
    from models.algorithms import ALGORITHMS

    try:
        reverse("patient_detail", args=["x"])
    except NoReverseMatch:
        raise NotMeasurable("there is no URL named 'patient_detail' (/patients/<pseudonym>/) "
                            "yet: decision_support/predictions/urls.py does not route it") from None

    with setup.timed("cohort_generate"):
        cohort = cohort_generate(n_patients=args.patients, seed=args.seed, name="benchmark")
    with setup.timed("training_run_create"):
        run_row = train(cohort, args.train_patients)
    print(f"set-up (once, not part of the page figures): {setup} (of which train_suite "
          f"{run_row.duration_seconds:.1f} s)")
    print()

    client = signed_in_client(cohort.course)

    pseudonyms = list(Patient.objects.filter(cohort=cohort).order_by("pk")
                      .values_list("pseudonym", flat=True))
    rng = np.random.default_rng(args.seed)
    chosen = [pseudonyms[i] for i in rng.choice(len(pseudonyms), size=args.repeats + 1,
                                                replace=False)]
    warm_up, measured = chosen[0], chosen[1:]

    if args.profile:
        profile(client, args, [warm_up] + measured[:args.profile])
        return
    probe = PredictionsProbe()

    algorithms = args.algorithms or list(ALGORITHMS)
    page_rows, notes = [], []
    for threads in args.threads:
        label = "default" if threads is None else str(threads)
        with threadpool_limits(limits=threads):
            for algorithm in algorithms:
                cold, requests = page_times(client, warm_up, measured, algorithm, probe)
                page_rows += page_table_rows(label, algorithm, requests, probe)
                if threads == args.threads[0]:
                    notes.append(
                        f"{algorithm}: warm-up request {cold * 1e3:.0f} ms"
                        + (" (the process's first: loads and verifies the models it needs "
                           "from the registry)" if algorithm == algorithms[0] else
                           " (every model was loaded after the first warm-up)"))
                    variants = Counter(r.variant for r in requests if r.predicted)
                    if variants:
                        notes.append(f"{algorithm}: model variant used, by the patients' "
                                     "consent: " + ", ".join(f"{v} {n}" for v, n in
                                                           variants.most_common()))
    if probe.installed and not any(r.predicted for r in probe.history):
        raise NotMeasurable("the patient page computed no predictions for any patient (no "
                            "ranking, no explanations): its time is not the one the target is "
                            "about")

    print(f"patient page, {args.repeats} requests, each a different patient (milliseconds). "
          "'of which predictions': the view's patient_predictions call (ranking, SHAP per arm), "
          "timed inside the same requests")
    print_table(["threads", "page", "requests", "median", "p95", "min", "max",
                 "of which predictions (median)", "KiB"], page_rows)
    for note in notes:
        print(f"  {note}")
    if not probe.installed:
        print("  (decision_support.predictions.views has no patient_predictions: whether the "
              "pages computed predictions could not be checked)")
    print()

    api_rows = [ms_row(f"?algorithm={algorithm}", api_times(client.user, measured, algorithm))
                for algorithm in algorithms]
    print(f"API explanations, GET /api/patients/<pseudonym>/explanations/ (bearer token), "
          f"{args.repeats} requests, each a different patient (milliseconds)")
    print_table(["explained by", "requests", "median", "p95", "min", "max"], api_rows)
    print()

    try:
        url = reverse("model_detail", args=[run_row.pk, MODEL_PAGE_ARM])
    except NoReverseMatch:
        print("model page: no URL named 'model_detail' (/runs/<run>/arms/<arm>/) yet, not timed")
        return
    cold_start = time.perf_counter()
    response = get(client, url, "the model page")
    cold = time.perf_counter() - cold_start
    if response.status_code != 200:
        print(f"model page {url}: status {response.status_code}, not timed")
        return
    times, sizes = [], []
    gc.collect()
    for _ in range(args.repeats):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        sizes.append(len(response.content))
    print(f"model page {url}, {args.repeats} requests (milliseconds)")
    print_table(["page", "requests", "median", "p95", "min", "max", "KiB"],
                [ms_row(url, times, [f"{np.median(sizes) / 1024:.0f}"])])
    print(f"  warm-up request {cold * 1e3:.0f} ms")


def cohort_details(args) -> str:
    """The header's cohort: size, seed, training seed and training subset."""
    return (f"cohort of {args.patients:,} (seed {args.seed}), training seed {TRAINING_SEED}"
            + (f" on the first {args.train_patients:,} patients" if args.train_patients else ""))


def train(cohort, train_patients: int | None):
    """``training_run_create`` for the cohort; with ``train_patients``, the suite is trained on
    the cohort's first patients only (``train_suite`` wrapped, as ``tests/trained_runs`` does)."""
    from unittest import mock

    from decision_support.registry import services
    from models.training import train_suite

    def first_patients(patients, *, truth=None, permitted=None, **options):
        keep = patients.index[:train_patients]
        return train_suite(patients.loc[keep],
                           truth=None if truth is None else truth.loc[keep],
                           permitted=permitted and {v: p.loc[keep] for v, p in permitted.items()},
                           **options)

    with mock.patch.object(services, "train_suite", first_patients if train_patients
                           else train_suite):
        return services.training_run_create(cohort=cohort, seed=TRAINING_SEED)


def api_times(user, measured: list[str], algorithm: str) -> list[float]:
    """The API's explanations of every ranked arm for each patient, warm (one untimed request
    first), through the bearer-token path a script takes."""
    from django.test import Client

    from decision_support.accounts.tokens import api_token_create

    _, token = api_token_create(user=user, name=f"benchmark {algorithm}")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(pseudonym):
        response = client.get(f"/api/patients/{pseudonym}/explanations/",
                              {"algorithm": algorithm})
        if response.status_code != 200 or not response.json()["explanations"] and \
                response.json()["status"] == "ok":
            raise NotMeasurable(f"the API answered {response.status_code} for {pseudonym}")
        return response

    get(measured[0])
    times = []
    gc.collect()
    for pseudonym in measured:
        start = time.perf_counter()
        get(pseudonym)
        times.append(time.perf_counter() - start)
    return times


@dataclass
class Request:
    seconds: float
    size: int
    status: int
    predicted: bool = False
    predictions_seconds: float = 0.0
    variant: str | None = None


class PredictionsProbe:
    """Wraps the view's ``patient_predictions`` to time it inside each request and to see
    whether the page computed any predictions (a patient without consent gets none)."""

    def __init__(self):
        self.calls: list[tuple[float, object]] = []
        self.history: list[Request] = []
        try:
            from decision_support.predictions import views
        except ImportError:
            views = None
        self.installed = callable(getattr(views, "patient_predictions", None))
        if self.installed:
            original = views.patient_predictions

            @functools.wraps(original)
            def timed(*args, **kwargs):
                start = time.perf_counter()
                result = original(*args, **kwargs)
                self.calls.append((time.perf_counter() - start, result))
                return result

            views.patient_predictions = timed

    def request(self, client, url: str) -> Request:
        self.calls.clear()
        start = time.perf_counter()
        response = get(client, url, "the patient page")
        seconds = time.perf_counter() - start
        result = Request(seconds=seconds, size=len(response.content), status=response.status_code)
        results = [r for _, r in self.calls if r is not None]
        if results:
            result.predicted = True
            result.predictions_seconds = sum(t for t, _ in self.calls)
            result.variant = getattr(results[0], "variant", None)
        self.history.append(result)
        return result


def page_times(client, warm_up: str, measured: list[str], algorithm: str, probe):
    from django.urls import reverse

    query = f"?algorithm={algorithm}"
    first = probe.request(client, reverse("patient_detail", args=[warm_up]) + query)
    if first.status == 404:
        statuses = {probe.request(client, reverse("patient_detail", args=[p]) + query).status
                    for p in measured[:10]}
        if statuses == {404}:
            raise NotMeasurable("/patients/<pseudonym>/ answers 404 for every patient tried")
    if first.status != 200:
        raise NotMeasurable(f"the patient page answered {first.status} for {warm_up}")
    warm_every_model()
    requests, not_ok = [], {}
    gc.collect()
    for pseudonym in measured:
        request = probe.request(client, reverse("patient_detail", args=[pseudonym]) + query)
        requests.append(request)
        if request.status != 200:
            not_ok[pseudonym] = request.status
    if not_ok:
        raise NotMeasurable(f"the patient page answered other than 200 for {len(not_ok)} of "
                            f"{len(measured)} patients: {dict(list(not_ok.items())[:5])}")
    return first.seconds, requests


def warm_every_model() -> None:
    """Load every model of the newest run, and build its explainer, as the warm-up request did
    for the variant its patient's consent selected: a later patient whose consent selects
    another variant must not pay the loading inside the timed requests."""
    from decision_support.registry.loading import fitted_model
    from decision_support.registry.models import TrainedModel

    for row in TrainedModel.objects.all():
        fitted_model(row).explainer


def page_table_rows(label: str, algorithm: str, requests: list, probe) -> list[list[str]]:
    """One row for all requests; where some pages had no predictions, one more for the pages
    that had them (those are the pages the target is about)."""
    def row(name, chosen):
        predicted = [r.predictions_seconds for r in chosen if r.predicted]
        inner = f"{np.median(predicted) * 1e3:.1f}" if predicted else ("none" if probe.installed
                                                                        else "?")
        return [label, *ms_row(name, [r.seconds for r in chosen],
                                [inner, f"{np.median([r.size for r in chosen]) / 1024:.0f}"])]

    rows = [row(f"?algorithm={algorithm}", requests)]
    with_predictions = [r for r in requests if r.predicted]
    if probe.installed and 0 < len(with_predictions) < len(requests):
        rows.append(row("  of these, with predictions", with_predictions))
    return rows


def profile(client, args, pseudonyms: list[str]) -> None:
    import cProfile
    import pstats

    from django.urls import reverse

    query = f"?algorithm={args.profile_algorithm}"
    page_times(client, pseudonyms[0], pseudonyms[1:2], args.profile_algorithm,
               PredictionsProbe())  # warm, checked
    from threadpoolctl import threadpool_limits

    profiler = cProfile.Profile()
    with threadpool_limits(limits=args.threads[0]):
        profiler.enable()
        for pseudonym in pseudonyms[1:]:
            client.get(reverse("patient_detail", args=[pseudonym]) + query)
        profiler.disable()
    if args.profile_out:
        profiler.dump_stats(args.profile_out)
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
