"""Reads for exports: the consented frame of a cohort and the privacy budget left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.selectors import patients_frame
from decision_support.consent.selectors import permitted_classes_by_patient
from decision_support.lib.vocabulary import CONSENT_CLASS_OF
from synthetic_data import DATA_DICTIONARY

from .aggregates import AGGREGATES
from .models import PrivacySpend

# Total epsilon one user may spend on one cohort; with the allowlist below that is, for example,
# three queries at 1.0 or thirty at 0.1.
BUDGET_PER_USER_PER_COHORT = Decimal("3.0")
EPSILON_CHOICES: tuple[Decimal, ...] = (Decimal("0.1"), Decimal("0.5"), Decimal("1.0"))


def needed_classes(aggregate: str) -> frozenset[str]:
    """The consent classes a patient must permit to be counted in ``aggregate``."""
    return frozenset(CONSENT_CLASS_OF[DATA_DICTIONARY[v].data_class]
                     for v in AGGREGATES[aggregate].variables)


def export_frame(cohort: Cohort, aggregate: str, *, purpose: str,
                 now: dt.datetime | None = None) -> pd.DataFrame:
    """The patients of ``cohort`` whose consent for ``purpose`` covers every class the aggregate
    needs, with only its variables. One consent query for the whole cohort."""
    frame = patients_frame(Patient.objects.filter(cohort=cohort))
    permitted = permitted_classes_by_patient(frame.index, purpose=purpose, now=now)
    needs = needed_classes(aggregate)
    keep = [pk for pk in frame.index if needs <= permitted[pk]]
    return frame.loc[keep, list(AGGREGATES[aggregate].variables)]


def budget_spent(*, user, cohort: Cohort) -> Decimal:
    return PrivacySpend.objects.spent(user=user, cohort=cohort)


def budget_remaining(*, user, cohort: Cohort) -> Decimal:
    return max(Decimal("0"), BUDGET_PER_USER_PER_COHORT - budget_spent(user=user, cohort=cohort))
