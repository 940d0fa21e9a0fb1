"""Writes: a differentially private aggregate export, charged to the user's privacy budget.

``aggregate_export_create`` is the only way an export is released. In one transaction it locks
the user's row (two requests of one user cannot both pass the budget check, whichever copies of
the data they ask), checks the budget of the cohort's data (shared by every copy, see ``models``),
computes the release, appends the spend to the ledger and writes the audit entry; if any step
fails nothing is spent and nothing is logged as released. A refused query (budget exhausted)
spends nothing and writes a ``denied`` audit entry, committed before the refusal is raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Cohort
from decision_support.lib.vocabulary import Purpose

from .aggregates import AGGREGATES, compute_aggregate
from .models import PrivacySpend
from .selectors import (BUDGET_PER_USER_PER_COHORT, EPSILON_CHOICES, budget_spent,
                        export_frame)

EXPORT_ACTION = "export.aggregate"
BUDGET_EXCEEDED = ("Refused: this query needs epsilon {epsilon} but only {remaining} of your "
                   "privacy budget of {budget} for this cohort's data (shared by every copy of "
                   "it) is left. Nothing was spent.")
BAD_EPSILON = "epsilon must be one of {choices}; got {value!r}"
BAD_PURPOSE = "aggregate exports are for research export ({expected}) only; got {value!r}"


class PrivacyBudgetExceeded(Exception):
    """The query would spend more than the budget left; nothing was spent."""


@dataclass(frozen=True)
class AggregateExport:
    rows: list[list]
    filename: str
    epsilon: Decimal
    remaining: Decimal



def aggregate_export_create(*, actor, cohort: Cohort, aggregate: str, epsilon: Decimal,
                            purpose: str) -> AggregateExport:
    """Release ``aggregate`` of ``cohort`` at ``epsilon`` to ``actor``, charged to its budget.

    Raises
    ------
    PrivacyBudgetExceeded
        When the spend would exceed ``BUDGET_PER_USER_PER_COHORT``; nothing is spent and a
        ``denied`` audit entry is written.
    ValueError
        For an unknown aggregate, an epsilon outside ``EPSILON_CHOICES`` or another purpose than
        research export.
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"unknown aggregate {aggregate!r}")
    if not isinstance(epsilon, Decimal) or epsilon not in EPSILON_CHOICES:
        raise ValueError(BAD_EPSILON.format(choices=", ".join(map(str, EPSILON_CHOICES)),
                                            value=epsilon))
    if purpose != Purpose.RESEARCH_EXPORT:
        raise ValueError(BAD_PURPOSE.format(expected=Purpose.RESEARCH_EXPORT, value=purpose))
    audit = {"actor": actor, "purpose": purpose,
             "action": EXPORT_ACTION, "object_type": "cohort", "object_ref": str(cohort.uid)}
    with transaction.atomic():
        get_user_model().objects.select_for_update().get(pk=actor.pk)
        spent = budget_spent(user=actor, cohort=cohort)
        remaining = BUDGET_PER_USER_PER_COHORT - spent
        if epsilon > remaining:
            audit_record(**audit, outcome="denied", detail={
                "aggregate": aggregate, "epsilon": str(epsilon), "reason": "budget exceeded",
                "spent": str(spent), "budget": str(BUDGET_PER_USER_PER_COHORT)})
            refusal = BUDGET_EXCEEDED.format(epsilon=epsilon, remaining=remaining,
                                             budget=BUDGET_PER_USER_PER_COHORT)
        else:
            frame = export_frame(cohort, aggregate, purpose=purpose)
            rows = compute_aggregate(frame, aggregate, epsilon=float(epsilon))
            spend = PrivacySpend(user=actor, cohort=cohort, fingerprint=cohort.fingerprint,
                                 epsilon=epsilon, query=aggregate)
            spend.full_clean()
            spend.save()
            audit_record(**audit, outcome="allowed", detail={
                "aggregate": aggregate, "epsilon": str(epsilon),
                "spent": str(spent + epsilon), "budget": str(BUDGET_PER_USER_PER_COHORT)})
            header = ["cohort", "aggregate", "epsilon", *rows[0]]
            body = [[cohort.name, aggregate, str(epsilon), *row] for row in rows[1:]]
            return AggregateExport(
                rows=[header, *body], epsilon=epsilon, remaining=remaining - epsilon,
                filename=f"cohort-{cohort.pk}-{aggregate}-epsilon-{epsilon}.csv")
    raise PrivacyBudgetExceeded(refusal)
