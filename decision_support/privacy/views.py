"""The differentially private aggregate export page (educators and ethics reviewers; the access
gate checks the role and sets the purpose, research export)."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from decision_support.cohorts.models import Cohort
from decision_support.lib.csv_safety import csv_download
from decision_support.lib.suppression import SUPPRESSED

from .aggregates import HAMD_BOUNDS
from .forms import AggregateExportForm
from .selectors import BUDGET_PER_USER_PER_COHORT, EPSILON_CHOICES, budget_remaining
from .services import PrivacyBudgetExceeded, aggregate_export_create


@never_cache
def aggregate_export(request, cohort_id: int):
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    status, refusal = 200, ""
    if request.method == "POST":
        form = AggregateExportForm(request.POST)
        if form.is_valid():
            try:
                export = aggregate_export_create(
                    actor=request.user, cohort=cohort, purpose=request.purpose,
                    aggregate=form.cleaned_data["aggregate"], epsilon=form.cleaned_data["epsilon"])
            except PrivacyBudgetExceeded as refused:
                status, refusal = 403, str(refused)
            else:
                return csv_download(export.filename, export.rows)
        else:
            status = 400
    else:
        form = AggregateExportForm()
    return render(request, "privacy/export.html", {
        "cohort": cohort,
        "form": form,
        "refusal": refusal,
        "budget": BUDGET_PER_USER_PER_COHORT,
        "remaining": budget_remaining(user=request.user, cohort=cohort),
        "epsilon_choices": EPSILON_CHOICES,
        "hamd_bounds": HAMD_BOUNDS,
        "suppressed": SUPPRESSED,
    }, status=status)
