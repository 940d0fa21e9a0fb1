"""Patient list with search and filters: ``GET /cohorts/<id>/patients/?...`` through Django's
test client, warm, on a 5,000-patient cohort (``--patients 100000`` for a large one).

Run from the repository root:

    .venv/bin/python benchmarks/bench_patient_list.py
    scripts/with-postgres .venv/bin/python benchmarks/bench_patient_list.py   # on PostgreSQL

As ``bench_patient_page.py`` does, it never touches the developer's database (DATA_DIR in a
temporary folder, or a throw-away PostgreSQL database), migrates, generates the cohort and trains
the default suite (timed once, for information), and signs an educator in.

Then, each ``--repeats`` times, the median, p95, min and max milliseconds of:

- the list without a filter: the first page, the last page and the middle one by key (the
  ``?after=<case number>`` its links carry) and the last by number (``?page=N``, the old links,
  an offset); and with each value filter, the consent filter and the search (these read the
  consent of every patient the values match), the last page of a filter by key too;
- the filters on the ranking: the first request after training (it stores every patient's
  ranking summary, ``CaseRanking``; timed once), then warm requests (they read the stored rows);
- the first ranking request after one patient's consent changed (one ranking computed again);
- for comparison, ``patient_ranking`` (what a patient page computes) for 100 patients, and that
  time scaled to the cohort: what a list computing every ranking per request would cost.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import django_sandbox, django_start, p95, print_table, signed_in_client, summarize
from bench_patient_page import cohort_details, train

DEFAULT_PATIENTS = 5_000
DEFAULT_COHORT_SEED = 20261125
SAMPLE_RANKINGS = 100


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS,
                        help="cohort size (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_COHORT_SEED,
                        help="cohort seed (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=15,
                        help="requests per query (default: %(default)s)")
    parser.add_argument("--train-patients", type=int, metavar="N",
                        help="train the suite on the cohort's first N patients only (default: "
                             "all; see bench_patient_page.py)")
    args = parser.parse_args(argv)
    with django_sandbox("bench-patient-list-"):
        run(args)


def _ms(label: str, times: list[float], found: str) -> list[str]:
    s = summarize(times)
    return [label, str(len(times)), f"{s['median'] * 1e3:.1f}",
            f"{p95(times) * 1e3:.1f}", f"{s['min'] * 1e3:.1f}",
            f"{s['max'] * 1e3:.1f}", found]


def run(args) -> None:
    setup = django_start("patient list with filters: GET /cohorts/<id>/patients/?... through "
                         "django.test.Client", cohort_details(args))
    import re

    from django.urls import reverse

    from decision_support.cohorts.models import Patient
    from decision_support.cohorts.services import cohort_generate
    from decision_support.consent.reads import consented_patient
    from decision_support.consent.services import consent_withdraw
    from decision_support.lib.vocabulary import ConsentClass, Purpose
    from decision_support.predictions.models import CaseRanking
    from decision_support.predictions.selectors import patient_ranking

    with setup.timed("cohort_generate"):
        cohort = cohort_generate(n_patients=args.patients, seed=args.seed, name="benchmark")
    with setup.timed("training_run_create"):
        training = train(cohort, args.train_patients)
    print(f"set-up (once): {setup}")
    print()

    client = signed_in_client(cohort.course)
    user = client.user
    url = reverse("patient_list", args=[cohort.pk])

    def get(query: dict) -> tuple[float, str]:
        start = time.perf_counter()
        response = client.get(url, query)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            sys.exit(f"bench_patient_list: {query} answered {response.status_code}")
        found = re.search(r'id="match-count"><strong>(\d+)</strong>', response.content.decode())
        return elapsed, found.group(1)

    rows = []

    def timed(label: str, query: dict) -> None:
        results = [get(query) for _ in range(args.repeats)]
        rows.append(_ms(label, [t for t, _ in results], results[-1][1]))

    last_page = (args.patients + 49) // 50
    timed("no filter, page 1", {})
    timed(f"no filter, page {last_page // 2 + 1} by key", {"after": last_page // 2 * 50})
    timed(f"no filter, page {last_page} by key", {"after": (last_page - 1) * 50})
    timed(f"no filter, page {last_page} by number (old link)", {"page": last_page})
    last = re.search(r'after=(\d+)">Last</a>', client.get(url, {"sex": "female"}).content.decode())
    timed("sex=female, last page by key", {"sex": "female",
                                           **({"after": last.group(1)} if last else {})})
    timed("search: Case 2500", {"q": "Case 2500"})
    for name, value in [("arm", "ssri"), ("ancestry", "AFR"), ("sex", "female"),
                        ("age_band", "45-59"), ("cyp2c19_phenotype", "PM"),
                        ("consent_withheld", "on"), ("small_sample", "on")]:
        timed(f"{name}={value}", {name: value})
    first, found = get({"algorithms_disagree": "on"})
    rows.append(_ms("ranking filter, first request (stores the rankings)", [first], found))
    stored = CaseRanking.objects.filter(run=training).count()
    for name in ("algorithms_disagree", "model_wrong"):
        timed(f"{name}=on (stored rankings)", {name: "on"})
    timed("sex=female & model_wrong=on", {"sex": "female", "model_wrong": "on"})
    patient = CaseRanking.objects.filter(run=training, variant="full").first().patient
    consent_withdraw(patient=patient, data_class=ConsentClass.GENETIC, purpose=Purpose.EDUCATION,
                     actor=user)
    after, found = get({"model_wrong": "on"})
    rows.append(_ms("ranking filter after one consent change", [after], found))

    print(f"patient list, milliseconds per request ({args.repeats} requests per row)")
    print_table(["query", "requests", "median", "p95", "min", "max", "patients found"], rows)
    print(f"  rankings stored on the first ranking request: {stored:,} of {args.patients:,} "
          "patients (the others' consent withholds clinical data)")

    counts = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        Patient.objects.filter(cohort=cohort).count()
        counts.append(time.perf_counter() - start)
    print(f"  for comparison: COUNT(*) of the cohort's patients, which every unfiltered request "
          f"ran before issue 18 (the count now comes from the cohort), median "
          f"{summarize(counts)['median'] * 1e3:.1f} ms")

    sample = list(Patient.objects.filter(cohort=cohort).order_by("pk")[:SAMPLE_RANKINGS])
    consented = [consented_patient(p, purpose=Purpose.EDUCATION) for p in sample]
    patient_ranking(consented[0], training)  # load the models
    times = []
    for c in consented:
        start = time.perf_counter()
        patient_ranking(c, training)
        times.append(time.perf_counter() - start)
    median = summarize(times)["median"]
    print(f"  for comparison: patient_ranking (a patient page's ranking), median "
          f"{median * 1e3:.1f} ms per patient over {len(times)} patients; every patient of the "
          f"cohort per request would take about {median * args.patients:.1f} s")


if __name__ == "__main__":
    main()
