from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify

from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from synthetic_data import (ARM_BIOLOGY, ARM_LABELS, ARMS, DATA_CLASSES, DATA_DICTIONARY,
                            FIRST_LINE_ARMS, SCENARIOS, SITE_SCENARIOS)
from synthetic_data.primer import PRIMER, STRUCTURES

from decision_support.accounts.access import POLICIES, audit_context, can
from decision_support.accounts.guide import first_visit_guide
from decision_support.courses.selectors import courses_where
from decision_support.lib.glossary import glossary_by_topic
from decision_support.lib.suppression import SUPPRESSED
from decision_support.registry.models import TrainedModel
from decision_support.registry.pages import truth_summary
from decision_support.registry.selectors import (active_training_job, latest_run,
                                                  model_truth_check)

from .aggregates import cohort_aggregates
from .forms import (DEFAULT_PATIENTS, MAX_PATIENTS, MIN_PATIENTS, CohortCompareForm,
                    CohortCreateForm, largest_size, n_sites, scenario_choices, smallest_size)
from .jobs import active_generation_jobs, expire_stale_generation_jobs, generation_job_start
from .models import Cohort, GenerationJob
from .selectors import other_copies, visible_cohorts


def home(request):
    cohort = visible_cohorts(request.course_ids).first()
    if cohort is None:
        return render(request, "cohorts/empty.html",
                      {"first_visit": first_visit_guide(request.user)})
    return redirect("cohort_overview", cohort_id=cohort.pk)


def cohort_list(request):
    # The generation jobs of the courses whose jobs the user may follow (the job page's roles).
    followed = [course.pk for course in courses_where(request.user,
                                                      POLICIES["generation_job"].roles)]
    return render(request, "cohorts/list.html", {
        "cohorts": visible_cohorts(request.course_ids).annotate(n_stored=Count("patients")),
        "can_create": can(request.roles, POLICIES["cohort_create"].roles),
        "generating": active_generation_jobs(followed),
    })


def cohort_overview(request, cohort_id: int):
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    aggregates = cohort_aggregates(cohort, purpose=request.purpose)
    audit_context(request, object_type="cohort", object_ref=str(cohort.uid),
                  classes_left_out=aggregates.classes_left_out)
    scenario = scenario_texts(cohort.scenario)
    run = latest_run(cohort)
    return render(request, "cohorts/overview.html", {
        "first_visit": first_visit_guide(request.user),
        "cohort": cohort,
        "scenario": scenario,
        "sites": aggregates.sites,
        "travel_run": (run if aggregates.sites and run is not None and run.development_site
                       else None),
        "summary": aggregates.summary,
        "left_out": aggregates.left_out_labelled,
        "other_copies": other_copies(cohort),
        "carried_over": aggregates.carried_over,
        "charts": aggregates.charts,
        "chart_specs": [chart.as_json() for chart in aggregates.charts],
        "suppressed": SUPPRESSED,
        "can_export": can(request.roles, POLICIES["aggregate_export"].roles),
        "can_compare": can(request.roles, POLICIES["cohort_compare"].roles),
        **_training_context(request, cohort),
    })


def data_dictionary(request):
    groups = [
        (data_class, data_class.replace("_", " ").capitalize(),
         [v for v in DATA_DICTIONARY.values() if v.data_class == data_class])
        for data_class in DATA_CLASSES
    ]
    arms = [{"name": arm, "label": ARM_LABELS[arm], "entry": ARM_BIOLOGY[arm]} for arm in ARMS]
    return render(request, "cohorts/dictionary.html", {"groups": groups, "arms": arms})


def primer(request):
    """Each seed topic of the course text and where it lives in the product, with the figure of
    the brain systems (``synthetic_data.primer``); page links only to pages the user may open."""
    lessons = {**SCENARIOS, **SITE_SCENARIOS}

    def variables(names):
        return [(name, DATA_DICTIONARY[name].label) for name in names]

    def arms(names):
        return [(name, ARM_LABELS[name]) for name in names]

    topics = [{
        "name": topic.name, "anchor": slugify(topic.name), "summary": topic.summary,
        "variables": variables(topic.variables), "arms": arms(topic.arms),
        "scenarios": [(name, lessons[name].title) for name in topic.scenarios],
        "pages": [(label, reverse(name)) for label, name in topic.pages
                  if can(request.roles, POLICIES[name].roles)],
        "not_simulated": topic.not_simulated,
    } for topic in PRIMER]
    structures = [{"key": s.key, "label": s.label, "role": s.role,
                   "variables": variables(s.variables), "arms": arms(s.arms)}
                  for s in STRUCTURES]
    return render(request, "cohorts/primer.html", {"topics": topics, "structures": structures})


def glossary(request):
    return render(request, "cohorts/glossary.html", {"topics": glossary_by_topic()})


# --- Teaching scenarios: a cohort from a scenario, two cohorts side by side ---------------------
# The access gate (accounts.access.POLICIES) admits the roles; the checks below only decide which
# buttons a page shows.


SIZE_HELP = (f"From {MIN_PATIENTS:,} to {MAX_PATIENTS:,} patients (some scenarios need more, as "
             f"each says; a multi-site scenario's size is per site); {DEFAULT_PATIENTS:,} by default.")


def scenario_texts(name: str) -> dict | None:
    """A scenario's title, teaching note, discussion questions and what to expect, and for a
    multi-site scenario its sites with their shifts (None for a cohort without a scenario, such
    as an imported cohort)."""
    scenario = SCENARIOS.get(name) or SITE_SCENARIOS.get(name)
    if scenario is None:
        return None
    sites = getattr(scenario, "sites", ())
    return {"name": scenario.name, "title": scenario.title, "teaching_note": scenario.teaching_note,
            "questions": tuple(getattr(scenario, "questions", ()) or ()),
            "expected": getattr(scenario, "expected", "") or "",
            "sizes": _sizes(scenario.name),
            "sites": [{"name": site.name, "label": site.label,
                       "shifts": [(kind.replace("_", " ").capitalize(), shift)
                                  for kind, shift in site.shifts.items()]} for site in sites]}


def _sizes(scenario: str) -> str:
    minimum, maximum = smallest_size(scenario), largest_size(scenario)
    text = f"{minimum:,} to {maximum:,} patients"
    if n_sites(scenario) > 1:
        text += f" at each of its {n_sites(scenario)} sites"
    return f"{text}: the lesson does not show reliably in smaller cohorts" if minimum > MIN_PATIENTS else text


def _training_context(request, cohort) -> dict:
    """Whether to offer "Train models on this cohort" (educators, no run yet, no job running)."""
    can_train = can(request.roles, POLICIES["cohort_train"].roles)
    return {"can_train": can_train, "has_run": latest_run(cohort) is not None,
            "active_job": active_training_job(cohort) if can_train else None}


def cohort_create(request):
    """Ask for a cohort from a teaching scenario: a job for a task worker (``jobs``), whose page
    (303) follows it; bad input answers 400 naming the field and writes nothing."""
    status = 200
    courses = courses_where(request.user, POLICIES["cohort_create"].roles)
    if request.method == "POST":
        form = CohortCreateForm(request.POST, courses=courses)
        if form.is_valid():
            job = generation_job_start(actor=request.user, purpose=request.purpose,
                                       **form.cleaned_data)
            response = redirect(reverse("generation_job", args=[job.pk]) + "?" + FOLLOW)
            response.status_code = 303  # See Other: the job's page, by GET
            return response
        status = 400
    else:
        # A lesson plan's link names its scenario (?scenario=...): chosen, if it is one.
        chosen = request.GET.get("scenario")
        form = CohortCreateForm(courses=courses, initial={"scenario": chosen}
                                if chosen in dict(scenario_choices()) else None)
    selected = form["scenario"].value() or "default"
    return render(request, "cohorts/create.html", {
        "form": form,
        "scenarios": [{**scenario_texts(name), "checked": name == selected}
                      for name, _ in scenario_choices()],
        "size_help": SIZE_HELP,
    }, status=status)


# The job page as the creation form's redirect opens it: once the cohort is stored it moves on to
# the cohort (opened later, without it, a finished job's page stays and links the cohort).
FOLLOW = "follow=1"
CREATED = "Cohort created: {n:,} patients of the scenario {scenario}, seed {seed}."


def generation_job(request, generation_job_id: int):
    """A cohort generation job's phase and progress; refreshes itself while the job is active."""
    expire_stale_generation_jobs()
    job = get_object_or_404(GenerationJob.objects.select_related("cohort"), pk=generation_job_id)
    if job.cohort is not None and request.GET.get("follow") == "1":
        cohort = job.cohort
        messages.success(request, CREATED.format(n=cohort.n_patients, scenario=cohort.scenario,
                                                 seed=cohort.seed))
        return redirect("cohort_overview", cohort_id=cohort.pk)
    return render(request, "cohorts/generation_job.html",
                  {"job": job, "scenario": scenario_texts(job.scenario)})


def _aggregates(cohort: Cohort, purpose: str) -> dict:
    """What the overview shows, the same stored aggregates (``aggregates.cohort_aggregates``)."""
    aggregates = cohort_aggregates(cohort, purpose=purpose)
    return {"summary": aggregates.summary, "charts": aggregates.charts_by_id,
            "left_out": aggregates.left_out_labelled}


# The overview's distributions that the comparison shows as tables (chart id -> heading).
COMPARED_DISTRIBUTIONS = {"age": "Age at baseline", "hamd17": "Baseline depression severity",
                          "prior-failures": "Prior failed treatments",
                          "ancestry": "Genetic ancestry group", "crp": "hs-CRP (clinical bands)"}


def _side_by_side(a: dict, b: dict) -> dict:
    """Rows of both cohorts' aggregates, cohort A's value beside cohort B's."""
    arms = [{"arm": ra["arm"], "population": ra["population"], "a": ra, "b": rb}
            for ra, rb in zip(a["summary"]["arms"], b["summary"]["arms"])]
    distributions = []
    for chart_id, heading in COMPARED_DISTRIBUTIONS.items():
        chart_a, chart_b = a["charts"][chart_id], b["charts"][chart_id]
        distributions.append({
            "id": chart_id, "title": heading, "x_title": chart_a.x_title,
            "rows": [(row_a[0], row_a[1], row_b[1])
                     for row_a, row_b in zip(chart_a.table_rows, chart_b.table_rows)]})
    return {"arms": arms, "distributions": distributions}


def _run_metrics(cohort: Cohort, roles) -> dict:
    """The newest run's first-line full-variant models by (arm, algorithm), or no run; each with
    its truth check's summary when ``roles`` may see it (``selectors.model_truth_check``)."""
    run = latest_run(cohort)
    if run is None:
        return {"run": None, "models": {}}
    models = {}
    for model in run.models.filter(variant="full", arm__in=FIRST_LINE_ARMS).only(
            *TrainedModel.SUMMARY_FIELDS, "truth_check"):
        m = model.metrics
        models[(model.arm, model.algorithm)] = {
            "model": model, "roc_auc": f"{m['roc_auc']:.3f}",
            "ci": f"{m['roc_auc_low']:.3f}\u2013{m['roc_auc_high']:.3f}",
            "small_sample": bool(m.get("small_sample")),
            "truth": truth_summary(model_truth_check(model, roles=roles)),
            "url": reverse("model_detail", args=[run.pk, model.arm]) + "?" + urlencode(
                {"algorithm": model.algorithm, "variant": "full"})}
    return {"run": run, "models": models}


def _metrics_side_by_side(a: dict, b: dict) -> list[dict]:
    """Per first-line arm, each algorithm's models of A beside B, and what truly drives response
    in each cohort (the same held-out patients for every algorithm: the first model's check)."""
    arms = []
    for arm in FIRST_LINE_ARMS:
        rows = [{"algorithm": algorithm, "algorithm_label": ALGORITHM_LABELS[algorithm],
                 "cells": [a["models"].get((arm, algorithm)), b["models"].get((arm, algorithm))]}
                for algorithm in ALGORITHMS]
        drivers = [_true_drivers([row["cells"][side] for row in rows]) for side in (0, 1)]
        arms.append({"arm": arm, "arm_label": ARM_LABELS[arm], "rows": rows, "drivers": drivers})
    return arms


def _true_drivers(cells: list[dict | None]) -> list[dict] | None:
    return next((cell["truth"]["drivers"] for cell in cells if cell and cell["truth"]), None)


def cohort_compare(request):
    """Two cohorts side by side (by default the ``default`` scenario's newest as B): scenario
    texts, aggregates through the consent gate with small cells suppressed, and the newest
    runs' held-out AUCs with, for roles that may see it, the truth check beside them (what the
    models credit, what truly drives response). The ids are validated by a form, never passed
    raw to the ORM."""
    visible = visible_cohorts(request.course_ids)
    cohorts = visible.only("pk", "name", "scenario")
    if not request.GET:
        return render(request, "cohorts/compare.html",
                      {"form": CohortCompareForm(cohorts=visible), "cohorts": cohorts})
    form = CohortCompareForm(request.GET, cohorts=visible)
    if not form.is_valid():
        return render(request, "cohorts/compare.html", {
            "form": form, "cohorts": cohorts,
            "selected_a": form["a"].value() or "", "selected_b": form["b"].value() or "",
        }, status=400)
    pair = []
    for label, cohort in (("A", form.cleaned_data["a"]), ("B", form.cleaned_data["b"])):
        pair.append({"label": label, "cohort": cohort, "scenario": scenario_texts(cohort.scenario),
                     **_aggregates(cohort, request.purpose),
                     **_run_metrics(cohort, request.roles),
                     **_training_context(request, cohort)})
    a, b = pair
    audit_context(request, object_type="cohort", object_ref=str(a["cohort"].uid),
                  compared_with=str(b["cohort"].uid))
    any_run = a["run"] is not None or b["run"] is not None
    metrics = _metrics_side_by_side(a, b) if any_run else []
    return render(request, "cohorts/compare.html", {
        "form": form, "cohorts": cohorts, "a": a, "b": b, "pair": pair,
        "selected_a": str(a["cohort"].pk), "selected_b": str(b["cohort"].pk),
        "rows": _side_by_side(a, b),
        "metrics": metrics,
        "truth_shown": any(drivers for arm in metrics for drivers in arm["drivers"]),
        "suppressed": SUPPRESSED,
    })
