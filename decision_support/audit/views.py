"""The audit viewer: the log newest first, filtered, with the chain's status and a summary.

Access (data stewards and ethics reviewers) and the one audit entry of each read are the access
gate's (``accounts/access.py``, policy ``audit_log``); this view only tells it which filters were
used.
"""

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render

from decision_support.accounts.access import audit_context
from decision_support.accounts.roles import Role
from decision_support.lib.vocabulary import Purpose
from decision_support.query_parameters import page_parameter

from .forms import AuditFilterForm
from .models import AuditEntry, Outcome
from .selectors import object_names
from .verify import verify_chain

ENTRIES_PER_PAGE = 50


def audit_log(request):
    form = AuditFilterForm(request.GET)
    valid = form.is_valid()
    # An invalid filter shows its error and no entries, rather than an unfiltered log that could be
    # mistaken for the filtered one.
    entries = AuditEntry.objects.filter(form.query()) if valid else AuditEntry.objects.none()
    with page_parameter():
        page = Paginator(entries.order_by("-sequence"), ENTRIES_PER_PAGE).page(
            request.GET.get("page", 1))
    names = object_names(page.object_list)
    for entry in page.object_list:
        entry.detail_lines = [(key, _shown(entry.detail[key])) for key in sorted(entry.detail)]
        # Codes as the pages name them ("TRAIN" is education, not model training); a value
        # the vocabulary does not know is shown as stored.
        entry.purpose_label = _label(Purpose, entry.purpose)
        entry.role_label = ", ".join(_label(Role, role) for role in entry.role.split(",") if role)
        entry.object_name = names.get((entry.object_type, entry.object_ref))
    audit_context(request, object_type="audit_log",
                  filters=form.filters() if valid else {},
                  invalid=sorted(form.errors) if not valid else [], page=page.number)
    return render(request, "audit/log.html", {
        "form": form, "page": page, "chain": verify_chain(),
        "summary": _summary(entries), "outcomes": Outcome.choices,
        "filtered": valid and bool(form.filters()),
    })


def _shown(value) -> str:
    """A stored detail value as a reader reads it: lists comma-separated, nested keys named, no
    JSON quoting (the stored strings already have their control characters escaped)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "–"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_shown(value[key])}" for key in sorted(value)) or "none"
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value) or "none"
    return str(value)


def _label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else value


def _summary(entries) -> list[dict]:
    """Counts by action (rows) and outcome (columns) over the filtered entries."""
    counts = entries.order_by().values("action", "outcome").annotate(n=Count("id"))
    rows: dict[str, dict] = {}
    for row in counts:
        rows.setdefault(row["action"], {})[row["outcome"]] = row["n"]
    return [{"action": action,
             "counts": [by_outcome.get(value, 0) for value, _ in Outcome.choices],
             "total": sum(by_outcome.values())}
            for action, by_outcome in sorted(rows.items())]
