"""A cohort's aggregates as its pages show them, and what each patient's consent permits,
computed once per consent version.

A stored cohort's data never changes; what a purpose may count changes only when consent does
(a decision, an erasure: each raises ``Cohort.consent_version`` in its transaction, through
``consent.services.consent_version_raise``) or when a consent period starts or ends. So the
overview's and the comparison's counts, rates and charts (read through the consent gate,
``consent.reads.consented_cohort``, small cells suppressed) are stored per cohort and purpose
(``CohortAggregate``) with the version they were read at and the next period boundary, and
read back until either moves. Every page that shows them reads ``cohort_aggregates``, so
each shows the same numbers. The consent read they come from is stored beside them, one byte per
patient (``cohort_permitted``): the patient list's filters at 100,000 patients read it instead of
300,000 consent records.

The version is read before the data: a decision recorded meanwhile leaves a snapshot marked
with the older version, which the next read computes again.

Computing them takes seconds at 100,000 patients, so a consent change does not leave it to the
next page: once its transaction commits (``aggregates_refresh_later``), a task (django-tasks; a
``db_worker`` carries it out) computes again the purposes stored for the cohort
(``aggregates_refresh``). A page that comes first computes them itself, so numbers on screen are
never stale. Many decisions in a row queue one task each, and each but the newest finds the
cohort's version moved on and does nothing: one computation, not one per decision.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import pandas as pd
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from decision_support.consent.reads import consented_cohort
from decision_support.consent.selectors import (PermittedByNumber, carried_over_decisions,
                                                next_consent_boundary)
from decision_support.lib.charts import Chart
from decision_support.lib.suppression import suppress_count
from decision_support.lib.vocabulary import ConsentClass

from .models import Cohort, CohortAggregate
from .selectors import cohort_overview_charts, cohort_summary, patient_sites, site_summary


@dataclass(frozen=True)
class CohortAggregates:
    summary: dict
    charts: list[Chart]
    left_out: dict[str, int | str]  # consent class -> patients it leaves out, suppressed
    classes_left_out: list[str]  # the consent classes that leave anyone out
    sites: list[dict]  # a multi-site cohort's sites side by side; [] without sites
    carried_over: int  # consent decisions carried over from earlier copies

    @property
    def left_out_labelled(self) -> list[tuple[str, int | str]]:
        return [(ConsentClass(c).label, n) for c, n in self.left_out.items()]

    @property
    def charts_by_id(self) -> dict[str, Chart]:
        return {chart.id: chart for chart in self.charts}


def _compute(cohort: Cohort, purpose: str, now) -> tuple[dict, bytes]:
    consented = consented_cohort(cohort, purpose=purpose, now=now)
    labels = cohort.site_labels
    numbers = pd.Series(dict(cohort.patients.values_list("pk", "number")), dtype="int64")
    permitted = PermittedByNumber.from_table(consented.permitted, numbers).codes
    return {
        "summary": cohort_summary(consented.frame),
        "charts": [asdict(chart) for chart in cohort_overview_charts(consented.frame)],
        "left_out": {c: suppress_count(n) for c, n in consented.left_out.items()},
        "classes_left_out": [c for c, n in consented.left_out.items() if n],
        "sites": (site_summary(consented.frame, patient_sites(cohort.patients.all()), labels)
                  if labels else []),
        "carried_over": carried_over_decisions(cohort),
    }, permitted


def _read(content: dict) -> CohortAggregates:
    return CohortAggregates(**{**content, "charts": [Chart(**c) for c in content["charts"]]})


def _version(cohort_id: int) -> int | None:
    """The cohort's consent version as committed now (None: the cohort is gone)."""
    return Cohort.objects.filter(pk=cohort_id).values_list("consent_version", flat=True).first()


def cohort_aggregates(cohort: Cohort, *, purpose: str) -> CohortAggregates:
    """``cohort``'s aggregates for ``purpose``: the stored ones while the cohort's consent
    version and the gate's answers still hold, else computed and stored."""
    return _read(_held(cohort, purpose, "content"))


def cohort_permitted(cohort: Cohort, *, purpose: str) -> PermittedByNumber:
    """What each of ``cohort``'s patients permits for ``purpose`` now, by case number: the
    consent read stored with the aggregates, held and computed again as they are."""
    return PermittedByNumber(bytes(_held(cohort, purpose, "permitted")))


def _held(cohort: Cohort, purpose: str, field: str):
    """The stored ``field`` ("content" or "permitted") of ``cohort``'s aggregates for
    ``purpose`` while the cohort's consent version and the gate's answers still hold, else
    computed and stored with the rest."""
    now = timezone.now()
    version = _version(cohort.pk)
    stored = CohortAggregate.objects.filter(cohort=cohort, purpose=purpose,
                                            consent_version=version).values_list(
        field, "valid_until").first()
    if stored is not None and (stored[1] is None or now < stored[1]):
        return stored[0]
    content, permitted = _store(cohort, purpose, version, now)
    return content if field == "content" else permitted


def _store(cohort: Cohort, purpose: str, version: int, now) -> tuple[dict, bytes]:
    """Compute ``cohort``'s aggregates and consent read for ``purpose`` as of ``version`` and
    store them, unless aggregates of a newer version are stored meanwhile (a page and a task may
    race); returns what was computed."""
    content, permitted = _compute(cohort, purpose, now)
    # Through JSON here, so that the first page shows exactly what the next ones read back.
    content = json.loads(json.dumps(content, allow_nan=False))
    fields = {"consent_version": version, "computed_at": now, "content": content,
              "permitted": permitted,
              "valid_until": next_consent_boundary(cohort, purpose=purpose, now=now)}
    with transaction.atomic():
        if not CohortAggregate.objects.filter(cohort=cohort, purpose=purpose,
                                              consent_version__lte=version).update(**fields):
            CohortAggregate.objects.get_or_create(cohort=cohort, purpose=purpose, defaults=fields)
    return content, permitted


@task()
def aggregates_refresh(cohort_id: int, version: int) -> list[str]:
    """The task worker's side: compute again the aggregates stored for the cohort at an older
    version than ``version`` (the one the consent change raised it to); returns their purposes.
    Does nothing once the cohort's version has moved past ``version`` (a newer change queued its
    own task) or the cohort is gone."""
    if _version(cohort_id) != version:
        return []
    cohort = Cohort.objects.get(pk=cohort_id)
    purposes = list(CohortAggregate.objects.filter(cohort=cohort, consent_version__lt=version)
                    .order_by("purpose").values_list("purpose", flat=True))
    now = timezone.now()
    for purpose in purposes:
        _store(cohort, purpose, version, now)
    return purposes


def aggregates_refresh_later(cohort_ids) -> None:
    """Queue ``aggregates_refresh`` for each of ``cohort_ids`` that has stored aggregates, once
    the current transaction commits. Called in the transaction that raised their consent
    version (``consent.services.consent_version_raise``), after raising it. If queueing fails,
    the decision stands and the next page computes the aggregates itself."""
    versions = list(Cohort.objects.filter(pk__in=cohort_ids, aggregates__isnull=False)
                    .distinct().values_list("pk", "consent_version"))
    for cohort_id, version in versions:
        transaction.on_commit(lambda c=cohort_id, v=version: aggregates_refresh.enqueue(c, v),
                              robust=True)
