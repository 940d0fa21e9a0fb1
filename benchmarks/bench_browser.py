"""Browser load of every page (warm) at 5,000 and 100,000 patients: Debian's Chromium, driven by
Playwright, against gunicorn serving the app in production mode; the times are the browser's own
Navigation Timing entry.

Run from the repository root:

    .venv/bin/python benchmarks/bench_browser.py                                 # SQLite
    scripts/with-postgres .venv/bin/python benchmarks/bench_browser.py           # PostgreSQL
    .venv/bin/python benchmarks/bench_browser.py --sizes 5000 --repeats 10

It never touches the developer's database or files (``_common.django_sandbox``: a temporary
DATA_DIR with the SQLite file, or a throw-away PostgreSQL database). The app runs as a
deployment runs it (``scripts/serve``): production mode (``benchmarks/browser_settings.py``: new
random keys, plain HTTP on the loopback), ``collectstatic`` into the temporary folder (WhiteNoise
serves it compressed, under hashed names, cached), migrate, then gunicorn with
``decision_support/gunicorn.conf.py`` (``--workers`` processes; its ``when_ready`` loads every
run's models before the workers start). Set-up steps are timed once, for information.

Per size (``--sizes``), as ``bench_pages.py`` does: two cohorts of that size stored (seeds
``--seed`` and ``--seed`` + 1, for the comparison page) and, at the sizes in ``--train-at``, the
default suite trained on the first (on its first ``--train-patients`` patients if given, as
``bench_patient_page.py`` does). An educator of the cohorts' course signs in through the sign-in
form in a new browser context (empty cache), then each page is loaded once ("first": the page's
static files are fetched) and ``--repeats`` times warm, each load waiting for the load event.
From each load's ``performance.getEntriesByType('navigation')[0]``:

- load: ``loadEventEnd - startTime``, from the start of the navigation to the end of the load
  event (the HTML, its styles and scripts, the charts drawn by scripts that run before it);
- server and network: ``responseStart - requestStart``, from sending the request to the first
  byte of the answer (the server's time plus the loopback).

Pages: the cohort overview, the cohort comparison, the patient list (first page); with a run,
the run overview, the model page, fairness page of one arm (ssri) and, of the first patient by
case number whose consent lets the models rank the arms, the patient page explained by each
algorithm (``?algorithm=``) and the what-if page (as opened). Median, p95, min and max in
milliseconds per page and size, and the HTML's size.

With a run, the same patient's API explanations (``GET /api/patients/<pseudonym>/explanations/``
with a bearer token, per algorithm) from the same gunicorn, timed by a Python client from sending
the request to reading the last byte (the server's time plus the loopback): one warm-up request,
then ``--repeats``.

Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

from _common import (REPO_ROOT, course_member, django_sandbox, django_start, p95, print_table,
                     summarize)
from bench_pages import DEFAULT_SEED, MODEL_PAGE_ARM, page_urls, store_pair
from bench_patient_page import TRAINING_SEED, train

DEFAULT_SIZES = [5_000, 100_000]
NAVIGATION = "performance.getEntriesByType('navigation')[0]"
# How long the server may take to start (imports, migrations done, every run's models loaded).
SERVER_START_SECONDS = 600


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES,
                        help="cohort sizes (default: %(default)s)")
    parser.add_argument("--train-at", type=int, nargs="*", default=[5_000],
                        help="sizes at which a run is trained for the run and patient pages "
                             "(default: %(default)s)")
    parser.add_argument("--train-patients", type=int, metavar="N",
                        help="train on the cohort's first N patients only (default: all)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="first cohort's seed (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=20,
                        help="warm loads per page (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn worker processes, WEB_CONCURRENCY (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.repeats < 2:
        parser.error("--repeats must be at least 2")
    if args.workers < 1:
        parser.error("--workers must be positive")
    with django_sandbox("bench-browser-"):
        os.environ.update(
            DJANGO_PRODUCTION="1", DJANGO_SETTINGS_MODULE="benchmarks.browser_settings",
            DJANGO_SECURE_SSL_REDIRECT="0", WEB_CONCURRENCY=str(args.workers),
            **{key: secrets.token_urlsafe(50)
               for key in ("DJANGO_SECRET_KEY", "PSEUDONYM_KEY", "AUDIT_KEY")})
        run(args)


def run(args) -> None:
    import gunicorn

    setup = django_start(
        "browser load: Chromium (Playwright) against gunicorn, production mode, warm, as an "
        "educator",
        f"gunicorn {gunicorn.__version__}, {args.workers} workers; cohorts seeds {args.seed} and "
        f"{args.seed + 1}, training seed {TRAINING_SEED}"
        + (f" on the first {args.train_patients:,} patients" if args.train_patients else ""))
    from django.core.management import call_command
    from django.db import connections
    from django.urls import reverse

    with setup.timed("collectstatic"):
        call_command("collectstatic", interactive=False, verbosity=0)
    from decision_support.accounts.tokens import api_token_create

    targets = []
    for size in args.sizes:
        with setup.timed(f"store 2 x {size:,}"):
            a, b, _ = store_pair(size, args.seed)
        run_row = None
        if size in args.train_at:
            with setup.timed(f"train on {size:,}"):
                run_row = train(a, args.train_patients)
        password = secrets.token_urlsafe(16)
        user = course_member(a.course, username=f"benchmark_{size}", password=password)
        token = api_token_create(user=user, name="benchmark")[1] if run_row else None
        targets.append((size, user.username, password, *browser_urls(a, b, run_row), token))
    print(f"set-up (once, not part of the figures): {setup}")
    print()
    home, login = reverse("home"), reverse("login")
    connections.close_all()  # the server's processes use the database from here on

    loads, servers, api = [], [], []
    with serve(login) as base, browser() as chromium:
        for size, username, password, urls, api_urls, token in targets:
            context = chromium.new_context()
            page = context.new_page()
            sign_in(page, base + home, login, username, password)
            for name, url in urls.items():
                first, load, server, kib = load_times(page, base + url, args.repeats)
                loads.append([f"{size:,}", name, first, *load, kib])
                servers.append([f"{size:,}", name, *server])
            context.close()
            for algorithm, url in api_urls.items():
                api.append([f"{size:,}", algorithm, *figures(api_times(base + url, token,
                                                                       args.repeats))])
        version = chromium.version
    print(f"load event (loadEventEnd - startTime), Chromium {version}: the first load after "
          f"signing in, then {args.repeats} warm loads (milliseconds); KiB: the HTML")
    print_table(["patients", "page", "first", "median", "p95", "min", "max", "KiB"], loads)
    print()
    print(f"server and network (responseStart - requestStart), the same {args.repeats} warm loads "
          "(milliseconds)")
    print_table(["patients", "page", "median", "p95", "min", "max"], servers)
    if api:
        print()
        print("API explanations of the patient page's patient, GET /api/patients/<pseudonym>/"
              f"explanations/ (bearer token), {args.repeats} requests after a warm-up, from "
              "sending to the last byte read (milliseconds)")
        print_table(["patients", "explained by", "median", "p95", "min", "max"], api)
    untrained = [f"{size:,}" for size in args.sizes if size not in args.train_at]
    if untrained:
        print(f"  no run at {', '.join(untrained)} patients (--train-at): the run and patient "
              "pages are not loaded there")
    print(f"# load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def browser_urls(a, b, run_row) -> tuple[dict[str, str], dict[str, str]]:
    """``bench_pages``' pages, the patient list and, with a run, the fairness page, the patient
    page per explaining algorithm and the what-if page, by name; and with a run the same
    patient's API explanations by algorithm."""
    from django.urls import reverse

    from models.algorithms import ALGORITHMS

    urls = page_urls(a, b, run_row)
    urls["patient list"] = reverse("patient_list", args=[a.pk])
    api = {}
    if run_row is not None:
        urls["fairness page"] = reverse("model_fairness", args=[run_row.pk, MODEL_PAGE_ARM])
        pseudonym = ranked_patient(a, run_row)
        for algorithm in ALGORITHMS:
            query = f"?algorithm={algorithm}"
            urls[f"patient page, {algorithm}"] = (reverse("patient_detail", args=[pseudonym])
                                                  + query)
            api[algorithm] = reverse("api:api_patient_explanations", args=[pseudonym]) + query
        urls["what-if"] = reverse("patient_what_if", args=[pseudonym])
    return urls, api


def api_times(url: str, token: str, repeats: int) -> list[float]:
    """Milliseconds from sending a request for ``url`` with the bearer ``token`` to reading the
    last byte of its answer, ``repeats`` times after one warm-up request."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            response.read()
        times.append((time.perf_counter() - start) * 1e3)
    return times[1:]


def ranked_patient(cohort, run_row) -> str:
    """The first patient, by case number, whose page ranks the arms (consent to use clinical
    data for education)."""
    from decision_support.consent.reads import consented_patient
    from decision_support.lib.vocabulary import Purpose
    from decision_support.predictions.selectors import patient_ranking

    for patient in cohort.patients.order_by("pk").iterator():
        if patient_ranking(consented_patient(patient, purpose=Purpose.EDUCATION),
                           run_row) is not None:
            return patient.pseudonym
    sys.exit(f"bench_browser: no patient of {cohort.name} can be ranked")


@contextlib.contextmanager
def serve(login_path: str):
    """gunicorn as ``scripts/serve`` starts it, on a loopback port bound here and handed over
    (``fd://``), so no other process can take the port in between and a request sent early waits
    in the socket's queue. Yields the base URL once the sign-in page answers; stops the server
    on exit. Its log goes to ``gunicorn.log`` in DATA_DIR, shown if it fails to start."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.set_inheritable(True)
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    log_path = os.path.join(os.environ["DATA_DIR"], "gunicorn.log")
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "decision_support/gunicorn.conf.py"],
            cwd=REPO_ROOT, env={**os.environ, "GUNICORN_BIND": f"fd://{listener.fileno()}"},
            pass_fds=[listener.fileno()], stdout=log, stderr=subprocess.STDOUT)
    listener.close()
    try:
        try:
            urllib.request.urlopen(base + login_path, timeout=SERVER_START_SECONDS).close()
        except OSError as error:
            with open(log_path, encoding="utf-8", errors="replace") as log:
                sys.exit(f"bench_browser: gunicorn did not serve {login_path} ({error}); its "
                         f"log:\n{log.read()[-4000:]}")
        yield base
    finally:
        server.terminate()
        server.wait()


@contextlib.contextmanager
def browser():
    """Debian's Chromium, launched as the browser tests launch it (``tests/conftest.py``)."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(page, url: str, login_path: str, username: str, password: str) -> None:
    """Open ``url`` and sign in through the form it leads to (as the browser tests do), then
    wait until the browser has left the sign-in page."""
    from types import SimpleNamespace

    from tests.browser.conftest import sign_in as form_sign_in

    form_sign_in(page, url, SimpleNamespace(username=username, raw_password=password))
    try:
        page.wait_for_url(lambda address: urlsplit(address).path != login_path)
    except Exception as error:  # Playwright's TimeoutError: the form did not let us in
        sys.exit(f"bench_browser: signing in as {username} left the browser at {page.url}: "
                 f"{error}")


def load_times(page, url: str, repeats: int):
    """The first load's milliseconds to the end of the load event; then, over ``repeats`` warm
    loads, the load and server-and-network figures (median, p95, min, max) and the HTML's KiB."""
    first = navigate(page, url)
    entries = [navigate(page, url) for _ in range(repeats)]
    load = [e["loadEventEnd"] - e["startTime"] for e in entries]
    server = [e["responseStart"] - e["requestStart"] for e in entries]
    return (f"{first['loadEventEnd'] - first['startTime']:.0f}", figures(load), figures(server),
            f"{entries[-1]['decodedBodySize'] / 1024:.0f}")


def navigate(page, url: str) -> dict:
    """Load ``url``; once its load event has ended, its Navigation Timing entry."""
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200 or response.url != url:
        sys.exit(f"bench_browser: {url} answered "
                 f"{response.status if response else 'nothing'} at {page.url}")
    page.wait_for_function(f"{NAVIGATION}.loadEventEnd > 0")
    return page.evaluate(f"{NAVIGATION}.toJSON()")


def figures(times: list[float]) -> list[str]:
    s = summarize(times)
    return [f"{s['median']:.0f}", f"{p95(times):.0f}", f"{s['min']:.0f}", f"{s['max']:.0f}"]


if __name__ == "__main__":
    main()
