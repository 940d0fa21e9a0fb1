"""Writes: training runs (train the suite on a stored cohort, keep every model in the registry with
its page's charts, and a multi-site cohort's external validation at each other site, with each
arm's ranking model's global SHAP importance there beside the development site's); the charts of a
model stored before them, drawn on its page's first view.
Training jobs, which carry them out for a page or the command line: ``jobs``."""

import math
import platform
import time
from collections.abc import Callable
from importlib.metadata import version

import numpy as np
from django.db import transaction

from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.selectors import patient_sites, patients_frame, truth_frame
from decision_support.consent.reads import model_training_permitted
from decision_support.lib.charts import Chart
from models.external import (EXTERNAL, INTERNAL, ExternalValidation as ExternalFigures,
                             external_validation, importance_by_site)
from models.persistence import model_to_bytes
from models.ranking import RANKING_ALGORITHM
from models.training import (GLOBAL_SHAP_ROWS, ModelSuite, Progress, TrainedModel as FittedModel,
                             train_suite)

from . import pages
from .models import ExternalValidation, ModelArtifact, ModelCharts, TrainedModel, TrainingRun
from .selectors import RECALIBRATED_VARIANT

_VERSIONED_LIBRARIES = ("scikit-learn", "shap", "skops", "numpy", "pandas")
STORING_LABEL = "storing the models"
EXTERNAL_LABEL = "validating the models at the other sites, then storing them"


def library_versions() -> dict:
    return {"python": platform.python_version(),
            **{name: version(name) for name in _VERSIONED_LIBRARIES}}


def training_run_create(*, cohort: Cohort, seed: int | None = None,
                        progress: Progress | None = None,
                        on_stored: Callable[[TrainingRun], None] | None = None) -> TrainingRun:
    """Train the default suite on a cohort and store it (the store is one transaction, which ends
    with ``on_stored(run)``: a training job records its end in it).

    A multi-site cohort trains at its development site alone (``Cohort.development_site``);
    then the suite is scored at each other site (``models.external.external_validation``) on
    the patients whose consent to model training covers each variant's data, as training uses,
    and each arm's ranking model's SHAP importance is computed there (``_site_importance``).
    """
    patients = Patient.objects.filter(cohort=cohort)
    frame = patients_frame(patients)
    truth = truth_frame(patients) if cohort.source == Cohort.Source.GENERATED else None
    permitted = model_training_permitted(frame.index)
    sites = patient_sites(patients)
    development = cohort.development_site
    at = {site: (sites == site).to_numpy() for site in dict.fromkeys(sites.dropna())}
    trained_on = at[development] if development else np.ones(len(frame), dtype=bool)
    started = time.perf_counter()
    seen = {"total": 0}

    def tracked(done: int, total: int, label: str) -> None:
        seen["total"] = total
        progress(done, total, label)

    suite = train_suite(frame[trained_on], truth=_rows(truth, trained_on),
                        scenario=cohort.true_model_scenario, random_state=seed,
                        permitted={v: p[trained_on] for v, p in permitted.items()},
                        progress=tracked if progress else None)
    if progress:
        # Skipped arms are never reported, so say here that fitting is over and storing (or
        # validating at the other sites) begins.
        progress(seen["total"], seen["total"], EXTERNAL_LABEL if development else STORING_LABEL)
    external, importance = {}, {}
    for site, rows in at.items():
        if site == development:
            continue
        site_permitted = {v: p[rows] for v, p in permitted.items()}
        external[site] = external_validation(suite, frame[rows], truth=_rows(truth, rows),
                                             permitted=site_permitted,
                                             random_state=suite.random_state)
        importance[site] = _site_importance(suite, external[site], frame[rows], site_permitted)
    return _store_suite(cohort, suite, development=development or "", external=external,
                        importance=importance, duration=time.perf_counter() - started,
                        on_stored=on_stored)


def _site_importance(suite: ModelSuite, validation: ExternalFigures, patients,
                     permitted: dict) -> list[dict]:
    """Per arm the site could score, the ranking model's (``RANKING_ALGORITHM``, all data: the
    model the page charts and recalibrates) mean |SHAP| per feature on the development site's
    held-out patients (as stored at training) beside this site's patients whose consent covers
    its data, each over at most ``GLOBAL_SHAP_ROWS`` of those who received the arm."""
    usable = patients[permitted[RECALIBRATED_VARIANT].to_numpy()]
    importance = []
    for arm, algorithm, variant in validation.results:
        if (algorithm, variant) != (RANKING_ALGORITHM, RECALIBRATED_VARIANT):
            continue
        model = suite.models[(arm, algorithm, variant)]
        table = importance_by_site(model, {EXTERNAL: usable})
        importance.append({
            "arm": arm, "algorithm": algorithm, "variant": variant,
            "n_internal": min(GLOBAL_SHAP_ROWS, len(model.test_outcomes)),
            "n_external": min(GLOBAL_SHAP_ROWS, int((usable["arm"] == arm).sum())),
            "features": [{"feature": feature, INTERNAL: row[INTERNAL],
                          EXTERNAL: round(row[EXTERNAL], 6)}
                         for feature, row in table.iterrows()],
        })
    return importance


def _rows(truth, rows):
    return None if truth is None else truth[rows]


@transaction.atomic
def _store_suite(cohort: Cohort, suite: ModelSuite, *, development: str,
                 external: dict[str, ExternalFigures], importance: dict[str, list[dict]],
                 duration: float,
                 on_stored: Callable[[TrainingRun], None] | None = None) -> TrainingRun:
    run = TrainingRun.objects.create(
        cohort=cohort, scenario=cohort.scenario, seed=suite.random_state,
        n_patients=suite.n_patients, library_versions=library_versions(),
        policy_value=suite.policy, skipped_arms=suite.skipped, duration_seconds=duration,
        excluded_by_consent=suite.excluded, excluded_by_split=suite.excluded_by_split,
        development_site=development)
    rows = [
        TrainedModel(
            run=run, arm=m.arm, algorithm=m.algorithm, variant=m.variant,
            artifact=_artifact(m.pipeline), features=m.features, metrics=m.metrics,
            evaluation={"roc": m.roc, "calibration": m.calibration,
                        "test_outcomes": m.test_outcomes,
                        "test_probabilities": m.test_probabilities,
                        "test_groups": m.test_groups},
            explanation={"background_mean": m.background_mean.round(10).tolist(),
                         "medians": m.medians, "global_importance": m.global_importance,
                         "beeswarm": m.beeswarm},
            truth_check=m.truth_check,
            refit_coefficients=_refits(suite, m))
        for m in suite.models.values()
    ]
    TrainedModel.objects.bulk_create(rows)
    ModelCharts.objects.bulk_create([
        ModelCharts(model=row, version=pages.MODEL_CHARTS_VERSION,
                    content=pages.model_charts_content(row)) for row in rows])
    ExternalValidation.objects.bulk_create([
        ExternalValidation(run=run, site=site,
                           results=_external_results(validation, importance[site]))
        for site, validation in external.items()
    ])
    if on_stored:
        on_stored(run)
    return run


def model_charts(model: TrainedModel) -> dict[str, Chart]:
    """The model page's charts stored for ``model`` (``ModelCharts``), by id; for a model stored
    before them, or whose charts another version drew, drawn now and stored."""
    content = (ModelCharts.objects.filter(model=model, version=pages.MODEL_CHARTS_VERSION)
               .values_list("content", flat=True).first())
    if content is None:
        content = pages.model_charts_content(model)
        ModelCharts.objects.update_or_create(
            model=model, defaults={"version": pages.MODEL_CHARTS_VERSION, "content": content})
    return pages.read_model_charts(content)


def _external_results(validation: ExternalFigures, importance: list[dict]) -> dict:
    """One site's external validation and SHAP importance (``_site_importance``) as JSON:
    non-finite figures (a fit that does not exist) become null, which every database's JSON
    accepts."""
    return _finite({
        "models": [{"arm": arm, "algorithm": algorithm, "variant": variant, **figures}
                   for (arm, algorithm, variant), figures in validation.results.items()],
        "skipped": validation.skipped, "n_patients": validation.n_patients,
        "policy": validation.policy, "excluded_by_consent": validation.excluded,
        "importance": importance,
    })


def _finite(value):
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _refits(suite: ModelSuite, model: FittedModel) -> list | None:
    if model.algorithm != RANKING_ALGORITHM:
        return None
    return suite.refits[(model.arm, model.variant)].round(10).tolist()


def _artifact(obj) -> ModelArtifact:
    data, sha256 = model_to_bytes(obj)
    artifact, _ = ModelArtifact.objects.get_or_create(
        sha256=sha256, defaults={"data": data, "size_bytes": len(data)})
    return artifact
