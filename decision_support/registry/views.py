"""Model pages (a training run, one arm's models, whether a multi-site run's models travel), and
training a cohort from a page with the job page that follows it."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from decision_support.accounts import access
from decision_support.cohorts.models import Cohort
from decision_support.cohorts.selectors import visible_cohorts
from decision_support.consent.selectors import erased_patients_in_run
from decision_support.query_parameters import query_settings
from models.ranking import best_model
from synthetic_data import ARMS, ARM_LABELS, SITE_SCENARIOS

from . import pages
from .forms import ModelPageForm, RecalibrationForm
from .jobs import expire_stale_jobs, queue_place, training_job_start
from .models import TrainedModel, TrainingJob, TrainingRun
from .selectors import (active_training_job, latest_run, model_truth_check, ranking_choice,
                        run_external_validations, run_policy, site_recalibration)
from .services import model_charts


def models_home(request):
    cohort = visible_cohorts(request.course_ids).first()
    if cohort is None:
        return render(request, "cohorts/empty.html")
    return redirect("run_overview", cohort_id=cohort.pk)


def run_overview(request, cohort_id: int):
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    run = latest_run(cohort)
    context = {"cohort": cohort, "run": run}
    # --- Human oversight: retrain (educators) ---
    context.update(_retrain_context(request, cohort, run))
    # --- end of human oversight ---
    if run is not None:
        rows = pages.run_models(run)
        policy = run_policy(run, roles=request.roles)
        value = policy.value or {}
        chart = pages.policy_chart(value)
        context.update({
            "rows": rows,
            "arms": pages.run_arms(rows),
            "n_small": sum(r["small_sample"] for r in rows),
            "skipped": [(ARM_LABELS.get(arm, arm), reason) for arm, reason in run.skipped_arms.items()],
            "policy": policy,
            "policy_chart": chart,
            "policy_rows": pages.policy_rows(value),
            "policy_best_arms": pages.policy_best_arms(value),
            "choice_shares": pages.policy_choice_shares(policy.choice_shares),
            "policy_excluded": pages.policy_exclusions(value),
            "split_exclusions": pages.split_exclusions(run),
            "chart_specs": [chart.as_json()] if chart else [],
            "travels": run.external_validations.exists(),
        })
    return render(request, "registry/run_overview.html", context)


def model_detail(request, run_id: int, arm: str):
    run = get_object_or_404(TrainingRun.objects.select_related("cohort"), pk=run_id)
    if arm not in ARMS:
        raise Http404("unknown arm")
    siblings = list(run.models.filter(arm=arm).only(*TrainedModel.SUMMARY_FIELDS))
    if not siblings:
        raise Http404("no models for this arm in this run")
    best = best_model(siblings)
    form, chosen, errors = query_settings(ModelPageForm, request.GET, opening=best)
    # The explanation (SHAP values) is read only to draw the charts, which are stored.
    model = run.models.filter(arm=arm, algorithm=chosen["algorithm"],
                              variant=chosen["variant"]).defer("explanation").first()
    if model is None:
        raise Http404("no such model")
    threshold = chosen["threshold"]
    context = pages.model_page(model, siblings, threshold, charts=model_charts(model),
                               truth_check_shown=model_truth_check(model, roles=request.roles))
    base = reverse("model_detail", args=[run.pk, arm])
    for row in context["comparison"]:
        row["url"] = f"{base}?" + urlencode({"algorithm": row["algorithm"], "variant": row["variant"],
                                             "threshold": f"{threshold:.2f}"})
        row["selected"] = row["model"].pk == model.pk
    context.update({
        "run": run, "cohort": run.cohort, "arm": arm, "arm_label": ARM_LABELS[arm],
        "form": form, "form_errors": errors, "threshold": threshold,
        "is_latest": latest_run(run.cohort) == run,
        "best": pages.model_summary(best), "ranking_reason": ranking_choice(run).reason,
    })
    return render(request, "registry/model_detail.html", context)


def run_travel(request, run_id: int):
    """Does it travel? A multi-site run's models at each site they were not trained at, beside
    their internal figures; recalibrated on a local sample when the form asks (a bad size or
    seed is refused with 400); the truth (the same true model at every site) for the roles that
    may see the model-level truth."""
    run = get_object_or_404(TrainingRun.objects.select_related("cohort"), pk=run_id)
    form, chosen, errors = query_settings(RecalibrationForm, request.GET)
    asked = any(name in request.GET for name in form.fields)
    lesson = SITE_SCENARIOS.get(run.cohort.scenario)
    labels = run.cohort.site_labels
    policy = run_policy(run, roles=request.roles)
    development_label = labels.get(run.development_site, run.development_site)
    sites = [{
        "site": v["site"], "label": labels.get(v["site"], v["site"]),
        "rows": pages.travel_rows(v["models"]),
        "charts": pages.travel_calibration_charts(v["site"], labels.get(v["site"], v["site"]),
                                                  development_label, v["models"]),
        # Runs stored before SHAP importance was computed at validation have none.
        "importance": (pages.travel_importance(v["site"], labels.get(v["site"], v["site"]),
                                               development_label, v["importance"])
                       if "importance" in v else None),
        "skipped": [(ARM_LABELS[arm], reason) for arm, reason in v["skipped"].items()],
        "excluded": pages.travel_exclusions(v["excluded_by_consent"]),
        "policy_rows": pages.policy_rows(v["policy"]) if v["policy"] else [],
        "recalibration": (pages.recalibration_rows(site_recalibration(run, v["site"], **chosen))
                          if asked else None),
    } for v in run_external_validations(run, roles=request.roles)]
    return render(request, "registry/run_travel.html", {
        "run": run, "cohort": run.cohort, "lesson": lesson, "sites": sites,
        "development_label": development_label,
        "chart_specs": [chart.as_json() for s in sites
                        for chart in s["charts"] + [i["chart"] for i in s["importance"] or []]],
        "form": form, "form_errors": errors,
        "internal_policy_rows": pages.policy_rows(policy.value) if policy.value else [],
        "truth_shown": policy.value is not None or any(s["policy_rows"] for s in sites),
    })


# --- Human oversight: retraining ---------------------------------------------------------------
# The access gate (accounts.access.POLICIES) admits the roles; the check below only decides
# whether the run overview shows the button.


def _retrain_context(request, cohort, run) -> dict:
    """The run overview's retrain part: the button for educators, the job in progress, and how
    many patients whose data trained the run have been erased since."""
    can_train = access.can(request.roles, access.POLICIES["cohort_train"].roles)
    return {"can_train": can_train, "active_job": active_training_job(cohort),
            "erased_since_run": erased_patients_in_run(run) if can_train and run else 0}


def cohort_train(request, cohort_id: int):
    """Ask for the model suite to be trained on a cohort: a new job, or the one already under way
    (joined); the job page follows it."""
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    job, started = training_job_start(cohort=cohort, actor=request.user, purpose=request.purpose)
    if not started:
        messages.info(request, JOINED.format(job=job.pk, by=job.started_by))
    return redirect("training_job", job_id=job.pk)


JOINED = ("Training on this cohort was already under way: you joined job {job}, started by {by}. "
          "No second job was started.")


def training_job(request, job_id: int):
    expire_stale_jobs()
    job = get_object_or_404(TrainingJob.objects.select_related("cohort", "run"), pk=job_id)
    return render(request, "registry/training_job.html",
                  {"job": job, "cohort": job.cohort,
                   "queue": queue_place(job) if job.status == TrainingJob.Status.QUEUED else None})
