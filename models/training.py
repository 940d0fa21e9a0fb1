"""Train, for every arm, three algorithms in three feature variants, on the patients who received
that arm; evaluate on held-out patients; compute global SHAP once; check it all against the truth.

Every fit and every evaluation of a variant (cross-validation, held-out metrics and their
intervals, calibration, the fairness audit's group labels, global SHAP, the truth check) sees only
the patients ``permitted`` for that variant; the policy value only those permitted for the
variant of the ranking models it compares. The suite records how many each split left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from threadpoolctl import threadpool_limits

from synthetic_data import ARMS, TREATMENT_RESISTANT_ARMS
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .algorithms import ALGORITHMS, make_pipeline
from .evaluation import (SMALL_TEST_SET, calibration_points, group_labels, held_out_metrics,
                         roc_points)
from .explain import ModelExplainer, beeswarm_data, global_importance
from .features import VARIANTS, variant_features
from .policy import policy_values
from .ranking import (ACTIVE_ARMS, RANKING_ALGORITHM, bootstrap_coefficients, choose_algorithm,
                      rank_treatments)
from .truth import truth_check

TEST_SIZE = 0.3
CV_FOLDS = 5
MIN_PATIENTS_PER_CLASS = 10
GLOBAL_SHAP_ROWS = 300
Progress = Callable[[int, int, str], None]


@dataclass
class TrainedModel:
    """One fitted model with everything computed about it at training time."""

    arm: str
    algorithm: str
    variant: str
    features: list[str]
    pipeline: object
    background_mean: np.ndarray
    medians: dict
    metrics: dict
    roc: dict
    calibration: dict
    test_outcomes: list[int]
    test_probabilities: list[float]
    global_importance: dict
    beeswarm: dict
    truth_check: dict | None = None
    # Held-out patients' sex, ancestry and age band, aligned with ``test_outcomes`` (fairness).
    test_groups: dict | None = None

    @cached_property
    def explainer(self) -> ModelExplainer:
        return ModelExplainer(self.pipeline, self.features, self.background_mean)

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        return self.pipeline.predict_proba(rows[self.features])[:, 1]

    def explain(self, rows: pd.DataFrame):
        return self.explainer.explain(rows)


@dataclass
class ModelSuite:
    """Every model of one training run, keyed by (arm, algorithm, variant)."""

    models: dict[tuple[str, str, str], TrainedModel]
    refits: dict[tuple[str, str], np.ndarray]
    random_state: int
    n_patients: int
    skipped: dict[str, str] = field(default_factory=dict)
    policy: dict | None = None
    excluded: dict[str, int] = field(default_factory=dict)  # per variant: left out by consent
    # Per variant, the patients of the arms' training splits ("training": fitting and
    # cross-validation) and held-out splits ("held_out": every held-out evaluation) left out.
    excluded_by_split: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def metrics(self) -> pd.DataFrame:
        rows = [{"arm": m.arm, "algorithm": m.algorithm, "variant": m.variant, **m.metrics,
                 "calibration": m.calibration} for m in self.models.values()]
        return pd.DataFrame(rows)

    def model(self, *, arm: str, algorithm: str, variant: str) -> TrainedModel:
        try:
            return self.models[(arm, algorithm, variant)]
        except KeyError:
            reason = self.skipped.get(arm, "no such arm, algorithm or variant in this suite")
            raise ValueError(f"no model for {arm}/{algorithm}/{variant}: {reason}") from None

    def explain(self, patient_rows: pd.DataFrame, *, arm: str, algorithm: str, variant: str):
        """Per patient: base value, contributions (pandas Series), model output, probability."""
        return self.model(arm=arm, algorithm=algorithm, variant=variant).explain(patient_rows)

    def rank(self, patient_rows: pd.DataFrame, *, variant: str = "full") -> list[pd.DataFrame]:
        """Per patient, every eligible active arm's predicted response with an interval, by the
        algorithm ``models.ranking.choose_algorithm`` picks for the suite, as the pages rank."""
        algorithm = choose_algorithm(self.models.values()).algorithm
        point = {arm: self.models[(arm, algorithm, variant)].pipeline
                 for arm in ACTIVE_ARMS if (arm, algorithm, variant) in self.models}
        refits = {arm: self.refits.get((arm, variant)) if algorithm == RANKING_ALGORITHM else None
                  for arm in point}
        return rank_treatments(patient_rows, point, refits)


def train_suite(patients: pd.DataFrame, *, truth: pd.DataFrame | None = None,
                scenario: str = "default", random_state: int | None = None,
                arms=ARMS, algorithms=ALGORITHMS, variants=VARIANTS, n_resamples: int = 200,
                n_refits: int = 20, permitted: dict | None = None,
                progress: Progress | None = None) -> ModelSuite:
    """Train and evaluate the model suite.

    Parameters
    ----------
    patients : pandas.DataFrame
        Observed patients as ``synthetic_data.make_cohort(...).patients``.
    truth : pandas.DataFrame, optional
        The cohort's ground truth, aligned with ``patients``; enables the truth check and the
        policy value against the oracle.
    scenario : str
        The scenario the cohort came from (the truth check needs its true effects).
    random_state : int, optional
        One seed makes splits, models, intervals and SHAP values reproducible.
    n_resamples : int
        Bootstrap resamples for the ROC AUC intervals.
    n_refits : int
        Bootstrap refits of the ranking model, for the intervals of a treatment ranking.
    permitted : dict, optional
        Per variant, a boolean Series over ``patients.index``: whose data that variant may use
        (consent to model training). Others are left out of its training and evaluation; the
        policy value ranks each held-out patient with the richest variant permitted, and leaves
        out those permitted none.
    progress : callable, optional
        Called as ``progress(done, total, label)`` after each fitted model.

    Returns
    -------
    ModelSuite
    """
    # The cohorts are small: OpenMP and BLAS threads cost more than they give, and on a
    # busy machine their spin-waiting slows training many times over.
    with threadpool_limits(limits=1):
        return _train_suite(patients, truth=truth, scenario=scenario, random_state=random_state,
                            arms=arms, algorithms=algorithms, variants=variants,
                            n_resamples=n_resamples, n_refits=n_refits, permitted=permitted,
                            progress=progress)


def split_arm(received: pd.DataFrame, *, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One arm's patients as (training, held-out), stratified by response: the split of
    ``train_suite`` with ``random_state=seed``. Raises ``ValueError`` when a response class has
    too few patients to split."""
    return train_test_split(received, test_size=TEST_SIZE,
                            stratify=received["response"].to_numpy(), random_state=seed)


def _train_suite(patients, *, truth, scenario, random_state, arms, algorithms, variants,
                 n_resamples, n_refits, permitted, progress) -> ModelSuite:
    seed = int(np.random.default_rng().integers(2**31)) if random_state is None else int(random_state)
    rng = np.random.default_rng(seed)
    models, refits, skipped = {}, {}, {}
    held_out = []
    excluded_by_split = {variant: {"training": 0, "held_out": 0} for variant in variants}
    everyone = pd.Series(True, index=patients.index)
    total = len(arms) * len(algorithms) * len(variants)
    done = 0
    for arm in arms:
        received = patients[patients["arm"] == arm]
        y = received["response"].to_numpy()
        if min(y.sum(), len(y) - y.sum()) < MIN_PATIENTS_PER_CLASS:
            # No counts in a reason: pages show it as it is, and a count of 1-10 may not be shown.
            skipped[arm] = (f"too few patients: fewer than {MIN_PATIENTS_PER_CLASS} responders or "
                            f"non-responders among those who received {arm}")
            done += len(algorithms) * len(variants)
            continue
        train_all, test_all = split_arm(received, seed=seed)
        splits = {}
        for variant in variants:
            usable = permitted[variant] if permitted else everyone
            splits[variant] = (train_all[usable.loc[train_all.index].to_numpy()],
                               test_all[usable.loc[test_all.index].to_numpy()])
        if short := _too_few_who_consented(splits):
            skipped[arm] = short
            done += len(algorithms) * len(variants)
            continue
        held_out.append(test_all.index)
        for variant, (train, test) in splits.items():
            excluded_by_split[variant]["training"] += len(train_all) - len(train)
            excluded_by_split[variant]["held_out"] += len(test_all) - len(test)
            for algorithm in algorithms:
                models[(arm, algorithm, variant)] = _fit(
                    arm, algorithm, variant, train, test, truth=truth, scenario=scenario,
                    seed=seed, rng=rng, n_resamples=n_resamples)
                done += 1
                if progress:
                    progress(done, total, f"{arm} {algorithm} {variant}")
            if RANKING_ALGORITHM in algorithms:
                refits[(arm, variant)] = bootstrap_coefficients(
                    models[(arm, RANKING_ALGORITHM, variant)].pipeline, train,
                    n_refits=n_refits, rng=rng)
    excluded = {v: int((~permitted[v]).sum()) if permitted else 0 for v in variants}
    suite = ModelSuite(models=models, refits=refits, random_state=seed,
                       n_patients=len(patients), skipped=skipped, excluded=excluded,
                       excluded_by_split=excluded_by_split)
    if truth is not None and RANKING_ALGORITHM in algorithms and held_out:
        suite.policy = suite_policy(suite, patients, truth, np.concatenate(held_out),
                                    ranking_variants(patients.index, variants, permitted),
                                    n_resamples=n_resamples)
    return suite


def _too_few_who_consented(splits: dict) -> str | None:
    """Why an arm cannot be modelled once the patients who did not consent to model training are
    left out of its splits, or None: cross-validation needs ``CV_FOLDS`` patients of each response
    class to fit on, and the held-out metrics (AUC, calibration) need one of each to be defined."""
    for variant, (train, test) in splits.items():
        for name, part, needed in (("training", train, CV_FOLDS), ("held-out", test, 1)):
            responders = int(part["response"].sum())
            if min(responders, len(part) - responders) < needed:
                shortfall = (f"fewer than {needed} responders or non-responders" if needed > 1
                             else "no responders or no non-responders")
                return (f"too few patients who consented to model training: the {name} split of "
                        f"the {variant} variant has {shortfall}")
    return None


def _fit(arm, algorithm, variant, train, test, *, truth, scenario, seed, rng, n_resamples):
    features = variant_features(variant)
    pipeline = make_pipeline(algorithm, variant, random_state=seed)
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
    cv_auc = cross_val_score(clone(pipeline), train[features], train["response"], cv=folds,
                             scoring="roc_auc")
    pipeline.fit(train[features], train["response"])
    y_test = test["response"].to_numpy()
    p_test = pipeline.predict_proba(test[features])[:, 1]
    metrics = {
        **held_out_metrics(y_test, p_test, n_resamples=n_resamples, rng=rng),
        "cv_roc_auc_mean": float(cv_auc.mean()),
        "cv_roc_auc_sd": float(cv_auc.std()),
        "n_train": int(len(train)),
        "small_sample": bool(len(y_test) < SMALL_TEST_SET
                             or arm in TREATMENT_RESISTANT_ARMS),
    }
    background_mean = np.asarray(pipeline[:-1].transform(train[features])).mean(axis=0)
    medians = {f: float(train[f].median()) for f in features
               if train[f].dtype.kind in "if"}
    model = TrainedModel(
        arm=arm, algorithm=algorithm, variant=variant, features=features, pipeline=pipeline,
        background_mean=background_mean, medians=medians, metrics=metrics,
        roc=roc_points(y_test, p_test),
        calibration=calibration_points(y_test, p_test),
        test_outcomes=y_test.astype(int).tolist(),
        test_probabilities=p_test.round(6).tolist(),
        test_groups=group_labels(test),
        global_importance={}, beeswarm={},
    )
    sample = test.iloc[:GLOBAL_SHAP_ROWS]
    _, contributions, _ = model.explainer.shap_matrix(sample)
    model.global_importance = global_importance(contributions).round(6).to_dict()
    model.beeswarm = beeswarm_data(contributions, sample)
    if truth is not None:
        model.truth_check = truth_check(model, test, truth.loc[test.index], contributions,
                                        scenario=scenario)
    return model


def ranking_variants(index: pd.Index, variants, permitted: dict | None) -> pd.Series:
    """Per patient, the variant whose ranking the patient page shows: the richest trained variant
    whose data the patient permits (``VARIANTS`` lists them richest first, in the consent gate's
    order); missing for a patient who permits none."""
    chosen = pd.Series(None, index=index, dtype=object)
    for variant in (v for v in VARIANTS if v in variants):
        usable = permitted[variant].loc[index].to_numpy() if permitted else True
        chosen[chosen.isna().to_numpy() & usable] = variant
    return chosen


def suite_policy(suite: ModelSuite, patients, truth, held_out_index, variants_by_patient: pd.Series,
                 *, n_resamples: int) -> dict | None:
    """The policy value (``models.policy``) over the held-out patients who permit a variant, each
    with the top arm of that variant's ranking (``ModelSuite.rank``, as on the patient page), and
    ``n_excluded``: how many held-out patients it left out. ``variants_by_patient`` is
    ``ranking_variants``'s answer; external validation passes another site's patients."""
    ranked = {arm for arm, algorithm, _ in suite.models if algorithm == RANKING_ALGORITHM}
    arms = [a for a in ACTIVE_ARMS if a in ranked]
    if not arms:  # placebo alone: no treatment to choose between
        return None
    variant_of = variants_by_patient.loc[held_out_index].dropna()
    choice = pd.Series(None, index=variant_of.index, dtype=object)
    for variant, members in variant_of.groupby(variant_of, sort=False):
        rankings = suite.rank(patients.loc[members.index], variant=variant)
        choice[members.index] = [ranking["arm"].iloc[0] for ranking in rankings]
    rows = patients.loc[variant_of.index]
    true_p = truth.loc[variant_of.index, [f"p_response_{a}" for a in arms]]
    true_p.columns = arms
    resistant = rows["prior_failures"].to_numpy() >= TREATMENT_RESISTANT_MIN_FAILURES
    return {**policy_values(true_p, resistant, choice.to_numpy(), n_resamples=n_resamples,
                            random_state=suite.random_state),
            "n_excluded": len(held_out_index) - len(variant_of)}
