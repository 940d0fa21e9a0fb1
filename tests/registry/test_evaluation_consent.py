"""Every evaluation stored at training time uses only the patients whose model-training consent
permits the data it reads, and the run records, and the run overview shows, how many each left out.

A tiny cohort has model training withdrawn by a known set of patients (every class from some,
genetic only from others) before it is trained. The expected patient sets are rebuilt here: each
arm's training and held-out split from the run's seed, each patient's consent from the gate, and
the data classes each variant reads written out below, independently of the training code. The
bootstrap intervals leave nothing stored to check a patient set against, so a spy records what
each was resampled from.
"""

import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from sklearn.base import clone
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import patients_frame, truth_frame
from decision_support.consent.constants import CONSENT_TEXT_VERSION, Provision, Status
from decision_support.consent.models import ConsentRecord
from decision_support.consent.selectors import permitted_classes_by_patient
from decision_support.lib.suppression import suppress_count
from decision_support.lib.vocabulary import Purpose
from decision_support.registry.loading import fitted_model
from models import evaluation
from models.algorithms import make_pipeline
from models.evaluation import CALIBRATION_BINS, age_band, bootstrap_auc_interval
from models.ranking import ACTIVE_ARMS, RANKING_ALGORITHM, eligible_arms
from models.training import CV_FOLDS, GLOBAL_SHAP_ROWS, TEST_SIZE
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES
from tests.trained_runs import clear_model_caches, committed_run

pytestmark = pytest.mark.django_db

# The consent classes each variant's models read.
NEEDS = {"full": {"clinical", "biomarker", "genetic"}, "no_genetic": {"clinical", "biomarker"},
         "clinical_only": {"clinical"}}
WITHDRAW_ALL_EVERY = 6  # every sixth patient (in pk order) withdraws model training altogether
WITHDRAW_GENETIC_EVERY = 7  # every seventh withdraws genetic data from model training


def _withdraw(cohort) -> None:
    """Deny records as ``consent_withdraw`` writes them, without its audit entry (this fixture
    commits outside the tests' transactions, and the audit log cannot be cleaned up)."""
    now = timezone.now()
    records = []
    for i, patient in enumerate(cohort.patients.order_by("pk")):
        classes = (NEEDS["full"] if i % WITHDRAW_ALL_EVERY == 0
                   else {"genetic"} if i % WITHDRAW_GENETIC_EVERY == 0 else set())
        records += [ConsentRecord(patient=patient, data_class=c, purpose=Purpose.MODEL_TRAINING,
                                  status=Status.ACTIVE, provision=Provision.DENY, period_start=now,
                                  consent_text_version=CONSENT_TEXT_VERSION, recorded_at=now,
                                  recorded_by="evaluation test") for c in sorted(classes)]
    ConsentRecord.objects.bulk_create(records)


@pytest.fixture(scope="module")
def resampled():
    """The held-out outcomes and probabilities each bootstrap interval was drawn from."""
    return []


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker, resampled):
    def spy(y, p, **options):
        resampled.append((np.asarray(y).tolist(), np.asarray(p)))
        return bootstrap_auc_interval(y, p, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(evaluation, "bootstrap_auc_interval", spy)
        with committed_run(django_db_blocker, n_patients=300, cohort_seed=4, training_seed=9,
                           prepare=_withdraw, n_refits=2) as run:
            yield run


@pytest.fixture(scope="module")
def expected(run, resampled, django_db_blocker):
    """Per (arm, variant): the training and held-out rows that consent permits and how many each
    split lost; the cohort's frames and the withdrawn patients' pks."""
    with django_db_blocker.unblock():
        patients = Patient.objects.filter(cohort=run.cohort)
        frame, truth = patients_frame(patients), truth_frame(patients)
        consent = permitted_classes_by_patient(frame.index, purpose=Purpose.MODEL_TRAINING)
        arms = sorted(set(run.models.values_list("arm", flat=True)))
    withdrawn = set(frame.index[::WITHDRAW_ALL_EVERY])
    consenting = {v: {pk for pk, classes in consent.items() if needs <= classes}
                  for v, needs in NEEDS.items()}
    assert not withdrawn & consenting["clinical_only"]
    splits, held_out = {}, {}
    for arm in arms:
        received = frame[frame["arm"] == arm]
        train, test = train_test_split(received, test_size=TEST_SIZE,
                                       stratify=received["response"], random_state=run.seed)
        held_out[arm] = test
        for variant, allowed in consenting.items():
            splits[(arm, variant)] = {
                "training": train[train.index.isin(allowed)],
                "held_out": test[test.index.isin(allowed)],
                "training_left_out": int((~train.index.isin(allowed)).sum()),
                "held_out_left_out": int((~test.index.isin(allowed)).sum())}
    # The withdrawal reaches the held-out patients, so every check below can catch a leak.
    assert all(withdrawn & set(test.index) for test in held_out.values())
    return {"truth": truth, "consenting": consenting, "splits": splits, "held_out": held_out,
            "arms": arms, "resampled": resampled}


@pytest.fixture(autouse=True)
def fresh_caches():
    clear_model_caches()
    yield
    clear_model_caches()


def _held_out_metrics(row, split, expected, seed):
    test = split["held_out"]
    y, p = test["response"].to_numpy(), fitted_model(row).predict(test)
    assert row.metrics["n_test"] == len(test)
    assert row.evaluation["test_outcomes"] == y.tolist()
    np.testing.assert_allclose(row.evaluation["test_probabilities"], p, atol=1e-6)
    assert row.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert row.metrics["brier"] == pytest.approx(brier_score_loss(y, p))


def _bootstrap_interval(row, split, expected, seed):
    test = split["held_out"]
    y, p = test["response"].tolist(), fitted_model(row).predict(test)
    assert any(seen_y == y and np.allclose(seen_p, p, rtol=0, atol=1e-9)
               for seen_y, seen_p in expected["resampled"])


def _cross_validation(row, split, expected, seed):
    train = split["training"]
    assert row.metrics["n_train"] == len(train)
    assert row.explanation["medians"] == pytest.approx(
        {f: float(train[f].median()) for f in row.explanation["medians"]})
    scores = cross_val_score(clone(make_pipeline(row.algorithm, row.variant, random_state=seed)),
                             train[row.features], train["response"], scoring="roc_auc",
                             cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed))
    assert row.metrics["cv_roc_auc_mean"] == pytest.approx(scores.mean())


def _calibration(row, split, expected, seed):
    test = split["held_out"]
    observed, predicted = calibration_curve(test["response"], fitted_model(row).predict(test),
                                            n_bins=CALIBRATION_BINS, strategy="quantile")
    assert row.evaluation["calibration"]["observed"] == pytest.approx(observed, abs=1e-4)
    assert row.evaluation["calibration"]["predicted"] == pytest.approx(predicted, abs=1e-4)


def _fairness_groups(row, split, expected, seed):
    test = split["held_out"]
    groups = row.evaluation["test_groups"]
    assert groups["sex"] == test["sex"].astype(str).tolist()
    assert groups["ancestry"] == test["ancestry"].astype(str).tolist()
    assert Counter(groups["age_band"]) == Counter(age_band(a) for a in test["age"])


def _truth_check(row, split, expected, seed):
    test = split["held_out"]
    true_p = expected["truth"].loc[test.index, f"p_response_{row.arm}"].to_numpy()
    assert row.truth_check["oracle_roc_auc"] == pytest.approx(
        roc_auc_score(test["response"], true_p))
    assert row.truth_check["mean_absolute_error_vs_true_probability"] == pytest.approx(
        np.abs(fitted_model(row).predict(test) - true_p).mean(), abs=1e-6)


def _global_shap(row, split, expected, seed):
    shown = min(len(split["held_out"]), GLOBAL_SHAP_ROWS)
    assert all(len(values) == shown for values in row.explanation["beeswarm"]["shap"].values())


def _policy_patients(expected):
    """The held-out rows of every modelled arm whose consent permits some variant, the variant
    whose ranking the patient page would show each (the richest permitted), and how many
    held-out patients that leaves out."""
    rows = pd.concat(expected["held_out"].values())
    variant = pd.Series([next((v for v in NEEDS if pk in expected["consenting"][v]), None)
                         for pk in rows.index], index=rows.index)
    keep = variant.notna().to_numpy()
    return rows[keep], variant[keep], int((~keep).sum())


def _policy_value(run, expected):
    """Each policy recomputed from the truth table: the oracle, the model's top-ranked eligible
    arm, one best arm for the first-line and one for the treatment-resistant patients, random."""
    rows, variant, left_out = _policy_patients(expected)
    assert {"full", "no_genetic"} <= set(variant)  # those declining genetic use are scored too
    arms = [a for a in ACTIVE_ARMS if a in expected["arms"]]
    true_p = expected["truth"].loc[rows.index, [f"p_response_{a}" for a in arms]].to_numpy()
    resistant = rows["prior_failures"].to_numpy() >= TREATMENT_RESISTANT_MIN_FAILURES
    eligible = np.array([[a in eligible_arms(r) for a in arms] for r in resistant])
    predicted = np.full(true_p.shape, np.nan)
    for v in set(variant):
        ranking = {m.arm: fitted_model(m) for m in run.models.filter(algorithm=RANKING_ALGORITHM,
                                                                     variant=v)}
        mine = (variant == v).to_numpy()
        predicted[mine] = np.column_stack([ranking[a].predict(rows[mine]) for a in arms])
    choice = np.where(eligible, predicted, -np.inf).argmax(axis=1)
    best_single = 0.0
    for group in (~resistant, resistant):
        if group.any():
            means = np.where(eligible[group], true_p[group], -np.inf).mean(axis=0)
            best_single += true_p[group][:, means.argmax()].sum()
    policy = run.policy_value
    assert policy["n_patients"] == len(rows) and policy["n_excluded"] == left_out > 0
    assert policy["oracle"] == pytest.approx(np.where(eligible, true_p, -np.inf).max(axis=1).mean())
    assert policy["random"] == pytest.approx(
        (np.where(eligible, true_p, 0).sum(axis=1) / eligible.sum(axis=1)).mean())
    assert policy["model"] == pytest.approx(true_p[np.arange(len(rows)), choice].mean())
    assert policy["best_single"] == pytest.approx(best_single / len(rows))
    assert policy["oracle"] >= policy["model"]
    assert policy["oracle"] >= policy["best_single"] >= policy["random"]
    for name in ("oracle", "model", "best_single", "random"):
        low, high = policy["intervals"][name]
        assert low <= policy[name] <= high


def _each_model(check):
    def over_models(run, expected):
        rows = list(run.models.all())
        assert {(r.arm, r.variant) for r in rows} == set(expected["splits"])
        for row in rows:
            check(row, expected["splits"][(row.arm, row.variant)], expected, run.seed)
    return over_models


EVALUATIONS = {"held-out metrics": _each_model(_held_out_metrics),
               "bootstrap interval": _each_model(_bootstrap_interval),
               "cross-validation": _each_model(_cross_validation),
               "calibration": _each_model(_calibration),
               "fairness audit groups": _each_model(_fairness_groups),
               "truth check": _each_model(_truth_check),
               "global SHAP": _each_model(_global_shap),
               "policy value": _policy_value}


@pytest.mark.parametrize("evaluation", list(EVALUATIONS))
def test_no_stored_evaluation_uses_a_patient_without_consent_to_its_data(run, expected,
                                                                          evaluation):
    EVALUATIONS[evaluation](run, expected)


def test_the_run_records_how_many_each_variants_splits_left_out(run, expected):
    for variant in NEEDS:
        assert run.excluded_by_split[variant] == {
            split: sum(expected["splits"][(arm, variant)][f"{split}_left_out"]
                       for arm in expected["arms"])
            for split in ("training", "held_out")}
    assert run.excluded_by_split["full"]["held_out"] > run.excluded_by_split["no_genetic"][
        "held_out"] > 0


def test_the_run_overview_shows_each_left_out_count_beside_what_it_qualifies(
        run, expected, signed_in_client):
    page = signed_in_client.get(reverse("run_overview", args=[run.cohort_id])).content.decode()
    rows, _, left_out = _policy_patients(expected)
    policy = re.search(r'id="policy-patients">(.*?)</p>', page, re.S).group(1)
    assert re.findall(r"<strong>(.*?)</strong>", policy) == [
        str(len(rows)), escape(str(suppress_count(left_out)))]
    for variant in NEEDS:
        cells = re.search(rf'<tr data-variant="{variant}">.*?<td class="num">(.*?)</td>'
                          rf'<td class="num">(.*?)</td>', page, re.S).groups()
        assert cells == tuple(
            escape(str(suppress_count(sum(expected["splits"][(arm, variant)][f"{split}_left_out"]
                                          for arm in expected["arms"]))))
            for split in ("training", "held_out"))
