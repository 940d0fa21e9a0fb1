"""The JSON API's response bodies (pydantic, via django-ninja); the OpenAPI schema is built from them.

Counts and shares that the small-cell rule hides are the string ``"<11"``, as on the pages.
"""

import datetime as dt
import uuid
from typing import Any

from ninja import Schema

from models.pgx import Guidance

Suppressible = int | str | None
Share = float | str | None


class Error(Schema):
    detail: str


class ValidationErrors(Schema):
    detail: list[dict[str, Any]]


class CohortOut(Schema):
    id: int
    uid: uuid.UUID
    name: str
    scenario: str
    source: str
    n_patients: int
    seed: int | None
    generator_version: str
    is_demo: bool
    created_at: dt.datetime
    latest_run_id: int | None


class ArmSummary(Schema):
    arm: str
    population: str
    n: Suppressible
    response_rate: Share
    remission_rate: Share


class CohortSummary(Schema):
    n_patients: Suppressible
    n_first_line: Suppressible
    n_resistant: Suppressible
    female_share: Share
    response_rate: Share
    arms: list[ArmSummary]


class CohortDetail(CohortOut):
    summary: CohortSummary
    # Patients whose consent leaves each consent class out of these aggregates.
    left_out: dict[str, Suppressible]


class ClinicalOut(Schema):
    arm: str
    response: int | None
    prior_failures: int | None


class PatientRow(Schema):
    pseudonym: str
    case_label: str  # "Case 14": the patient's number in the cohort, a label to say aloud
    clinical: ClinicalOut | None  # null: withheld by consent, or not shown to this role


class PatientPage(Schema):
    page: int
    pages: int
    count: int
    patients: list[PatientRow]


class PatientOut(Schema):
    pseudonym: str
    case_label: str
    cohort_id: int
    withheld: list[str]  # consent classes the patient's consent withholds for this purpose
    variant: str | None  # the model variant that reads only the released data
    values: dict[str, Any]  # observed values released by consent and shown to this role
    values_not_shown: list[str]  # released, but not shown to this role (genotype values)
    pgx_guidance: list[Guidance]  # the PGx rules that apply (models.pgx.Guidance)


class RankedArm(Schema):
    rank: int
    arm: str
    label: str
    probability: float
    low: float | None  # None: the ranking algorithm has no bootstrap refits
    high: float | None
    small_sample: bool


class PredictionsOut(Schema):
    pseudonym: str
    case_label: str
    # "ok"; or why nothing is predicted: "paused", "no_training_run", "clinical_data_withheld"
    status: str
    run_id: int | None
    variant: str | None
    ranking: list[RankedArm]
    true_probability: dict[str, float] | None  # educators only, for simulated cohorts


class Contribution(Schema):
    feature: str
    value: Any  # null where this role may not see the value
    shap: float


class ArmExplanationOut(Schema):
    arm: str
    algorithm: str
    variant: str
    units: str
    base_value: float
    model_output: float
    probability: float
    contributions: list[Contribution]
    narrative: str


class ExplanationsOut(Schema):
    pseudonym: str
    case_label: str
    status: str
    run_id: int | None
    variant: str | None
    algorithm: str
    explanations: list[ArmExplanationOut]


class ModelMetrics(Schema):
    arm: str
    algorithm: str
    variant: str
    roc_auc: float
    roc_auc_low: float
    roc_auc_high: float
    balanced_accuracy: float
    brier: float
    cv_roc_auc_mean: float | None
    cv_roc_auc_sd: float | None
    n_train: int | None
    n_test: int
    small_sample: bool


class PolicyValueOut(Schema):
    """Expected response rates of four ways of choosing a treatment, scored with the simulation's
    true response probabilities over the run's held-out patients (``models.policy``)."""

    oracle: float
    model: float
    best_single: float | None  # null for a run trained before it was stored
    random: float
    intervals: dict[str, list[float]]  # policy -> [low, high]; empty for a run trained before
    interval_level: float | None
    n_patients: int
    n_excluded: Suppressible  # held-out patients left out: no model-training consent
    best_single_arms: dict[str, str]  # "first_line", "treatment_resistant" -> arm


class RunOut(Schema):
    id: int
    cohort_id: int
    scenario: str
    seed: int
    n_patients: int
    created_at: dt.datetime
    skipped_arms: dict[str, str]
    excluded_by_consent: dict[str, Any]
    # Null without a truth (an imported cohort) or for roles that may not see it (withheld).
    policy_value: PolicyValueOut | None
    policy_value_withheld: bool
    top_choice_shares: dict[str, float]  # how often the model ranks each arm first
    models: list[ModelMetrics]


class Figure(Schema):
    value: float | None  # null where the site could not estimate it
    low: float | None  # 95% bootstrap interval; null where none
    high: float | None


class TravelFigures(Schema):
    roc_auc: Figure
    calibration_in_the_large: Figure  # 0: right on average; negative: predictions too high
    calibration_slope: Figure  # 1: spread right; below 1: predictions too extreme
    brier: Figure


class TravelModel(Schema):
    arm: str
    algorithm: str
    variant: str
    internal: TravelFigures  # held out at the development site
    external: TravelFigures  # at this site
    auc_change: float | None  # external minus internal ROC AUC
    n_internal: Suppressible
    n_external: Suppressible


class SiteOut(Schema):
    site: str
    label: str


class FeatureShift(Schema):
    feature: str
    internal: float  # mean |SHAP| on the development site's held-out patients
    external: float  # mean |SHAP| on this site's patients


class TravelImportance(Schema):
    """An arm's ranking model's SHAP importance at both sites, every feature, most important at
    the development site first (the page charts the first eight)."""
    arm: str
    algorithm: str
    variant: str
    n_internal: Suppressible
    n_external: Suppressible
    features: list[FeatureShift]


class TravelSite(SiteOut):
    models: list[TravelModel]
    # Null for a run validated before SHAP importance was stored at validation.
    importance: list[TravelImportance] | None
    skipped_arms: dict[str, str]  # arm -> why the site could not score its models
    excluded_by_consent: dict[str, Suppressible]  # per variant: no model-training consent
    # The policy value at this site, scored with the truth: null for roles that may not see it.
    policy_value: PolicyValueOut | None
    policy_value_withheld: bool


class ValidatedAt(Schema):
    development_site: SiteOut | None  # null: a cohort of one site
    external_sites: list[SiteOut]
    statement: str  # "Validated at: ..." as on the model card
    not_at: list[str]  # where some of the run's models could not be scored, and why


class TravelOut(Schema):
    """Does it travel? A multi-site run's models at each site they were not trained at, beside
    their internal figures (the page ``runs/<id>/travel/``)."""

    run_id: int
    cohort_id: int
    validated_at: ValidatedAt
    sites: list[TravelSite]  # empty for a cohort of one site
