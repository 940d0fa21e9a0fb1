"""Reads: the newest training run of a cohort, and one patient's predictions and explanations."""

from dataclasses import dataclass

import pandas as pd

from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import truth_frame
from decision_support.consent.selectors import ConsentedPatient
from models.explain import Explanation, narrative
from models.pgx import Guidance, pgx_guidance
from models.ranking import RANKING_ALGORITHM, rank_treatments
from synthetic_data import ARMS

from .models import TrainedModel, TrainingRun
from .services import fitted_model

ARM_LABELS = {"placebo": "placebo", "ssri": "SSRI", "snri": "SNRI", "bupropion": "bupropion",
              "cbt": "CBT", "rtms": "rTMS", "esketamine": "esketamine"}


def latest_run(cohort) -> TrainingRun | None:
    return TrainingRun.objects.filter(cohort=cohort).first()


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


def patient_predictions(patient: ConsentedPatient, run: TrainingRun, *,
                        algorithm: str) -> PatientPredictions | None:
    """Ranking of eligible arms (with intervals), a SHAP explanation per ranked arm, PGx rules,
    and, where the cohort is simulated, the true response probability under every arm.

    Only the data the consent gate released is used, by the model variant that never saw the
    rest; without clinical consent nothing is predicted (None).
    """
    if patient.variant is None:
        return None
    rows = patient.frame
    registry = {(m.arm, m.algorithm): m for m in run.models.filter(variant=patient.variant)}
    ranking_rows = {arm: m for (arm, alg), m in registry.items() if alg == RANKING_ALGORITHM}
    ranking = rank_treatments(
        rows, {arm: fitted_model(m).pipeline for arm, m in ranking_rows.items()},
        {arm: m.refit_coefficients for arm, m in ranking_rows.items()})[0]
    explanations = []
    for arm in ranking["arm"]:
        row = registry.get((arm, algorithm))
        if row is None:
            continue
        model = fitted_model(row)
        explanation = model.explain(rows)[0]
        explanations.append(ArmExplanation(
            arm=arm, model=row, explanation=explanation,
            narrative=narrative(explanation, arm_label=ARM_LABELS[arm], medians=model.medians)))
    truth = truth_frame(Patient.objects.filter(pk=rows.index[0]))
    true_probability = ({arm: float(truth.iloc[0][f"p_response_{arm}"]) for arm in ARMS}
                        if len(truth) else None)
    return PatientPredictions(ranking=ranking, explanations=explanations,
                              true_probability=true_probability, variant=patient.variant)


def patient_guidance(patient: ConsentedPatient) -> list[Guidance]:
    """PGx rules from the genotypes the consent gate released (none if genetic use is withheld)."""
    values = patient.values
    return pgx_guidance(*(str(values[gene]) if gene in values.index else None
                          for gene in ("cyp2c19_phenotype", "cyp2d6_phenotype")))
