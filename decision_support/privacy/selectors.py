"""Reads for exports: the consented frame of a cohort and the privacy budget left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from decision_support.cohorts.models import Cohort
from decision_support.consent.reads import consent_classes_of, consented_export

from .aggregates import AGGREGATES
from .models import PrivacySpend

# Total epsilon one user may spend on one cohort; with the allowlist below that is, for example,
# three queries at 1.0 or thirty at 0.1.
BUDGET_PER_USER_PER_COHORT = Decimal("3.0")
EPSILON_CHOICES: tuple[Decimal, ...] = (Decimal("0.1"), Decimal("0.5"), Decimal("1.0"))


def needed_classes(aggregate: str) -> frozenset[str]:
    """The consent classes a patient must permit to be counted in ``aggregate``."""
    return consent_classes_of(AGGREGATES[aggregate].variables)


def export_frame(cohort: Cohort, aggregate: str, *, purpose: str,
                 now: dt.datetime | None = None) -> pd.DataFrame:
    """The patients of ``cohort`` whose consent for ``purpose`` covers every class the aggregate
    needs, with only its variables (``consent.reads.consented_export``)."""
    return consented_export(cohort, AGGREGATES[aggregate].variables, purpose=purpose, now=now)


def budget_spent(*, user, cohort: Cohort) -> Decimal:
    return PrivacySpend.objects.spent(user=user, cohort=cohort)


def budget_remaining(*, user, cohort: Cohort) -> Decimal:
    return max(Decimal("0"), BUDGET_PER_USER_PER_COHORT - budget_spent(user=user, cohort=cohort))
