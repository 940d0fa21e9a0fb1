"""The fairness audit (models.fairness) against fairlearn computed directly, small-cell
suppression, bootstrap intervals; group labels stored at training time; the plain model card."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (MetricFrame, false_positive_rate, selection_rate,
                               true_positive_rate)
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from models import fairness
from models.evaluation import AGE_BANDS, age_band, group_labels
from models.fairness import METRICS, fairness_audit
from models.model_card import NO_GROUPS, model_card
from models.training import TEST_SIZE, train_suite
from synthetic_data import make_cohort

# fairlearn under pandas 3 warns about its own pandas calls (TOOLCHAIN.md): only where the test
# calls fairlearn itself.
quiet_fairlearn = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


def _predictions(n=2000, seed=0):
    """Outcomes, probabilities that carry some signal, and three attributes with large groups."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 + 0.25 * y + rng.normal(0, 0.2, n), 0.01, 0.99).round(6)
    groups = {"sex": rng.choice(["female", "male"], n).tolist(),
              "ancestry": rng.choice(["EUR", "AFR", "EAS", "AMR"], n, p=[.6, .15, .15, .1]).tolist(),
              "age_band": rng.choice([b for _, b in AGE_BANDS], n).tolist()}
    return y, p, groups


def _direct(y, p, labels, threshold):
    """fairlearn's MetricFrame on the same predictions, with fairlearn's and scikit-learn's own
    metric functions (no wrappers from the module under test)."""
    hard = MetricFrame(metrics={"true_positive_rate": true_positive_rate,
                                "false_positive_rate": false_positive_rate,
                                "selection_rate": selection_rate},
                       y_true=y, y_pred=p >= threshold, sensitive_features=labels)
    soft = MetricFrame(metrics={"roc_auc": roc_auc_score, "brier": brier_score_loss,
                                "mean_predicted": lambda _, q: np.mean(q),
                                "observed_rate": lambda t, _: np.mean(t)},
                       y_true=y, y_pred=p, sensitive_features=labels)
    return hard, soft


@quiet_fairlearn
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.65])
def test_group_numbers_equal_fairlearn_computed_directly(threshold):
    y, p, groups = _predictions()
    audit = fairness_audit(y, p, groups, threshold=threshold, n_resamples=50, random_state=1)
    shown = compared = 0
    for attribute, labels in groups.items():
        hard, soft = _direct(y, p, pd.Series(labels, name=attribute), threshold)
        expected = pd.concat([hard.by_group, soft.by_group], axis=1)
        rows = audit["attributes"][attribute]["groups"]
        assert [r["group"] for r in rows] == sorted(expected.index, key=[r["group"] for r in rows].index)
        for row in rows:
            assert row["n"] == labels.count(row["group"])
            for metric in METRICS:
                if row["hidden"][metric] is None:
                    assert row["metrics"][metric] == pytest.approx(
                        expected.loc[row["group"], metric], abs=1e-12)
                    shown += 1
                else:  # only a rule of small cells hides a value of these large groups
                    assert row["hidden"][metric] == fairness.SMALL_NUMERATOR
        info = audit["attributes"][attribute]
        for frame in (hard, soft):
            for metric in frame.by_group.columns:
                if len(info["compared"][metric]) < len(rows):
                    continue  # compared over the shown groups only (tested below)
                assert info["differences"][metric] == pytest.approx(frame.difference()[metric],
                                                                    abs=1e-12)
                assert info["ratios"][metric] == pytest.approx(frame.ratio()[metric], abs=1e-12)
                compared += 1
    assert shown >= 0.9 * len(METRICS) * sum(len(set(v)) for v in groups.values())
    assert compared >= 15
    hard, soft = _direct(y, p, pd.Series(groups["sex"]), threshold)
    for metric, value in {**hard.overall, **soft.overall}.items():
        assert audit["overall"]["metrics"][metric] == pytest.approx(value, abs=1e-12)


def test_groups_come_in_a_fixed_order():
    y, p, groups = _predictions(n=600)
    audit = fairness_audit(y, p, groups, n_resamples=20, random_state=0)
    assert [g["group"] for g in audit["attributes"]["ancestry"]["groups"]] == ["EUR", "AFR", "EAS", "AMR"]
    assert [g["group"] for g in audit["attributes"]["age_band"]["groups"]] == [b for _, b in AGE_BANDS]
    assert [g["group"] for g in audit["attributes"]["sex"]["groups"]] == ["female", "male"]


def _with_small_group(size=6):
    y, p, groups = _predictions(n=400, seed=3)
    labels = ["EUR"] * (400 - size) + ["AMR"] * size
    return y, p, {"ancestry": labels}


@quiet_fairlearn
def test_a_small_group_is_flagged_and_every_metric_of_it_hidden():
    y, p, groups = _with_small_group()
    audit = fairness_audit(y, p, groups, n_resamples=50, random_state=0)
    small = audit["attributes"]["ancestry"]["groups"][1]
    assert (small["group"], small["n"], small["small"]) == ("AMR", 6, True)
    assert set(small["metrics"].values()) == {None}
    assert set(small["ci"].values()) == {None}
    assert set(small["hidden"].values()) == {fairness.SMALL_GROUP}
    # Nothing is compared with a hidden group: one shown group leaves no difference.
    info = audit["attributes"]["ancestry"]
    assert info["absent"] == ["AFR", "EAS"]  # no held-out patient at all: named, never dropped
    assert all(info["compared"][m] == ["EUR"] for m in METRICS)
    assert set(info["differences"].values()) == set(info["ratios"].values()) == {None}


@quiet_fairlearn
def test_differences_compare_only_the_shown_groups_as_fairlearn_does_on_them():
    y, p, groups = _predictions(n=1500, seed=4)
    labels = np.array(groups["ancestry"], dtype=object)
    labels[:5] = "Other"  # a five-patient group, hidden
    audit = fairness_audit(y, p, {"ancestry": labels.tolist()}, n_resamples=20, random_state=0)
    info = audit["attributes"]["ancestry"]
    assert info["groups"][-1]["group"] == "Other" and info["groups"][-1]["small"]
    shown = labels != "Other"
    hard, soft = _direct(y[shown], p[shown], pd.Series(labels[shown], name="ancestry"), 0.5)
    assert info["differences"]["roc_auc"] == pytest.approx(soft.difference()["roc_auc"], abs=1e-12)
    assert info["ratios"]["true_positive_rate"] == pytest.approx(
        hard.ratio()["true_positive_rate"], abs=1e-12)
    assert "Other" not in info["compared"]["roc_auc"]


def test_a_metric_over_fewer_than_11_patients_is_hidden_in_a_larger_group():
    # 40 patients, 6 of them responders: the true-positive rate and ROC AUC rest on 6 patients.
    y = np.array([1] * 6 + [0] * 34)
    p = np.linspace(0.1, 0.9, 40)
    audit = fairness_audit(y, p, {"sex": ["female"] * 40}, n_resamples=20, random_state=0)
    group = audit["attributes"]["sex"]["groups"][0]
    assert not group["small"]
    assert group["hidden"]["roc_auc"] == fairness.TOO_FEW_CLASSES
    assert group["hidden"]["true_positive_rate"] == fairness.TOO_FEW_POSITIVES
    assert group["hidden"]["observed_rate"] == fairness.SMALL_NUMERATOR  # 6 of 40 would show
    assert group["metrics"]["roc_auc"] is None and group["ci"]["roc_auc"] is None
    assert group["metrics"]["mean_predicted"] == pytest.approx(p.mean())
    assert group["metrics"]["brier"] is not None


def test_intervals_contain_the_point_estimate_and_are_reproducible():
    y, p, groups = _predictions(n=800, seed=5)
    first = fairness_audit(y, p, groups, n_resamples=200, random_state=11)
    again = fairness_audit(y, p, groups, n_resamples=200, random_state=11)
    other = fairness_audit(y, p, groups, n_resamples=200, random_state=12)
    assert first == again
    assert first != other
    checked = 0
    for info in first["attributes"].values():
        for group in info["groups"]:
            for metric in METRICS:
                value, interval = group["metrics"][metric], group["ci"][metric]
                if value is None:
                    continue
                low, high = interval
                assert low <= value <= high, (group["group"], metric, low, value, high)
                assert low < high
                checked += 1
    assert checked >= 60


@pytest.mark.parametrize("n, seed", [(800, 5), (12, 1), (40, 2)])
def test_stored_overall_auc_interval_and_brier_are_reported_unchanged(n, seed):
    """Training stored these from unrounded probabilities with its own bootstrap; the audit of the
    stored (rounded) ones must repeat them, not compute a second value or interval, whatever the
    size of the held-out set."""
    y, p, groups = _predictions(n=n, seed=seed)
    y[:2] = (0, 1)  # both classes, as training guarantees
    stored = {"roc_auc": 0.61234, "roc_auc_low": 0.40111, "roc_auc_high": 0.79999, "brier": 0.2345}
    audit = fairness_audit(y, p, groups, random_state=3, stored_metrics=stored)
    overall = audit["overall"]
    assert overall["metrics"]["roc_auc"] == stored["roc_auc"]
    assert overall["ci"]["roc_auc"] == (stored["roc_auc_low"], stored["roc_auc_high"])
    assert overall["metrics"]["brier"] == stored["brier"]
    assert overall["hidden"]["roc_auc"] is None and overall["hidden"]["brier"] is None
    # Subgroups are the audit's own, as without stored metrics.
    plain = fairness_audit(y, p, groups, random_state=3)
    assert audit["attributes"] == plain["attributes"]


def test_input_errors_name_the_problem():
    with pytest.raises(ValueError, match="same length"):
        fairness_audit([0, 1, 1], [0.2, 0.8], {"sex": ["female"] * 3})
    with pytest.raises(ValueError, match="0 or 1"):
        fairness_audit([0, 2], [0.2, 0.8], {"sex": ["female"] * 2})
    with pytest.raises(ValueError, match="threshold"):
        fairness_audit([0, 1], [0.2, 0.8], {"sex": ["female"] * 2}, threshold=1.0)
    with pytest.raises(ValueError, match="attribute"):
        fairness_audit([0, 1], [0.2, 0.8], {})


@pytest.mark.parametrize("age, band", [(18, "18-29"), (29, "18-29"), (30, "30-44"), (44, "30-44"),
                                       (45, "45-59"), (59, "45-59"), (60, "60+"), (75, "60+")])
def test_age_bands(age, band):
    assert age_band(age) == band


def test_training_stores_each_held_out_patients_groups_in_order():
    cohort = make_cohort(600, random_state=2)
    suite = train_suite(cohort.patients, arms=("ssri",), algorithms=("logistic_regression",),
                        variants=("full",), random_state=4, n_resamples=20, n_refits=2)
    model = suite.model(arm="ssri", algorithm="logistic_regression", variant="full")
    received = cohort.patients[cohort.patients["arm"] == "ssri"]
    _, test = train_test_split(received, test_size=TEST_SIZE, stratify=received["response"],
                               random_state=4)
    assert model.test_groups == group_labels(test)
    assert len(model.test_groups["age_band"]) == len(model.test_outcomes)
    assert set(model.test_groups["age_band"]) <= {b for _, b in AGE_BANDS}


RUN = {"id": 7, "created": "2026-01-01 10:00 UTC", "cohort": "Demo", "scenario": "default",
       "seed": 3, "n_patients": 900, "library_versions": {"scikit-learn": "1.9.1"},
       "excluded_by_consent": {"full": 12, "no_genetic": 0}, "skipped_arms": {}}


def _stored_model(groups=True):
    y, p, labels = _predictions(n=300, seed=8)
    evaluation = {"test_outcomes": y.tolist(), "test_probabilities": p.tolist()}
    if groups:
        evaluation["test_groups"] = labels
    metrics = {"roc_auc": 0.61, "roc_auc_low": 0.55, "roc_auc_high": 0.67,
               "balanced_accuracy": 0.58, "brier": 0.24, "cv_roc_auc_mean": 0.6,
               "cv_roc_auc_sd": 0.03, "n_train": 700, "n_test": 300, "small_sample": False}
    return {"arm": "ssri", "algorithm": "logistic_regression", "variant": "full",
            "features": ["age", "sex"], "metrics": metrics, "evaluation": evaluation,
            "truth_check": {"features": [{"label": "Serum BDNF", "flag": "no true effect"}]}}


def test_the_model_card_carries_the_stored_metrics_unchanged():
    model = _stored_model()
    audit = fairness_audit(model["evaluation"]["test_outcomes"],
                           model["evaluation"]["test_probabilities"],
                           model["evaluation"]["test_groups"], random_state=3)
    card = model_card(run=RUN, model={**model, "truth_check": None}, fairness=audit)
    overall = {row["key"]: row for row in card["metrics"]["overall"]}
    for key in ("roc_auc", "balanced_accuracy", "brier", "cv_roc_auc_mean"):
        assert overall[key]["value"] == model["metrics"][key]
    assert (overall["roc_auc"]["low"], overall["roc_auc"]["high"]) == (0.55, 0.67)
    assert card["consent"]["excluded"] == 12
    assert card["details"]["training_seed"] == 3 and card["details"]["run_id"] == 7
    assert card["training_data"]["n_test"] == 300 and card["training_data"]["teaching_note"]
    assert [s["attribute"] for s in card["metrics"]["subgroups"]] == ["sex", "ancestry", "age_band"]
    assert any("clinical" in item.lower() for item in card["out_of_scope_use"])
    # The truth check's flags only when the caller passes it (for those who may see the truth).
    assert not any("Truth check" in item for item in card["limitations"])
    shown = model_card(run=RUN, model=model, fairness=audit)
    assert any("Serum BDNF" in item for item in shown["limitations"])


def test_a_card_without_group_labels_says_to_retrain():
    card = model_card(run=RUN, model=_stored_model(groups=False), fairness=None)
    assert card["metrics"]["subgroups"] is None
    assert card["metrics"]["subgroups_missing"] == NO_GROUPS
    assert NO_GROUPS in card["limitations"]
