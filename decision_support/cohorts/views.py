from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from synthetic_data import DATA_CLASSES, DATA_DICTIONARY, SCENARIOS

from decision_support.accounts.access import POLICIES, audit_context, can
from decision_support.consent.constants import ConsentClass
from decision_support.privacy.suppression import SUPPRESSED, suppress_count

from .models import Cohort
from .selectors import cohort_frame, cohort_overview_charts, cohort_summary


def home(request):
    cohort = Cohort.objects.first()
    if cohort is None:
        return render(request, "cohorts/empty.html")
    return redirect("cohort_overview", cohort_id=cohort.pk)


def cohort_list(request):
    return render(request, "cohorts/list.html", {"cohorts": Cohort.objects.annotate(n_stored=Count("patients"))})


def cohort_overview(request, cohort_id: int):
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    consented = cohort_frame(cohort, purpose=request.purpose)
    charts = cohort_overview_charts(consented.frame)
    left_out = [(ConsentClass(c).label, suppress_count(n)) for c, n in consented.left_out.items()]
    audit_context(request, object_type="cohort", object_ref=str(cohort.uid),
                  classes_left_out=[c for c, n in consented.left_out.items() if n])
    return render(request, "cohorts/overview.html", {
        "cohort": cohort,
        "scenario": SCENARIOS.get(cohort.scenario),
        "summary": cohort_summary(consented.frame),
        "left_out": left_out,
        "charts": charts,
        "chart_specs": [chart.as_json() for chart in charts],
        "suppressed": SUPPRESSED,
        "can_export": can(request.roles, POLICIES["aggregate_export"].roles),
    })


def data_dictionary(request):
    groups = [
        (data_class, data_class.replace("_", " ").capitalize(),
         [v for v in DATA_DICTIONARY.values() if v.data_class == data_class])
        for data_class in DATA_CLASSES
    ]
    return render(request, "cohorts/dictionary.html", {"groups": groups})
