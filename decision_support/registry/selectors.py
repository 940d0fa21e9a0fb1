"""Reads of the registry: a cohort's newest training run, the algorithm that ranks its
treatments, its training job in progress, and what of a run's or a model's truth a reader's roles
may see.

The simulation's truth reaches model pages only through the readers below that take the reader's
roles (``model_truth_check``, ``run_policy``): they apply the field rules of ``accounts.access``
(``MODEL_TRUTH_ROLES``), so a page, export or API answer for another role never receives it;
a multi-site run's external validation likewise (``run_external_validations``). Where a run's
models were validated (``run_validation``) holds no truth.
"""

from dataclasses import dataclass
from functools import lru_cache

from decision_support.accounts.access import MODEL_TRUTH_ROLES, can
from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import patients_frame
from decision_support.consent.reads import model_training_permitted
from models.external import recalibrate
from models.ranking import RANKING_ALGORITHM, AlgorithmChoice, choose_algorithm

from .loading import fitted_model
from .models import TrainedModel, TrainingJob, TrainingRun


def latest_run(cohort) -> TrainingRun | None:
    return TrainingRun.objects.filter(cohort=cohort).first()


def ranking_choice(run: TrainingRun) -> AlgorithmChoice:
    """The algorithm that ranks the run's treatments, by the one rule of
    ``models.ranking.choose_algorithm`` over the run's stored metrics.

    Computed once per run and process: a run's models are stored with it in one transaction
    (``services._store_suite``) and never change after. The run's creation time is part of the
    key beside its pk, so a pk that SQLite hands out again after a rolled-back run is another
    key, not that run's answer."""
    return _ranking_choice(run.pk, run.created_at)


@lru_cache(maxsize=512)
def _ranking_choice(run_pk: int, created_at) -> AlgorithmChoice:
    return choose_algorithm(TrainedModel.objects.filter(run_id=run_pk)
                            .only("run", "algorithm", "metrics"))


def model_truth_check(model: TrainedModel, *, roles) -> dict | None:
    """The model's truth check (what it credits beside what truly drives response, its
    calibration against the true probabilities, the oracle's AUC; {} for an imported cohort),
    or None for roles that may not see the model-level truth."""
    return (model.truth_check or {}) if can(roles, MODEL_TRUTH_ROLES) else None


# The policy value scores choices with the true response probabilities (``models.policy``: the
# values, their intervals, the best single arms; shown with the patients it was scored over and
# those consent left out); the top-choice shares come from the predictions.
POLICY_FROM_TRUTH = ("oracle", "model", "best_single", "random", "intervals", "interval_level",
                     "n_resamples", "n_patients", "groups", "n_excluded")


@dataclass(frozen=True)
class RunPolicy:
    value: dict | None  # expected response rates (POLICY_FROM_TRUTH), for MODEL_TRUTH_ROLES only
    choice_shares: dict[str, float]  # how often the model ranks each arm first
    withheld: bool  # the run has a policy value that these roles may not see


def run_policy(run: TrainingRun, *, roles) -> RunPolicy:
    """What a run's policy value may show to ``roles``."""
    stored = run.policy_value or {}
    shown = bool(stored) and can(roles, MODEL_TRUTH_ROLES)
    value = {k: stored[k] for k in POLICY_FROM_TRUTH if k in stored} if shown else None
    return RunPolicy(value=value,
                     choice_shares=stored.get("top_choice_shares", {}),
                     withheld=bool(stored) and not shown)


def active_training_job(cohort) -> TrainingJob | None:
    """The queued or running training job of a cohort, if any."""
    return (TrainingJob.objects.filter(cohort=cohort, status__in=TrainingJob.ACTIVE)
            .order_by("-started_at").first())


def run_external_validations(run: TrainingRun, *, roles) -> list[dict]:
    """A multi-site run's stored external validation, one dict per site (``site`` and the stored
    ``results``); the policy value at each site, scored with the truth, is None for roles that
    may not see the model-level truth (``policy_withheld`` then says whether there is one)."""
    shown = can(roles, MODEL_TRUTH_ROLES)
    return [{"site": v.site, **v.results, "policy": v.results["policy"] if shown else None,
             "policy_withheld": bool(v.results["policy"]) and not shown}
            for v in run.external_validations.all()]


@dataclass(frozen=True)
class RunValidation:
    """Where a run's models were validated: held out at the development site, and at each other
    site of a multi-site cohort from its stored external validation (observed outcomes only, no
    truth). The one source of the "validated at" facts of the model card, the case packet and
    the API."""

    development: str  # the development site's name; "" for a cohort of one site
    labels: dict[str, str]  # every site of the cohort, name -> label
    # Per other site, in the order stored: (arm, algorithm, variant) -> the stored figures, and
    # the arms the site could not score with the reason.
    figures: dict[str, dict[tuple[str, str, str], dict]]
    skipped: dict[str, dict[str, str]]

    def for_models(self, models) -> dict | None:
        """``models`` (rows of the run) as ``models.model_card.where_validated`` takes them;
        None for a cohort of one site."""
        if not self.development:
            return None
        return {"development": self.labels.get(self.development, self.development),
                "sites": [{"site": site, "label": self.labels.get(site, site), "models": [
                    {"arm": m.arm, "algorithm": m.algorithm, "variant": m.variant,
                     "external": figures.get((m.arm, m.algorithm, m.variant), {}).get("external"),
                     "skipped": self.skipped[site].get(m.arm)} for m in models]}
                    for site, figures in self.figures.items()]}


def run_validation(run: TrainingRun) -> RunValidation:
    """Where ``run``'s models were validated (``RunValidation``)."""
    stored = list(run.external_validations.all())
    return RunValidation(
        development=run.development_site, labels=run.cohort.site_labels,
        figures={v.site: {(m["arm"], m["algorithm"], m["variant"]): m
                          for m in v.results["models"]} for v in stored},
        skipped={v.site: v.results["skipped"] for v in stored})


RECALIBRATED_VARIANT = "full"
RECALIBRATION_RESAMPLES = 100


def site_recalibration(run: TrainingRun, site: str, *, n_local: int, seed: int) -> list[dict]:
    """Per arm, the run's ranking model (``RANKING_ALGORITHM``, all data) recalibrated on
    ``n_local`` patients drawn (with ``seed``) at ``site`` among those whose consent to model
    training covers its data, as training chose them (``models.external.recalibrate``: the
    figures before and after on the rest of the site); ``error`` says why an arm's model could
    not be recalibrated."""
    frame = patients_frame(Patient.objects.filter(cohort=run.cohort_id, site=site))
    frame = frame[model_training_permitted(frame.index)[RECALIBRATED_VARIANT].to_numpy()]
    rows = run.models.filter(algorithm=RANKING_ALGORITHM, variant=RECALIBRATED_VARIANT)
    results = []
    for row in rows.order_by("pk"):
        try:
            results.append(recalibrate(fitted_model(row), frame, n_local=n_local,
                                       n_resamples=RECALIBRATION_RESAMPLES, random_state=seed))
        except ValueError as error:
            results.append({"arm": row.arm, "error": str(error)})
    return results
