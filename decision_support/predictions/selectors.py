"""Reads: one patient's predictions and explanations, the pause in force, and the decisions
recorded for a patient that a reader may see (``patient_decisions``: the one rule, for every
surface that shows decisions).

A patient's truth reaches pages only through the readers below that take the reader's roles
(``patient_truth``, ``true_response_probabilities``): they apply the field rules of
``accounts.access`` (``PATIENT_TRUTH_ROLES``), so a page, export or API answer for another role
never receives it; the model-level truth has its readers in ``registry.selectors``.
"""

from dataclasses import dataclass

import pandas as pd
from django.core.paginator import Page, Paginator

from decision_support.accounts.access import (ALL_DECISIONS_ROLES, PATIENT_TRUTH_ROLES, POLICIES,
                                              can)
from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import truth_frame
from decision_support.consent.reads import ConsentedPatient, patients_permitting
from decision_support.lib.vocabulary import ConsentClass
from decision_support.registry.loading import fitted_model, refit_coefficients
from decision_support.registry.models import TrainedModel, TrainingRun
from decision_support.registry.selectors import ranking_choice

from models.explain import Explanation, narrative
from models.pgx import Guidance, pgx_guidance
from models.ranking import AlgorithmChoice, eligible_arms, rank_treatments
from synthetic_data import ARMS, ARM_LABELS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .models import PredictionPause, TreatmentDecision

PATIENTS_PER_PAGE = 50


# Predicting for one patient reads a registry row's names, metrics and artifact, never the
# columns only model pages use: the held-out evaluation, the global explanation (its beeswarm
# is tens of kB of JSON a row) and the truth check. Decoding them was about a third of a
# patient page. The ranking's bootstrap refits come from a per-process cache instead.
PREDICTION_DEFERRED = ("evaluation", "explanation", "truth_check", "refit_coefficients")


@dataclass
class ArmExplanation:
    arm: str
    model: TrainedModel
    explanation: Explanation
    narrative: str


@dataclass
class PatientPredictions:
    ranking: pd.DataFrame
    explanations: list[ArmExplanation]
    true_probability: dict | None
    variant: str
    choice: AlgorithmChoice  # the algorithm that ranked, and why


def patient_predictions(patient: ConsentedPatient, run: TrainingRun, *,
                        algorithm: str | None = None, truth_roles=frozenset(),
                        hidden: frozenset[str] = frozenset()) -> PatientPredictions | None:
    """Ranking of eligible arms (with intervals), a SHAP explanation per ranked arm by
    ``algorithm`` (by default the one that ranks), PGx rules, and, when ``truth_roles`` may see a
    patient's truth and the cohort is simulated, the true response probability under every arm.
    Narratives name the features in ``hidden`` without their values.

    Only the data the consent gate released is used, by the model variant that never saw the
    rest; without clinical consent nothing is predicted (None). While predictions are paused
    nothing is predicted either (None; see ``patient_ranking``).
    """
    ranking = patient_ranking(patient, run)
    if ranking is None:
        return None
    rows = patient.frame
    choice = ranking_choice(run)
    algorithm = algorithm or choice.algorithm
    registry = {(m.arm, m.algorithm): m for m in run.models.filter(variant=patient.variant)
                .defer(*PREDICTION_DEFERRED)}
    explanations = []
    for arm in ranking["arm"]:
        row = registry.get((arm, algorithm))
        if row is None:
            continue
        model = fitted_model(row)
        explanation = model.explain(rows)[0]
        explanations.append(ArmExplanation(
            arm=arm, model=row, explanation=explanation,
            narrative=narrative(explanation, arm_label=ARM_LABELS[arm], medians=model.medians,
                                hidden=hidden)))
    true_probability = true_response_probabilities(rows.index[0], roles=truth_roles)
    return PatientPredictions(ranking=ranking, explanations=explanations,
                              true_probability=true_probability, variant=patient.variant,
                              choice=choice)


@dataclass
class PatientListPage:
    page: Page
    patients: list[dict]  # pseudonym, and clinical (arm, response, prior failures) or None
    shows_clinical: bool  # False: these roles see pseudonyms only
    withheld: int  # patients on the page whose consent withholds their clinical data


def patient_list_page(cohort, number, *, roles, purpose: str) -> PatientListPage:
    """One page of a cohort's patients: every pseudonym, and each patient's treatment, outcome and
    prior failures where the roles may see clinical data (those of a patient's page) and the
    patient's consent for ``purpose`` covers it. Raises ``InvalidPage`` for a page out of range."""
    paginator = Paginator(Patient.objects.filter(cohort=cohort).order_by("pk")
                          .values("pk", "pseudonym", "arm", "response", "clinical__prior_failures"),
                          PATIENTS_PER_PAGE)
    page = paginator.page(number)
    shows_clinical = can(roles, POLICIES["patient_detail"].roles)
    clinical = (patients_permitting([p["pk"] for p in page.object_list],
                                    needs={ConsentClass.CLINICAL}, purpose=purpose)
                if shows_clinical else frozenset())
    patients = [{"pseudonym": p["pseudonym"],
                 "clinical": ({k: p[k] for k in ("arm", "response", "clinical__prior_failures")}
                              if p["pk"] in clinical else None)}
                for p in page.object_list]
    withheld = sum(p["clinical"] is None for p in patients) if shows_clinical else 0
    return PatientListPage(page=page, patients=patients, shows_clinical=shows_clinical,
                           withheld=withheld)


def patient_truth(patient_id: int, *, roles) -> pd.DataFrame | None:
    """One patient's ground truth (latent drivers, true response probability and potential
    outcome under every arm; one row, none for an imported cohort) for roles that may see a
    patient's truth; None for every other role."""
    if not can(roles, PATIENT_TRUTH_ROLES):
        return None
    return truth_frame(Patient.objects.filter(pk=patient_id))


def true_response_probabilities(patient_id: int, *, roles) -> dict[str, float] | None:
    """The simulation's probability of response under every arm ({} for an imported cohort),
    or None for roles that may not see a patient's truth (``patient_truth``)."""
    truth = patient_truth(patient_id, roles=roles)
    if truth is None:
        return None
    return {arm: float(truth.iloc[0][f"p_response_{arm}"]) for arm in ARMS} if len(truth) else {}


def patient_guidance(patient: ConsentedPatient) -> list[Guidance]:
    """PGx rules from the genotypes the consent gate released (none if genetic use is withheld)."""
    values = patient.values
    return pgx_guidance(*(str(values[gene]) if gene in values.index else None
                          for gene in ("cyp2c19_phenotype", "cyp2d6_phenotype")))


# --- Human oversight: the pause switch, recorded decisions ----------------------------------------


def prediction_pause() -> PredictionPause | None:
    """The pause in force (who paused, when, why), or None while predictions run."""
    latest = PredictionPause.objects.order_by("-at", "-id").first()
    return latest if latest is not None and latest.paused else None


def patient_ranking(patient: ConsentedPatient, run: TrainingRun | None) -> pd.DataFrame | None:
    """The eligible arms by predicted response, best first (``arm``, ``probability``, ``low``,
    ``high``; ``small_sample`` and ``n_test`` of the model that ranked the arm), from the models
    of the run's ranking algorithm (``registry.selectors.ranking_choice``) in the variant the
    consent gate chose.

    The one gate of every prediction of a patient: nothing (None) while predictions are paused,
    without a training run, or without consent to use clinical data. ``patient_predictions`` and
    the recorded decision's recommendation both go through here, and so must any future API.
    """
    if prediction_pause() is not None or run is None or patient.variant is None:
        return None
    rows = {m.arm: m for m in run.models.filter(variant=patient.variant,
                                                 algorithm=ranking_choice(run).algorithm)
            .only("pk", "run", "arm", "artifact", "metrics")}
    ranking = rank_treatments(
        patient.frame, {arm: fitted_model(m).pipeline for arm, m in rows.items()},
        {arm: refit_coefficients(m) for arm, m in rows.items()})[0]
    ranked = [rows[arm].metrics for arm in ranking["arm"]]
    ranking["small_sample"] = [bool(m.get("small_sample")) for m in ranked]
    ranking["n_test"] = [int(m["n_test"]) for m in ranked]
    return ranking


@dataclass(frozen=True)
class DecisionOptions:
    arms: tuple[str, ...]  # the arms this patient is eligible for
    recommended: str | None  # the model's top arm, None when no ranking is shown
    eligibility_known: bool  # False: prior failures withheld, so only first-line arms are offered


def decision_options(patient: ConsentedPatient, ranking: pd.DataFrame | None) -> DecisionOptions:
    """The arms a person may choose for this patient and the recommendation shown beside them.

    Eligibility is clinical, not the model's: every active arm the patient may receive, ranked or
    not. Without the prior failures (clinical data withheld), only first-line arms are offered:
    rTMS and esketamine need two or more documented failures.
    """
    values = patient.values
    known = "prior_failures" in values.index
    resistant = known and int(values["prior_failures"]) >= TREATMENT_RESISTANT_MIN_FAILURES
    recommended = str(ranking["arm"].iloc[0]) if ranking is not None and len(ranking) else None
    return DecisionOptions(arms=eligible_arms(resistant), recommended=recommended,
                           eligibility_known=known)


def patient_decisions(patient, *, reader, roles) -> list[TreatmentDecision]:
    """The treatment decisions recorded for a patient that ``reader`` may see, newest first:
    everyone's for ``roles`` that see them all (``access.ALL_DECISIONS_ROLES``: the educators of
    the patient's course), otherwise only the reader's own."""
    decisions = TreatmentDecision.objects.filter(patient=patient)
    if not can(roles, ALL_DECISIONS_ROLES):
        decisions = decisions.filter(actor_id=reader.pk)
    return list(decisions.order_by("-decided_at", "-id"))

