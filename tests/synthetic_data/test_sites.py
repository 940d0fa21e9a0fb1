"""Sites: declarative shifts of case mix, measurement, outcome and assignment.

The true response model is the same at every site; a shift changes who is sampled, what is
measured, how the outcome is recorded or who gets which treatment, and it shows in the data.
"""

import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic_data import (
    ARMS,
    DATA_DICTIONARY,
    FIRST_LINE_ARMS,
    PATIENT_COLUMNS,
    SCENARIOS,
    SITE_SCENARIOS,
    TRUTH_COLUMNS,
    Assignment,
    CaseMix,
    Measurement,
    Outcome,
    Site,
    get_site_scenario,
    make_cohort,
    make_multisite_cohort,
    site_seed,
    true_response_probabilities,
)
from synthetic_data import generator, sites

TRIAL, CLINIC = SITE_SCENARIOS["trial_to_clinic"].sites
LAB_A, LAB_B = SITE_SCENARIOS["assay_shift"].sites
TEACHING_SITES = (TRIAL, CLINIC, LAB_A, LAB_B)
N = 20_000  # per site, where an effect must show; tolerances are 4 standard errors
SEED = 1616
GENETIC = [v.name for v in DATA_DICTIONARY.values() if v.data_class == "genetic"]
EEG = ["racc_theta_z", "eeg_ssri_signature_z"]


def _digest(frame: pd.DataFrame) -> str:
    """The frame's columns, types and values, floats to 9 decimals: numpy's exp and log may differ
    in the last bit between CPUs (SIMD paths), which no cohort's meaning depends on."""
    h = hashlib.sha256()
    h.update(repr([(c, str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame.round(9), index=True).to_numpy().tobytes())
    return h.hexdigest()[:16]


# Computed from main at fd33e4c, before sites existed (rounded since): a cohort without a site
# must not change.
DEFAULT_OUTPUT_DIGESTS = [
    ("default", 1, 0, "d1ab15083c9ffaf9", "857897164b0833eb", "9654df044ce5dd17"),
    ("default", 57, 2026, "d243891403a92a6a", "05a66614fd1e1c61", "3aa2d319a92ac835"),
    ("default", 400, 7, "35f188d536b20ee1", "bca9e06ec9076f7b", "bf63b25ebf8df1ff"),
    ("prs_portability", 250, 11, "af41638a64a9fddb", "944c7f45cf9ec9b3", "aa1c3161afba1f47"),
    ("underrepresented", 250, 11, "5eedefe80d8013c4", "56c88a04c9bca9e4", "aa1c3161afba1f47"),
    ("decoy_biomarker", 250, 11, "31a0d37d429f7efe", "bb84d556a7f5335a", "aa1c3161afba1f47"),
    ("consent_selection", 250, 11, "f0db289e38456cf2", "56c88a04c9bca9e4", "7b165f13fee6397b"),
    ("confounding_by_indication", 250, 11, "aae016bfd7ee1eac", "56c88a04c9bca9e4",
     "aa1c3161afba1f47"),
    ("candidate_gene", 250, 11, "2bf41015312936dc", "0940500ae34cb912", "aa1c3161afba1f47"),
    ("label_bias", 250, 11, "32a71722e34f0410", "56c88a04c9bca9e4", "aa1c3161afba1f47"),
    ("random_labels", 250, 11, "072b3ca141bce62c", "38bfaebf73c27dfc", "aa1c3161afba1f47"),
]


@pytest.mark.parametrize("scenario, n, seed, patients, truth, consent", DEFAULT_OUTPUT_DIGESTS)
def test_a_cohort_without_a_site_is_exactly_what_it_was(scenario, n, seed, patients, truth,
                                                         consent):
    cohort = make_cohort(n, scenario=scenario, random_state=seed)
    assert (_digest(cohort.patients), _digest(cohort.truth), _digest(cohort.consent)) == (
        patients, truth, consent)


# A site with no shifts, and determinism

@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_site_without_shifts_gives_the_scenarios_cohort_with_a_site_column(scenario):
    plain = make_cohort(300, scenario=scenario, random_state=3)
    at_site = make_cohort(300, scenario=scenario, site=Site("home", "Home"), random_state=3)
    for name in ("patients", "truth", "consent"):
        frame = getattr(at_site, name)
        assert list(frame.columns[:2]) == ["patient_id", "site"]
        assert (frame["site"] == "home").all()
        pd.testing.assert_frame_equal(frame.drop(columns="site"), getattr(plain, name))


def _site_strategy():
    """Any valid site: criteria that admit a fair share, any shares and noise in range."""
    case_mix = st.builds(
        CaseMix,
        population=st.fixed_dictionaries({}, optional={
            # Bounded so the strictest criteria still enrol about 2% (the refusal is below 1%).
            "age_mean": st.floats(25, 60), "hamd_mean": st.floats(18, 28),
            "comorbidity_rate": st.floats(0, 0.8), "prior_failure_log_rate": st.floats(-2, 0),
            "ancestry_shares": st.sampled_from([
                {"EUR": 1.0, "AFR": 0.0, "EAS": 0.0, "AMR": 0.0},
                {"EUR": 0.25, "AFR": 0.25, "EAS": 0.25, "AMR": 0.25}])}),
        min_hamd17=st.none() | st.integers(14, 20),
        max_prior_failures=st.none() | st.integers(0, 3),
        exclude_comorbidity=st.booleans())
    measurement = st.builds(
        Measurement, crp_factor=st.floats(0.2, 5), crp_offset_mg_l=st.floats(-1, 5),
        crp_ln_noise_sd=st.floats(0, 1), eeg_noise_sd=st.floats(0, 2),
        eeg_missing_share=st.floats(0, 1), genotyped=st.booleans())
    outcome = st.builds(Outcome, rater=st.sampled_from(sites.RATERS),
                        misclassification=st.floats(0, 1),
                        response_threshold_shift=st.floats(-2, 2))
    assignment = st.sampled_from([Assignment(), TRIAL.assignment, CLINIC.assignment])
    return st.builds(Site, name=st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
                     label=st.just("A site"), case_mix=case_mix, measurement=measurement,
                     outcome=outcome, assignment=assignment)


@settings(max_examples=40, deadline=None)
@given(site=_site_strategy(), n=st.integers(1, 200), seed=st.integers(0, 2**32 - 1))
def test_any_valid_site_generates_the_same_frames_from_the_same_seed(site, n, seed):
    first = make_cohort(n, site=site, random_state=seed)
    second = make_cohort(n, site=site, random_state=seed)
    for name in ("patients", "truth", "consent"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    patients = first.patients
    assert list(patients.columns) == ["patient_id", "site", *PATIENT_COLUMNS[1:]]
    assert list(first.truth.columns) == ["patient_id", "site", *TRUTH_COLUMNS[1:]]
    assert patients["patient_id"].tolist() == list(range(1, n + 1))
    assert site.case_mix.eligible(patients).all()
    assert not ((patients["remission"] == 1) & (patients["response"] == 0)).any()


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 80), min_size=1, max_size=3),
       seed=st.integers(0, 2**32 - 1))
def test_a_multisite_cohort_is_reproducible_and_each_site_independent_of_the_others(sizes, seed):
    chosen = dict(zip((TRIAL, CLINIC, LAB_B), sizes))
    cohort = make_multisite_cohort(chosen, random_state=seed)
    again = make_multisite_cohort(chosen, random_state=seed)
    pd.testing.assert_frame_equal(cohort.patients, again.patients)
    pd.testing.assert_frame_equal(cohort.truth, again.truth)
    assert cohort.patients["patient_id"].tolist() == list(range(1, sum(sizes) + 1))
    assert list(cohort.patients["site"].cat.categories) == [site.name for site in chosen]
    # Each site's rows are that site's own cohort, drawn from a seed of its name.
    for site, n in chosen.items():
        alone = make_cohort(n, site=site, random_state=site_seed(seed, site)).patients
        rows = cohort.patients[cohort.patients["site"] == site.name]
        pd.testing.assert_frame_equal(rows.drop(columns=["patient_id", "site"])
                                      .reset_index(drop=True),
                                      alone.drop(columns=["patient_id", "site"]))


def test_a_sites_seed_is_stable_and_depends_on_its_name():
    assert site_seed(1, TRIAL) == site_seed(1, Site("trial", "Another label"))
    assert site_seed(1, TRIAL) == 8_155_737_308_038_019_132  # pinned: stored cohorts rely on it
    assert len({site_seed(1, TRIAL), site_seed(1, CLINIC), site_seed(2, TRIAL)}) == 3


@pytest.mark.parametrize("call, message", [
    (lambda: Site("Trial A", "x"), "a site name is lower-case"),
    (lambda: CaseMix(population={"effect_anxious": 0.0}), "a case mix may change only"),
    (lambda: Assignment(overrides={"ssri_ln_crp": 0.0}), "an assignment may change only"),
    (lambda: Measurement(crp_factor=0), "crp_factor must be above 0"),
    (lambda: Measurement(crp_offset_mg_l=float("nan")), "crp_factor must be above 0"),
    (lambda: Measurement(eeg_noise_sd=-1), "eeg_noise_sd must be 0 or more"),
    (lambda: Measurement(eeg_missing_share=1.5), "eeg_missing_share must lie in 0-1"),
    (lambda: Outcome(misclassification=-0.1), "misclassification must lie in 0-1"),
    (lambda: Outcome(rater="family"), "rater must be one of"),
    (lambda: Outcome(evidence="rumour"), "evidence must be one of"),
    (lambda: make_cohort(10, site=Site("x", "x", case_mix=CaseMix(min_hamd17=46))),
     "admit fewer than 1 in 100"),
    (lambda: make_multisite_cohort({}), "at least one site"),
    (lambda: make_multisite_cohort({TRIAL: 5, Site("trial", "again"): 5}), "repeated: trial"),
])
def test_a_bad_site_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# The true model is the same at every site

@pytest.mark.parametrize("site", [TRIAL, CLINIC, Site("old", "Older, EAS", case_mix=CaseMix(
    population={"age_mean": 60.0, "ancestry_shares": {"EUR": 0, "AFR": 0, "EAS": 1, "AMR": 0}}))],
    ids=lambda site: site.name)
@pytest.mark.parametrize("scenario", ["default", "label_bias", "decoy_biomarker"])
def test_the_true_response_model_is_the_scenarios_whatever_the_case_mix(site, scenario):
    cohort = make_cohort(2000, scenario=scenario, site=site, random_state=SEED)
    expected = true_response_probabilities(cohort.patients, cohort.truth, scenario=scenario)
    columns = [f"p_response_{arm}" for arm in ARMS]
    np.testing.assert_allclose(cohort.truth[columns].to_numpy(), expected.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("measurement, outcome", [
    (LAB_B.measurement, Outcome()),
    (Measurement(eeg_noise_sd=1.0, eeg_missing_share=0.3, genotyped=False), Outcome()),
    (Measurement(), CLINIC.outcome),
    (Measurement(), Outcome(response_threshold_shift=0.5)),
])
def test_measurement_and_recording_change_observed_values_only(measurement, outcome):
    plain = make_cohort(2000, site=Site("a", "A"), random_state=SEED)
    shifted = make_cohort(2000, site=Site("a", "A", measurement=measurement, outcome=outcome),
                          random_state=SEED)
    pd.testing.assert_frame_equal(plain.truth, shifted.truth)
    pd.testing.assert_frame_equal(plain.consent, shifted.consent)
    changed = {"crp_mg_l", *EEG, *GENETIC, "response", "remission"}
    unchanged = [c for c in plain.patients.columns if c not in changed]
    pd.testing.assert_frame_equal(plain.patients[unchanged], shifted.patients[unchanged])
    assert not plain.patients.equals(shifted.patients)


# Each shift shows in the data

@pytest.fixture(scope="module")
def trial_to_clinic():
    return make_multisite_cohort({TRIAL: N, CLINIC: N}, random_state=SEED)


def _at(cohort, site):
    rows = cohort.patients["site"] == site.name
    return cohort.patients[rows], cohort.truth[rows]


@pytest.mark.parametrize("criterion, holds", [
    ("min_hamd17", lambda p: p["hamd17"] >= 20),
    ("max_prior_failures", lambda p: p["prior_failures"] <= 2),
    ("exclude_comorbidity", lambda p: p["psychiatric_comorbidity"] == 0),
])
def test_every_trial_patient_meets_each_inclusion_criterion_and_many_clinic_patients_do_not(
        trial_to_clinic, criterion, holds):
    trial, _ = _at(trial_to_clinic, TRIAL)
    clinic, _ = _at(trial_to_clinic, CLINIC)
    assert holds(trial).all()
    assert (~holds(clinic)).mean() > 0.01


def test_the_clinics_population_shifts_show_within_sampling_error(trial_to_clinic):
    clinic, _ = _at(trial_to_clinic, CLINIC)
    population = CLINIC.case_mix.population
    for ancestry, share in population["ancestry_shares"].items():
        observed = (clinic["ancestry"] == ancestry).mean()
        assert abs(observed - share) < 4 * np.sqrt(share * (1 - share) / len(clinic))
    rate = population["comorbidity_rate"]
    assert abs(clinic["psychiatric_comorbidity"].mean() - rate) < 4 * np.sqrt(
        rate * (1 - rate) / len(clinic))
    # Age is truncated to 18-75, which pulls the mean in a little.
    assert abs(clinic["age"].mean() - population["age_mean"]) < 1.0


def _assigned(truth, patients, prefix):
    columns = [truth.columns.get_loc(f"{prefix}_{arm}") for arm in patients["arm"]]
    return truth.to_numpy()[np.arange(len(truth)), columns]


@pytest.mark.parametrize("share", [0.05, 0.2, 0.4])
def test_misclassified_outcomes_disagree_with_the_truth_at_the_declared_rate(share):
    cohort = make_cohort(N, site=Site("s", "S", outcome=Outcome(
        rater="self_report", misclassification=share)), random_state=SEED)
    true = _assigned(cohort.truth, cohort.patients, "response").astype(int)
    disagree = (cohort.patients["response"].to_numpy() != true).mean()
    assert abs(disagree - share) < 4 * np.sqrt(share * (1 - share) / N)


def test_a_clinician_rated_site_records_the_true_outcome(trial_to_clinic):
    patients, truth = _at(trial_to_clinic, TRIAL)
    np.testing.assert_array_equal(patients["response"].to_numpy(),
                                  _assigned(truth, patients, "response").astype(int))


@pytest.mark.parametrize("shift", [0.3, 1.0])
def test_a_later_bar_for_response_records_fewer_responders_never_more(shift):
    plain = make_cohort(N, site=Site("a", "A"), random_state=SEED).patients
    later = make_cohort(N, site=Site("a", "A", outcome=Outcome(response_threshold_shift=shift)),
                        random_state=SEED).patients
    assert (later["response"] <= plain["response"]).all()
    assert later["response"].mean() < plain["response"].mean() - 0.05 * shift


def _hamd_gap(patients):
    """Mean HAM-D17 of CBT patients minus that of the other first-line arms, and its SE."""
    cbt = patients.loc[patients["arm"] == "cbt", "hamd17"]
    others = patients.loc[patients["arm"].isin(
        [a for a in FIRST_LINE_ARMS if a != "cbt"]), "hamd17"]
    return cbt.mean() - others.mean(), np.sqrt(cbt.var() / len(cbt) + others.var() / len(others))


def test_clinician_preference_gives_cbt_to_milder_patients_and_randomisation_does_not(
        trial_to_clinic):
    gap, se = _hamd_gap(_at(trial_to_clinic, CLINIC)[0])
    assert gap < -2 and gap < -4 * se
    gap, se = _hamd_gap(_at(trial_to_clinic, TRIAL)[0])
    assert abs(gap) < 4 * se


def test_the_assay_shift_moves_crp_by_the_declared_factor_within_sampling_error():
    cohort = make_multisite_cohort({LAB_A: N, LAB_B: N}, random_state=SEED)
    ln_crp = np.log(cohort.patients["crp_mg_l"])
    a, b = (ln_crp[cohort.patients["site"] == site.name] for site in (LAB_A, LAB_B))
    se = np.sqrt(a.var() / len(a) + b.var() / len(b))
    assert abs((b.mean() - a.mean()) - np.log(LAB_B.measurement.crp_factor)) < 4 * se
    # The extra noise widens the spread: var(ln B) = var(ln A) + noise^2.
    noise = LAB_B.measurement.crp_ln_noise_sd
    se_var = np.sqrt(2 * a.var() ** 2 / len(a) + 2 * b.var() ** 2 / len(b))
    assert abs((b.var() - a.var()) - noise**2) < 4 * se_var
    # Nothing else about the patients differs between the labs beyond sampling error.
    hamd_a, hamd_b = (cohort.patients.loc[cohort.patients["site"] == s.name, "hamd17"]
                      for s in (LAB_A, LAB_B))
    assert abs(hamd_a.mean() - hamd_b.mean()) < 4 * np.sqrt(hamd_a.var() / N + hamd_b.var() / N)


@pytest.mark.parametrize("factor, offset", [(1.0, 0.5), (0.8, 0.0), (1.25, -0.2)])
def test_a_calibration_offset_without_noise_is_exact_on_each_patient(factor, offset):
    plain = make_cohort(500, site=Site("a", "A"), random_state=SEED).patients["crp_mg_l"]
    measured = make_cohort(500, site=Site("a", "A", measurement=Measurement(
        crp_factor=factor, crp_offset_mg_l=offset)), random_state=SEED).patients["crp_mg_l"]
    expected = np.round(np.clip(plain * factor + offset, 0.01, 300), 2)
    np.testing.assert_allclose(measured, expected, atol=1e-9)


def test_an_eeg_device_adds_its_noise_and_loses_its_share_of_recordings():
    noise, missing = 0.5, 0.25
    plain = make_cohort(N, site=Site("a", "A"), random_state=SEED).patients
    device = make_cohort(N, site=Site("a", "A", measurement=Measurement(
        eeg_noise_sd=noise, eeg_missing_share=missing)), random_state=SEED).patients
    lost = device["racc_theta_z"].isna()
    assert (device["eeg_ssri_signature_z"].isna() == lost).all()
    assert abs(lost.mean() - missing) < 4 * np.sqrt(missing * (1 - missing) / N)
    for name in EEG:
        difference = (device[name] - plain[name])[~lost]
        # The sample SD's standard error is about sd / sqrt(2n).
        assert abs(difference.std() - noise) < 4 * noise / np.sqrt(2 * len(difference))


def test_a_site_without_genotyping_has_no_genetic_values_and_every_other_value():
    plain = make_cohort(300, site=Site("a", "A"), random_state=SEED).patients
    untested = make_cohort(300, site=Site("a", "A", measurement=Measurement(genotyped=False)),
                           random_state=SEED).patients
    assert untested[GENETIC].isna().all().all()
    others = [c for c in plain.columns if c not in GENETIC]
    pd.testing.assert_frame_equal(plain[others], untested[others])


# The lessons

@pytest.mark.parametrize("name", ["trial_to_clinic", "assay_shift"])
def test_each_site_lesson_is_complete_and_kept_out_of_the_single_site_scenarios(name):
    lesson = get_site_scenario(name)
    assert lesson.name == name and lesson.title and lesson.teaching_note and lesson.expected
    assert len(lesson.questions) == 3 and all(q.endswith("?") for q in lesson.questions)
    assert len(lesson.sites) == 2 and lesson.scenario in SCENARIOS
    assert name not in SCENARIOS


@pytest.mark.parametrize("site", TEACHING_SITES, ids=lambda site: site.name)
def test_every_shift_of_a_teaching_site_cites_its_evidence(site):
    neutral = Site(site.name, site.label)
    for kind, shift in site.shifts.items():
        if shift != getattr(neutral, kind) and kind != "assignment":
            assert shift.evidence in ("published", "assumed") and shift.citation, kind
        assert shift.finding


def test_an_unknown_site_lesson_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown site scenario 'nope'.*assay_shift"):
        get_site_scenario("nope")


def test_the_default_demo_draws_no_site_column():
    assert "site" not in generator.make_cohort(5, random_state=1).patients
