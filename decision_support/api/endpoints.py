"""The JSON API under ``/api/`` (django-ninja): cohorts, patients, predictions, explanations,
model metrics and whether a run's models travel to other sites, read-only.

No second path to the data: the access gate (``accounts.access``) authenticates the bearer token,
admits the roles of the page that shows the same data and writes the same audit entry; patient
data is read only through the consent gate (``consent.reads``; one patient through
``predictions.patient``, the preamble the patient pages share) and predictions only through
``predictions.selectors``, which hold the pause. Bad input answers 422 naming the field; unknown
objects 404.
"""

import functools
import inspect
import re
from typing import Annotated, Literal

import numpy as np
from django.core.paginator import InvalidPage
from django.http import Http404
from ninja import NinjaAPI, Path, Query
from ninja.errors import HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import BeforeValidator

from decision_support.accounts.access import API_NAMESPACE, audit_context
from decision_support.cohorts.aggregates import cohort_aggregates
from decision_support.cohorts.models import Cohort
from decision_support.cohorts.selectors import visible_cohorts
from decision_support.predictions import pages
from decision_support.lib.suppression import suppress_count
from decision_support.predictions.patient import patient_for_request
from decision_support.predictions.selectors import (patient_guidance, patient_list_page,
                                                    patient_predictions, patient_ranking,
                                                    prediction_pause, true_response_probabilities)
from decision_support.registry.models import TrainingRun
from decision_support.registry.pages import policy_exclusions, travel_exclusions, travel_rows
from decision_support.registry.selectors import (latest_run, ranking_choice,
                                                 run_external_validations, run_policy,
                                                 run_validation)
from models.algorithms import ALGORITHMS
from models.model_card import where_validated
from models.ranking import RANKING_ALGORITHM

from . import schemas


class GateBearer(HttpBearer):
    """Declares the bearer scheme in the schema. The access gate has already turned the token
    into ``request.user`` (and answered 401 without one) before any endpoint runs."""

    def authenticate(self, request, token):
        return request.user if request.user.is_authenticated else None


api = NinjaAPI(
    title="Precision-Psychiatry Decision Support API",
    version="1",
    description="Synthetic data, not for clinical use. Read-only; every request goes through the "
                "same role, consent and audit gates as the pages. Authenticate with the header "
                "`Authorization: Bearer <token>` (create a token at /accounts/api-tokens/).",
    urls_namespace=API_NAMESPACE,
    auth=GateBearer(),
)



def known_query_parameters_only(operation):
    """Answers 422 for a query parameter the operation does not take (a misspelt ``algoritm=``
    would otherwise be ignored without a word), in pydantic's error shape."""
    names = set(inspect.signature(operation).parameters) - {"request"}

    @functools.wraps(operation)
    def checked(request, *args, **kwargs):
        unknown = sorted(set(request.GET) - (names - set(request.resolver_match.kwargs)))
        if unknown:
            raise ValidationError([{"type": "extra_forbidden", "loc": ["query", name],
                                    "msg": "unknown query parameter"} for name in unknown])
        return operation(request, *args, **kwargs)
    return checked


api.add_decorator(known_query_parameters_only)

ERRORS = {401: schemas.Error, 404: schemas.Error, 422: schemas.ValidationErrors}
# Database ids are positive and fit a 64-bit integer; pseudonyms are short URL-safe strings.
ObjectId = Path(..., ge=1, le=2**63 - 1)
Pseudonym = Path(..., pattern=r"^[A-Za-z0-9_-]{1,64}$")
Algorithm = Literal[tuple(ALGORITHMS)]


def _digits_only(value):
    """A query's whole number as written: pydantic alone would also take "1.0", "+1" or "1_0"."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]+", value):
        raise ValueError("must be a whole number written in digits")
    return value


PageNumber = Annotated[int, BeforeValidator(_digits_only)]


def _get(queryset, label: str, **lookup):
    """The one object ``lookup`` finds, or 404 saying what was not found."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        raise HttpError(404, f"no {label} " + ", ".join(map(str, lookup.values()))) from None


def _plain(value):
    """A value from a pandas row as JSON: numpy scalars as Python, missing as null."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _cohort(cohort: Cohort) -> dict:
    run = latest_run(cohort)
    return {**{f: getattr(cohort, f) for f in ("id", "uid", "name", "scenario", "source",
                                               "n_patients", "seed", "generator_version",
                                               "is_demo", "created_at")},
            "latest_run_id": run.pk if run else None}


@api.exception_handler(Http404)
def _not_found(request, error):
    """404 naming what was not found, as ``_get`` answers (``predictions.patient``'s lookup)."""
    return api.create_response(request, {"detail": str(error) or "Not Found"}, status=404)


def _patient(request, pseudonym: str):
    """This patient for this request (``predictions.patient``), its read declared for the audit."""
    this = patient_for_request(request, pseudonym)
    this.audit_read(request)
    return this


def _prediction_status(consented, run, *, predicted: bool) -> str:
    """"ok" when the predictions' gate let the patient through (``predicted``), else why not."""
    if predicted:
        return "ok"
    if prediction_pause() is not None:
        return "paused"
    if run is None:
        return "no_training_run"
    return "ok" if consented.variant is not None else "clinical_data_withheld"


@api.get("/cohorts/", url_name="api_cohort_list", tags=["cohorts"],
         response={200: list[schemas.CohortOut], **ERRORS})
def cohorts(request):
    """Every cohort of the user's courses, newest first."""
    return [_cohort(c) for c in visible_cohorts(request.course_ids)]


@api.get("/cohorts/{cohort_id}/", url_name="api_cohort", tags=["cohorts"],
         response={200: schemas.CohortDetail, **ERRORS})
def cohort(request, cohort_id: int = ObjectId):
    """A cohort's aggregates through the consent gate, counts 1-10 suppressed (as its overview)."""
    cohort = _get(Cohort.objects, "cohort", pk=cohort_id)
    aggregates = cohort_aggregates(cohort, purpose=request.purpose)
    audit_context(request, object_type="cohort", object_ref=str(cohort.uid),
                  classes_left_out=aggregates.classes_left_out)
    return {**_cohort(cohort), "summary": aggregates.summary, "left_out": aggregates.left_out}


@api.get("/cohorts/{cohort_id}/patients/", url_name="api_patient_list", tags=["cohorts"],
         response={200: schemas.PatientPage, **ERRORS})
def cohort_patients(request, cohort_id: int = ObjectId, page: PageNumber = Query(1, ge=1)):
    """One page of pseudonyms, with treatment, outcome and prior failures where consent covers
    clinical data and the role may see it."""
    cohort = _get(Cohort.objects, "cohort", pk=cohort_id)
    try:
        listing = patient_list_page(cohort, page, roles=request.roles, purpose=request.purpose)
    except InvalidPage:
        raise HttpError(404, f"page: there is no page {page}") from None
    audit_context(request, object_type="cohort", object_ref=str(cohort.uid),
                  page=listing.page.number, withheld=listing.withheld)
    return {"page": listing.page.number, "pages": listing.page.paginator.num_pages,
            "count": listing.page.paginator.count,
            "patients": listing.patients}


@api.get("/patients/{pseudonym}/", url_name="api_patient", tags=["patients"],
         response={200: schemas.PatientOut, **ERRORS})
def patient(request, pseudonym: str = Pseudonym):
    """One patient's observed data as consent releases it; genotype values only for the roles
    that may see them (the names of the others are listed in ``values_not_shown``)."""
    this = _patient(request, pseudonym)
    values = this.consented.values.drop("pseudonym")
    return {"pseudonym": this.patient.pseudonym, "case_label": this.patient.case_label,
            "cohort_id": this.patient.cohort_id,
            "withheld": this.withheld, "variant": this.consented.variant,
            "values": {k: _plain(v) for k, v in values.items() if k not in this.hidden},
            "values_not_shown": sorted(this.hidden & set(values.index)),
            "pgx_guidance": patient_guidance(this.consented)}


@api.get("/patients/{pseudonym}/predictions/", url_name="api_patient_predictions",
         tags=["patients"],
         response={200: schemas.PredictionsOut, **ERRORS})
def predictions(request, pseudonym: str = Pseudonym):
    """The eligible arms ranked by predicted response with 90% intervals (the patient page's
    ranking), and for educators the simulation's true response probabilities."""
    this = _patient(request, pseudonym)
    patient, consented, run = this.patient, this.consented, this.run
    ranking = patient_ranking(consented, run)
    # None too for an imported cohort ({}: no truth).
    truth = (true_response_probabilities(patient.pk, roles=request.roles) or None
             if ranking is not None else None)
    return {"pseudonym": patient.pseudonym, "case_label": patient.case_label,
            "status": _prediction_status(consented, run, predicted=ranking is not None),
            "run_id": run.pk if run else None, "variant": consented.variant,
            "ranking": pages.ranking_rows(ranking) if ranking is not None else [],
            "true_probability": truth}


@api.get("/patients/{pseudonym}/explanations/", url_name="api_patient_explanations",
         tags=["patients"],
         response={200: schemas.ExplanationsOut, **ERRORS})
def explanations(request, pseudonym: str = Pseudonym,
                 algorithm: Algorithm | None = Query(None)):
    """A SHAP explanation of every ranked arm's prediction by ``algorithm``'s model (by default
    the run's ranking algorithm, as on the patient page): base value, each feature's
    contribution, the output and a narrative (units: log-odds, or probability for random
    forests)."""
    this = _patient(request, pseudonym)
    patient, consented, run, hidden = this.patient, this.consented, this.run, this.hidden
    result = (patient_predictions(consented, run, algorithm=algorithm, hidden=hidden)
              if run is not None else None)
    items = result.explanations if result is not None else []
    return {"pseudonym": patient.pseudonym, "case_label": patient.case_label,
            "status": _prediction_status(consented, run, predicted=result is not None),
            "run_id": run.pk if run else None, "variant": consented.variant,
            "algorithm": algorithm or (result.choice.algorithm if result is not None
                                       else ranking_choice(run).algorithm if run
                                       else RANKING_ALGORITHM),
            "explanations": [{
                "arm": item.arm, "algorithm": item.model.algorithm, "variant": item.model.variant,
                "units": e.units, "base_value": e.base_value, "model_output": e.model_output,
                "probability": e.probability, "narrative": item.narrative,
                "contributions": [{"feature": f, "shap": float(v),
                                   "value": None if f in hidden else _plain(e.feature_values[f])}
                                  for f, v in e.contributions.items()]}
                for item in items for e in [item.explanation]]}


@api.get("/runs/{run_id}/models/", url_name="api_run_models", tags=["models"],
         response={200: schemas.RunOut, **ERRORS})
def run_models(request, run_id: int = ObjectId):
    """A training run, its policy value (as on the run overview: for the roles that may see the
    truth) and the held-out metrics of each of its models."""
    run = _get(TrainingRun.objects, "training run", pk=run_id)
    metric_names = [name for name in schemas.ModelMetrics.model_fields
                    if name not in ("arm", "algorithm", "variant")]
    policy = run_policy(run, roles=request.roles)
    return {"id": run.pk, "cohort_id": run.cohort_id, "scenario": run.scenario, "seed": run.seed,
            "n_patients": run.n_patients, "created_at": run.created_at,
            "skipped_arms": run.skipped_arms, "excluded_by_consent": run.excluded_by_consent,
            "policy_value": _policy_value(policy.value) if policy.value else None,
            "policy_value_withheld": policy.withheld,
            "top_choice_shares": policy.choice_shares,
            "models": [{"arm": m.arm, "algorithm": m.algorithm, "variant": m.variant,
                        **{k: m.metrics.get(k) for k in metric_names},
                        "small_sample": bool(m.metrics.get("small_sample"))}
                       for m in run.models.all()]}


@api.get("/runs/{run_id}/travel/", url_name="api_run_travel", tags=["models"],
         response={200: schemas.TravelOut, **ERRORS})
def run_travel(request, run_id: int = ObjectId):
    """Does it travel? Where the run's models were validated and, per other site of a
    multi-site cohort, each model's internal and external figures (as on the travel page), the
    arms the site could not score, the patients consent left out (counts 1-10 hidden) and the
    policy value there (for the roles that may see the truth)."""
    run = _get(TrainingRun.objects.select_related("cohort"), "training run", pk=run_id)
    labels = run.cohort.site_labels
    where = where_validated(run_validation(run).for_models(
        run.models.only("run", "arm", "algorithm", "variant")))
    return {"run_id": run.pk, "cohort_id": run.cohort_id,
            "validated_at": {
                "development_site": ({"site": run.development_site, "label": where["development"]}
                                     if where["multi_site"] else None),
                "external_sites": [{"site": s["site"], "label": s["label"]}
                                   for s in where["sites"]],
                "statement": where["statement"], "not_at": where["not_at"]},
            "sites": [{"site": v["site"], "label": labels.get(v["site"], v["site"]),
                       "models": [_travel_model(row) for row in travel_rows(v["models"])],
                       "importance": _travel_importance(v.get("importance")),
                       "skipped_arms": v["skipped"],
                       "excluded_by_consent": dict(travel_exclusions(v["excluded_by_consent"])),
                       "policy_value": _policy_value(v["policy"]) if v["policy"] else None,
                       "policy_value_withheld": v["policy_withheld"]}
                      for v in run_external_validations(run, roles=request.roles)]}


def _travel_model(row: dict) -> dict:
    """A row of the travel page's table (``registry.pages.travel_rows``) as JSON."""
    return {"arm": row["arm"], "algorithm": row["algorithm"], "variant": row["variant"],
            **{setting: {f["name"]: f[setting] for f in row["figures"]}
               for setting in ("internal", "external")},
            "auc_change": row["auc_change"],
            "n_internal": row["n_internal"], "n_external": row["n_external"]}


def _travel_importance(importance: list[dict] | None) -> list[dict] | None:
    """The stored SHAP shift per arm (``registry.services``), counts 1-10 hidden as the page's
    captions hide them."""
    if importance is None:
        return None
    return [{**m, "n_internal": suppress_count(m["n_internal"]),
             "n_external": suppress_count(m["n_external"]),
             "features": sorted(m["features"], key=lambda f: -f["internal"])}
            for m in importance]


def _policy_value(value: dict) -> dict:
    return {**{k: value.get(k) for k in ("oracle", "model", "best_single", "random",
                                         "interval_level", "n_patients")},
            "intervals": value.get("intervals", {}),
            "n_excluded": policy_exclusions(value),
            "best_single_arms": {group: g["arm"] for group, g in value.get("groups", {}).items()
                                 if g["arm"]}}
