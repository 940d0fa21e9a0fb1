"""Each teaching scenario's lesson as a check: generate a cohort, train what the lesson needs,
and say whether the lesson shows as the scenario's ``expected`` text states it.

``LESSON_CHECKS[scenario](n_patients, seed) -> bool``. ``benchmarks/bench_scenario_lessons.py``
runs them over sizes and seeds to find where each lesson shows (``Scenario.min_patients``);
the tests run them at that size.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from synthetic_data import ARMS, FIRST_LINE_ARMS, SCENARIOS, make_cohort

from .algorithms import ALGORITHMS, make_pipeline
from .fairness import fairness_audit
from .features import variant_features
from .ranking import RANKING_ALGORITHM
from .training import train_suite
from .truth import DECOYS


def _suite(cohort, scenario, seed, *, arms, algorithms=(RANKING_ALGORITHM,), variants=("full",),
           n_resamples=50):
    return train_suite(cohort.patients, truth=cohort.truth, scenario=scenario, random_state=seed,
                       arms=arms, algorithms=algorithms, variants=variants,
                       n_resamples=n_resamples, n_refits=2)


def auc_gap_by_ancestry(scenario: str, n: int, seed: int) -> float:
    """EUR minus AFR held-out AUC of the full logistic model, first-line arms pooled."""
    patients = make_cohort(n, scenario=scenario, random_state=seed).patients
    patients = patients[patients["prior_failures"] < 2]
    features = variant_features("full")
    train, test = train_test_split(patients, test_size=0.3, stratify=patients["response"],
                                   random_state=seed)
    with threadpool_limits(limits=1):
        pipeline = make_pipeline("logistic_regression", "full", random_state=seed)
        pipeline.fit(train[features], train["response"])
        predicted = pipeline.predict_proba(test[features])[:, 1]
    aucs = {}
    for group in ("EUR", "AFR"):
        mask = (test["ancestry"] == group).to_numpy()
        if len(set(test["response"][mask])) < 2:
            return float("nan")
        aucs[group] = roc_auc_score(test["response"][mask], predicted[mask])
    return aucs["EUR"] - aucs["AFR"]


def _true_rate_of_received_arm(cohort) -> np.ndarray:
    """Each patient's true response probability under the arm they received."""
    probabilities = cohort.truth[[f"p_response_{arm}" for arm in ARMS]].to_numpy()
    return probabilities[np.arange(len(probabilities)), cohort.patients["arm"].cat.codes]


def _audit(model):
    return fairness_audit(model.test_outcomes, model.test_probabilities, model.test_groups,
                          n_resamples=100, random_state=0)


def prs_portability(n, seed) -> bool:
    """The EUR-AFR gap in held-out AUC is clearly (3 points) larger than under default."""
    lesson, default = (auc_gap_by_ancestry(name, n, seed) for name in ("prs_portability", "default"))
    return lesson > default + 0.03


def underrepresented(n, seed) -> bool:
    """In every first-line arm the AFR group is flagged: too small to show, its ROC AUC hidden
    (too few responders or non-responders) or too imprecise to compare."""
    cohort = make_cohort(n, scenario="underrepresented", random_state=seed)
    suite = _suite(cohort, "underrepresented", seed, arms=FIRST_LINE_ARMS)
    for model in suite.models.values():
        groups = {g["group"]: g for g in _audit(model)["attributes"]["ancestry"]["groups"]}
        afr = groups.get("AFR")
        if afr is not None and not (afr["small"] or afr["imprecise"]
                                    or afr["hidden"]["roc_auc"]):
            return False
    return True


def decoy_biomarker(n, seed) -> bool:
    """Most algorithms' SSRI models credit a decoy among their top five and the truth check
    flags it."""
    cohort = make_cohort(n, scenario="decoy_biomarker", random_state=seed)
    suite = _suite(cohort, "decoy_biomarker", seed, arms=("ssri",), algorithms=ALGORITHMS)
    flagging = sum(bool(set(m.truth_check["flagged"]) & set(DECOYS))
                   for m in suite.models.values())
    return flagging > len(suite.models) / 2


def candidate_gene(n, seed) -> bool:
    """The SSRI model credits 5-HTTLPR at least one and a half times as much as the same model
    under default, where its true effect is zero."""
    credit = {}
    for scenario in ("candidate_gene", "default"):
        cohort = make_cohort(n, scenario=scenario, random_state=seed)
        model = next(iter(_suite(cohort, scenario, seed, arms=("ssri",)).models.values()))
        credit[scenario] = model.global_importance["httlpr_genotype"]
    return credit["candidate_gene"] > 1.5 * credit["default"]


def label_bias(n, seed) -> bool:
    """AFR's recorded response rate exceeds their true one by 5 points, and in the fairness audit
    of every first-line model AFR's observed response rate exceeds the model's mean prediction
    for them (the model cannot tell AFR patients apart without genetic proxies, so it predicts
    them like everyone else) whenever AFR's cells are shown."""
    cohort = make_cohort(n, scenario="label_bias", random_state=seed)
    afr = (cohort.patients["ancestry"] == "AFR").to_numpy()
    recorded = cohort.patients["response"].to_numpy()[afr].mean()
    true_rate = _true_rate_of_received_arm(cohort)[afr].mean()
    if recorded <= true_rate + 0.05:
        return False
    suite = _suite(cohort, "label_bias", seed, arms=FIRST_LINE_ARMS, variants=("no_genetic",))
    for model in suite.models.values():
        groups = {g["group"]: g for g in _audit(model)["attributes"]["ancestry"]["groups"]}
        metrics = groups["AFR"]["metrics"]
        if metrics["observed_rate"] is not None and metrics["observed_rate"] <= metrics["mean_predicted"]:
            return False
    return True


def random_labels(n, seed) -> bool:
    """The oracle's AUC is 0.5 and at most one of the five first-line models' 95% AUC intervals
    misses 0.5 (each misses it with chance 1 in 20)."""
    cohort = make_cohort(n, scenario="random_labels", random_state=seed)
    suite = _suite(cohort, "random_labels", seed, arms=FIRST_LINE_ARMS, n_resamples=200)
    missed = sum(not m.metrics["roc_auc_low"] <= 0.5 <= m.metrics["roc_auc_high"]
                 for m in suite.models.values())
    return missed <= 1 and all(m.truth_check["oracle_roc_auc"] == 0.5
                               for m in suite.models.values())


def confounding_by_indication(n, seed) -> bool:
    """CBT's patients are milder (HAM-D 2+ points lower) and CBT's observed response rate sits at
    least 2 points above CBT's true mean over the whole cohort."""
    cohort = make_cohort(n, scenario="confounding_by_indication", random_state=seed)
    patients = cohort.patients
    cbt = (patients["arm"] == "cbt").to_numpy()
    milder = patients["hamd17"][~cbt].mean() - patients["hamd17"][cbt].mean() >= 2
    excess = patients["response"][cbt].mean() - cohort.truth["p_response_cbt"].mean()
    return bool(milder and excess >= 0.02)


def consent_selection(n, seed) -> bool:
    cohort = make_cohort(n, scenario="consent_selection", random_state=seed)
    declined = cohort.consent["declines_genetic"].to_numpy()
    maltreated = cohort.patients["childhood_maltreatment"].to_numpy()
    return maltreated[declined].mean() > maltreated[~declined].mean() + 0.2


LESSON_CHECKS = {name: globals()[name] for name in SCENARIOS if name != "default"}
