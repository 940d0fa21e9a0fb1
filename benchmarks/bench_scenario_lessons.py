"""At which cohort sizes does each teaching scenario's lesson show? Trains and counts, per size.

Plain Python, no Django. For each scenario and size, over several seeds, generates a cohort,
trains what the lesson needs (the ranking algorithm or all three, only the arms the lesson is
about) and checks the lesson as its ``expected`` text states it. Prints, per scenario and size,
in how many seeds the lesson showed. ``synthetic_data.scenarios`` records the smallest size at
which it showed in every seed (``Scenario.min_patients``) and the cohort page refuses smaller
ones. Slow (minutes); asserts nothing.

    .venv/bin/python benchmarks/bench_scenario_lessons.py
    .venv/bin/python benchmarks/bench_scenario_lessons.py --sizes 300 2000 --seeds 1 2 --scenarios underrepresented
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import environment_lines, print_table
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from models.algorithms import ALGORITHMS, make_pipeline
from models.fairness import fairness_audit
from models.features import variant_features
from models.ranking import RANKING_ALGORITHM
from models.training import train_suite
from models.truth import CREDITED_TOP, DECOYS
from synthetic_data import ARMS, FIRST_LINE_ARMS, SCENARIOS, make_cohort

SIZES = [300, 1_000, 2_000, 5_000, 10_000, 20_000]


def _suite(cohort, scenario, seed, *, arms, algorithms=(RANKING_ALGORITHM,), variants=("full",)):
    return train_suite(cohort.patients, truth=cohort.truth, scenario=scenario, random_state=seed,
                       arms=arms, algorithms=algorithms, variants=variants, n_resamples=50,
                       n_refits=2)


def _auc_gap(scenario, n, seed) -> float:
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
    return _auc_gap("prs_portability", n, seed) > _auc_gap("default", n, seed) + 0.05


def underrepresented(n, seed) -> bool:
    """In every first-line arm the AFR group is flagged: too small to show, or too imprecise."""
    cohort = make_cohort(n, scenario="underrepresented", random_state=seed)
    suite = _suite(cohort, "underrepresented", seed, arms=FIRST_LINE_ARMS)
    for model in suite.models.values():
        groups = {g["group"]: g for g in _audit(model)["attributes"]["ancestry"]["groups"]}
        afr = groups.get("AFR")
        if afr is not None and not (afr["small"] or afr["imprecise"]):
            return False
    return True


def decoy_biomarker(n, seed) -> bool:
    """Every algorithm's SSRI model credits a decoy among its top five and the check flags it."""
    cohort = make_cohort(n, scenario="decoy_biomarker", random_state=seed)
    suite = _suite(cohort, "decoy_biomarker", seed, arms=("ssri",), algorithms=ALGORITHMS)
    for model in suite.models.values():
        flagged = set(model.truth_check["flagged"]) & set(DECOYS)
        if not flagged:
            return False
    return True


def candidate_gene(n, seed) -> bool:
    """The SSRI model credits 5-HTTLPR among its top five features."""
    cohort = make_cohort(n, scenario="candidate_gene", random_state=seed)
    model = next(iter(_suite(cohort, "candidate_gene", seed, arms=("ssri",)).models.values()))
    top = sorted(model.global_importance, key=model.global_importance.get, reverse=True)
    return "httlpr_genotype" in top[:CREDITED_TOP]


def label_bias(n, seed) -> bool:
    """AFR's recorded response rate exceeds their true one, and the full SSRI model selects AFR
    patients as responders more often than any other shown group."""
    cohort = make_cohort(n, scenario="label_bias", random_state=seed)
    afr = (cohort.patients["ancestry"] == "AFR").to_numpy()
    recorded = cohort.patients["response"].to_numpy()[afr].mean()
    true_rate = _true_rate_of_received_arm(cohort)[afr].mean()
    model = next(iter(_suite(cohort, "label_bias", seed, arms=("ssri",)).models.values()))
    rates = {g["group"]: g["metrics"]["selection_rate"]
             for g in _audit(model)["attributes"]["ancestry"]["groups"]}
    shown = {g: r for g, r in rates.items() if r is not None}
    return (recorded > true_rate + 0.05 and "AFR" in shown
            and shown["AFR"] == max(shown.values()))


def random_labels(n, seed) -> bool:
    """Every first-line model's AUC interval includes 0.5."""
    cohort = make_cohort(n, scenario="random_labels", random_state=seed)
    suite = _suite(cohort, "random_labels", seed, arms=FIRST_LINE_ARMS)
    return all(m.metrics["roc_auc_low"] <= 0.5 <= m.metrics["roc_auc_high"]
               for m in suite.models.values())


def confounding_by_indication(n, seed) -> bool:
    """CBT's patients are milder (HAM-D 2+ points lower) and CBT's observed rate sits above its
    true mean over the cohort."""
    cohort = make_cohort(n, scenario="confounding_by_indication", random_state=seed)
    patients = cohort.patients
    cbt = (patients["arm"] == "cbt").to_numpy()
    milder = patients["hamd17"][~cbt].mean() - patients["hamd17"][cbt].mean() >= 2
    first_line = (patients["prior_failures"] < 2).to_numpy()
    return bool(milder and patients["response"][cbt].mean()
                > cohort.truth["p_response_cbt"][first_line].mean())


def consent_selection(n, seed) -> bool:
    cohort = make_cohort(n, scenario="consent_selection", random_state=seed)
    declined = cohort.consent["declines_genetic"].to_numpy()
    maltreated = cohort.patients["childhood_maltreatment"].to_numpy()
    return maltreated[declined].mean() > maltreated[~declined].mean() + 0.2


LESSONS = {name: globals()[name] for name in SCENARIOS if name != "default"}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--scenarios", nargs="+", default=list(LESSONS), choices=list(LESSONS))
    args = parser.parse_args(argv)
    print("\n".join(f"# {line}" for line in environment_lines()))
    rows = []
    for name in args.scenarios:
        start = time.perf_counter()
        shown = [sum(LESSONS[name](n, seed) for seed in args.seeds) for n in args.sizes]
        rows.append([name, *(f"{k}/{len(args.seeds)}" for k in shown),
                     f"{time.perf_counter() - start:.0f} s"])
        print(f"# {name} done", flush=True)
    print_table(["scenario", *(f"{n:,}" for n in args.sizes), "time"], rows)


if __name__ == "__main__":
    main()
