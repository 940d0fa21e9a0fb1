"""A cohort's aggregates as its pages show them, computed once per consent version.

A stored cohort's data never changes; what a purpose may count changes only when consent does
(a decision, an erasure: each raises ``Cohort.consent_version`` in its transaction, through
``consent.services.consent_version_raise``) or when a consent period starts or ends. So the
overview's and the comparison's counts, rates and charts (read through the consent gate,
``consent.reads.consented_cohort``, small cells suppressed) are stored per cohort and purpose
(``CohortAggregate``) with the version they were read at and the next period boundary, and
read back until either moves. Every page that shows them reads ``cohort_aggregates``, so
each shows the same numbers.

The version is read before the data: a decision recorded meanwhile leaves a snapshot marked
with the older version, which the next read computes again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone

from decision_support.consent.reads import consented_cohort
from decision_support.consent.selectors import carried_over_decisions, next_consent_boundary
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


def _compute(cohort: Cohort, purpose: str, now) -> dict:
    consented = consented_cohort(cohort, purpose=purpose, now=now)
    labels = cohort.site_labels
    return {
        "summary": cohort_summary(consented.frame),
        "charts": [asdict(chart) for chart in cohort_overview_charts(consented.frame)],
        "left_out": {c: suppress_count(n) for c, n in consented.left_out.items()},
        "classes_left_out": [c for c, n in consented.left_out.items() if n],
        "sites": (site_summary(consented.frame, patient_sites(cohort.patients.all()), labels)
                  if labels else []),
        "carried_over": carried_over_decisions(cohort),
    }


def _read(content: dict) -> CohortAggregates:
    return CohortAggregates(**{**content, "charts": [Chart(**c) for c in content["charts"]]})


def cohort_aggregates(cohort: Cohort, *, purpose: str) -> CohortAggregates:
    """``cohort``'s aggregates for ``purpose``: the stored ones while the cohort's consent
    version and the gate's answers still hold, else computed and stored."""
    now = timezone.now()
    version = Cohort.objects.filter(pk=cohort.pk).values_list("consent_version", flat=True).get()
    stored = CohortAggregate.objects.filter(cohort=cohort, purpose=purpose,
                                            consent_version=version).first()
    if stored is not None and (stored.valid_until is None or now < stored.valid_until):
        return _read(stored.content)
    # Through JSON here, so that the first page shows exactly what the next ones read back.
    content = json.loads(json.dumps(_compute(cohort, purpose, now), allow_nan=False))
    with transaction.atomic():
        CohortAggregate.objects.update_or_create(
            cohort=cohort, purpose=purpose,
            defaults={"consent_version": version, "computed_at": now, "content": content,
                      "valid_until": next_consent_boundary(cohort, purpose=purpose, now=now)})
    return _read(content)
