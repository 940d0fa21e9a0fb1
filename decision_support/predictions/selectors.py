"""Reads: the newest training run of a cohort, and one patient's predictions and explanations."""

from dataclasses import dataclass

import pandas as pd

from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import patients_frame, truth_frame
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
    values: pd.Series
    ranking: pd.DataFrame
    explanations: list[ArmExplanation]
    guidance: list[Guidance]
    true_probability: dict | None


def patient_predictions(patient: Patient, run: TrainingRun, *, algorithm: str,
                        variant: str = "full") -> PatientPredictions:
    """Ranking of eligible arms (with intervals), a SHAP explanation per ranked arm, PGx rules,
    and, where the cohort is simulated, the true response probability under every arm."""
    rows = patients_frame(Patient.objects.filter(pk=patient.pk))
    registry = {(m.arm, m.algorithm): m for m in run.models.filter(variant=variant)}
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
    values = rows.iloc[0]
    truth = truth_frame(Patient.objects.filter(pk=patient.pk))
    true_probability = ({arm: float(truth.iloc[0][f"p_response_{arm}"]) for arm in ARMS}
                        if len(truth) else None)
    return PatientPredictions(
        values=values, ranking=ranking, explanations=explanations,
        guidance=pgx_guidance(str(values["cyp2c19_phenotype"]), str(values["cyp2d6_phenotype"])),
        true_probability=true_probability)
