"""The cohort generator: vectorised numpy, reproducible from a seed, no Django."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import log_ndtr, ndtr, ndtri

from .dictionary import DATA_DICTIONARY, PATIENT_COLUMNS
from .parameters import (
    ANCESTRIES,
    ARMS,
    CYP2C19_PHENOTYPES,
    CYP2D6_PHENOTYPES,
    DRUG_ARMS,
    FIRST_LINE_ARMS,
    HTTLPR_GENOTYPES,
    SEXES,
    TREATMENT_RESISTANT_ARMS,
    TREATMENT_RESISTANT_COMPARATORS,
    TREATMENT_RESISTANT_MIN_FAILURES,
    CohortParameters,
)
from .scenarios import get_scenario
from .sites import SITE_COLUMN, CaseMix, Measurement, Outcome, Site, check_distinct_names, site_seed

# 2.0: calibrated on first-line patients, treatment-resistant arms against their comparators,
# remission solved, outcomes correlated across treatments, truncated distributions.
GENERATOR_VERSION = "2.0.0"
MAX_PATIENTS = 10_000_000
# Inclusion criteria redraw patients who fail them; a site enrolling fewer than one in this many
# is refused rather than drawn for ever.
MAX_DRAWS_PER_ENROLLED = 100
FEW_ELIGIBLE = ("the site's inclusion criteria admit fewer than 1 in {ratio} patients of the "
                "scenario's population")
NO_SITES = "a multi-site cohort needs at least one site"
BAD_SIZE = "n_patients must be between 1 and {maximum:,}, got {n:,}"
# The scenario's own population and assignment, measured and recorded without error.
_NO_SHIFTS = Site(name="none", label="No site")
# Intercepts are solved once per parameter set on a fixed reference population, so a cohort's
# response rates do not depend on its own size or seed.
_CALIBRATION_SIZE = 200_000
_CALIBRATION_SEED = 20_061_001

# The first-line arms lead ARMS, so an eligible arm is an index below 5 (first line) or 7.
assert ARMS[: len(FIRST_LINE_ARMS)] == FIRST_LINE_ARMS
assert ARMS[len(FIRST_LINE_ARMS) :] == TREATMENT_RESISTANT_ARMS


@dataclass(frozen=True)
class Cohort:
    """A generated cohort: what a clinic observes, and what only the simulation knows.

    ``patients``, ``truth`` and ``consent`` are aligned row by row on ``patient_id``.
    ``consent`` holds each patient's consent decisions (``declines_genetic``: genetic data for
    every purpose; ``declines_training``: every class for model training), which the app records
    as consent; they are plain data here, not model inputs.
    """

    patients: pd.DataFrame
    truth: pd.DataFrame
    scenario: str
    random_state: int | None
    generator_version: str = GENERATOR_VERSION
    consent: pd.DataFrame | None = None

    def to_csv(self, path_or_buf=None) -> str | None:
        """Write the observed patients as CSV; the same seed gives byte-identical output."""
        return self.patients.to_csv(path_or_buf, index=False, lineterminator="\n")


def make_cohort(n_patients: int, *, scenario: str = "default", site: Site | None = None,
                random_state=None) -> Cohort:
    """Generate a synthetic cohort, optionally as collected at a site.

    Parameters
    ----------
    n_patients : int
        Number of patients, 1 to 10,000,000.
    scenario : str
        A name in ``synthetic_data.SCENARIOS``: its true response model holds at every site.
    site : Site or None
        Where the cohort is collected (``synthetic_data.sites``): who is enrolled, what is
        measured, how response is recorded and who gets which treatment. None (the default)
        gives the scenario's cohort, without a ``site`` column.
    random_state : None, int or numpy.random.Generator
        The same integer gives identical frames.

    Returns
    -------
    Cohort
        With ``.patients`` (observed variables, the assigned ``arm``, ``response`` and
        ``remission``) and ``.truth`` (latent drivers, ``p_response_<arm>`` and the potential
        outcome ``response_<arm>`` for every arm) and ``.consent`` (each patient's consent
        decisions). With a site, each frame has a ``site`` column after ``patient_id``, and
        the truth columns hold the true values (the true model applied before any measurement
        or recording shift).

    Examples
    --------
    >>> cohort = make_cohort(1000, random_state=7)
    >>> cohort.patients.shape[0]
    1000
    """
    if isinstance(n_patients, bool) or not isinstance(n_patients, (int, np.integer)):
        raise TypeError(f"n_patients must be an integer, got {n_patients!r}")
    if not 1 <= n_patients <= MAX_PATIENTS:
        raise ValueError(BAD_SIZE.format(maximum=MAX_PATIENTS, n=n_patients))
    params = get_scenario(scenario).parameters
    shifts = _NO_SHIFTS if site is None else site
    population = shifts.population_parameters(params)
    rng = np.random.default_rng(random_state)
    n = int(n_patients)

    patients, latents = _draw_enrolled(rng, n, population, shifts.case_mix)
    # The scenario's true model, whatever the site's population.
    logits = _response_logits(patients, latents, params)
    latent_outcome = logits + _outcome_noise(rng, logits.shape, params.outcome_noise_correlation)
    arm_index = _assign_arms(rng, patients, shifts.assignment_parameters(params))
    assigned_outcome = latent_outcome[np.arange(n), arm_index]

    # How response is measured; the truth columns below keep the true definition (threshold 0).
    threshold = _per_ancestry(params.response_threshold_by_ancestry,
                              patients["ancestry"].cat.codes.to_numpy(), default=0.0)
    threshold = threshold + shifts.outcome.response_threshold_shift
    patients["arm"] = pd.Categorical.from_codes(arm_index, categories=ARMS)
    patients["response"] = (assigned_outcome > threshold).astype(np.int8)
    margin = _calibration(params).remission_margin
    patients["remission"] = (assigned_outcome > threshold + margin).astype(np.int8)

    truth = pd.DataFrame({"patient_id": patients["patient_id"]})
    for name, values in latents.items():
        truth[name] = values
    probabilities = _sigmoid(logits)
    for i, arm in enumerate(ARMS):
        truth[f"p_response_{arm}"] = probabilities[:, i]
    for i, arm in enumerate(ARMS):
        truth[f"response_{arm}"] = (latent_outcome[:, i] > 0).astype(np.int8)

    # Drawn last, so the other columns do not depend on the consent parameters.
    consent = _consent_decisions(rng, patients, population)
    # A site's recording and measurement errors come after, so switching them off leaves
    # every other value of the same seed as it was.
    _misrecord_outcomes(rng, patients, shifts.outcome)
    _measure(rng, patients, shifts.measurement)

    patients = patients[list(PATIENT_COLUMNS)]
    if site is not None:
        for frame in (patients, truth, consent):
            frame.insert(1, SITE_COLUMN, pd.Categorical([site.name] * n, categories=[site.name]))
    seed = int(random_state) if isinstance(random_state, (int, np.integer)) else None
    return Cohort(patients=patients, truth=truth, scenario=scenario, random_state=seed,
                  consent=consent)


def make_multisite_cohort(sites: Mapping[Site, int], *, scenario: str = "default",
                          random_state=None) -> Cohort:
    """Generate one cohort per site and stack them, with a ``site`` column.

    Parameters
    ----------
    sites : mapping of Site to int
        Each site and its number of patients, in the order the frames list them; names must
        differ.
    scenario : str
        A name in ``synthetic_data.SCENARIOS``: its true response model holds at every site.
    random_state : None, int or numpy.random.Generator
        Each site is drawn with ``site_seed(random_state, site)``: the same integer gives
        identical frames, and a site's patients do not depend on the other sites.

    Returns
    -------
    Cohort
        As ``make_cohort`` with a site; ``patient_id`` runs from 1 across all sites.

    Examples
    --------
    >>> from synthetic_data import SITE_SCENARIOS
    >>> trial, clinic = SITE_SCENARIOS["trial_to_clinic"].sites
    >>> cohort = make_multisite_cohort({trial: 300, clinic: 200}, random_state=7)
    >>> cohort.patients["site"].value_counts().to_dict()
    {'trial': 300, 'clinic': 200}
    """
    if not sites:
        raise ValueError(NO_SITES)
    check_distinct_names(sites)
    total = sum(sites.values())
    if total > MAX_PATIENTS:
        raise ValueError(BAD_SIZE.format(maximum=MAX_PATIENTS, n=total))
    if isinstance(random_state, (int, np.integer)):
        base = int(random_state)
    else:
        base = int(np.random.default_rng(random_state).integers(2**63))
    cohorts = [make_cohort(n, scenario=scenario, site=site, random_state=site_seed(base, site))
               for site, n in sites.items()]
    names = [site.name for site in sites]
    patient_id = np.arange(1, total + 1, dtype=np.int64)

    def stack(frames):
        frame = pd.concat(frames, ignore_index=True)
        frame["patient_id"] = patient_id
        frame[SITE_COLUMN] = pd.Categorical(frame[SITE_COLUMN].astype(str), categories=names)
        return frame

    seed = base if isinstance(random_state, (int, np.integer)) else None
    return Cohort(patients=stack([c.patients for c in cohorts]),
                  truth=stack([c.truth for c in cohorts]), scenario=scenario, random_state=seed,
                  consent=stack([c.consent for c in cohorts]))


def true_response_probabilities(patients: pd.DataFrame, truth: pd.DataFrame, *,
                                scenario: str = "default") -> pd.DataFrame:
    """The true response probability under every arm for (possibly edited) patients.

    ``truth`` supplies the latent drivers; ``patients`` the observed variables. Decoys and null
    variables may be changed freely: they have no effect, which is the point.
    """
    params = get_scenario(scenario).parameters
    latents = {name: truth[name].to_numpy() for name in _LATENT_NAMES}
    probabilities = _sigmoid(_response_logits(patients, latents, params))
    return pd.DataFrame(probabilities, columns=[f"p_response_{arm}" for arm in ARMS],
                        index=patients.index)


_LATENT_NAMES = ("inflammation_z", "illness_burden_z", "genetic_liability_z")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _categorical(rng, probabilities_by_group: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Draw one category code per row from the probability row of its group."""
    cumulative = np.cumsum(probabilities_by_group, axis=1)[group]
    cumulative[:, -1] = 1.0
    return (rng.random(len(group))[:, None] > cumulative).sum(axis=1)


def _table(by_ancestry: dict, categories: tuple[str, ...]) -> np.ndarray:
    return np.array([[by_ancestry[a][c] for c in categories] for a in ANCESTRIES])


def _per_ancestry(values: dict, ancestry: np.ndarray, *, default=None) -> np.ndarray:
    return np.array([values[a] if default is None else values.get(a, default)
                     for a in ANCESTRIES])[ancestry]


def _mix(rng, driver: np.ndarray, loading: float) -> np.ndarray:
    """A standard-normal variable correlated ``loading`` with a standardised driver."""
    return loading * driver + np.sqrt(1.0 - loading**2) * rng.standard_normal(len(driver))


def _truncated_mix(rng, driver: np.ndarray, loading: float, low, high) -> np.ndarray:
    """Like ``_mix``, but redrawn within [low, high] (standard units): truncated, so no patient
    piles up on a bound the way clipping would put them there."""
    spread = np.sqrt(1.0 - loading**2)
    lower = ndtr((low - loading * driver) / spread)
    upper = ndtr((high - loading * driver) / spread)
    own = ndtri(lower + rng.random(len(driver)) * (upper - lower))
    return loading * driver + spread * own


def _outcome_noise(rng, shape: tuple[int, int], correlation: float) -> np.ndarray:
    """Logistic noise per patient and arm, correlated ``correlation`` across a patient's arms.

    A Gaussian copula: each arm's noise is still standard logistic, so the true response
    probability stays the logistic of the latent outcome mean, while a shared propensity makes a
    patient who responds to one treatment likely to respond to another.
    """
    n, arms = shape
    shared = rng.standard_normal((n, 1))
    own = rng.standard_normal((n, arms))
    gaussian = np.sqrt(correlation) * shared + np.sqrt(1.0 - correlation) * own
    return log_ndtr(gaussian) - log_ndtr(-gaussian)


def _clip_round(name: str, values: np.ndarray) -> np.ndarray:
    variable = DATA_DICTIONARY[name]
    values = np.clip(values, variable.minimum, variable.maximum)
    if variable.kind == "integer":
        return np.rint(values).astype(np.int64)
    return np.round(values, variable.decimals)


def _draw_enrolled(rng, n: int, p: CohortParameters, case_mix: CaseMix):
    """``_draw_population``, redrawing patients who fail the inclusion criteria."""
    if not case_mix.has_criteria:
        return _draw_population(rng, n, p)
    frames, latent_parts, enrolled, drawn = [], [], 0, 0
    while enrolled < n:
        if drawn >= MAX_DRAWS_PER_ENROLLED * max(n, 100):
            raise ValueError(FEW_ELIGIBLE.format(ratio=MAX_DRAWS_PER_ENROLLED))
        share = enrolled / drawn if drawn else 0.5
        batch = int(np.ceil((n - enrolled) / max(share, 1 / MAX_DRAWS_PER_ENROLLED) * 1.2)) + 10
        patients, latents = _draw_population(rng, batch, p)
        keep = case_mix.eligible(patients)
        frames.append(patients[keep])
        latent_parts.append({name: values[keep] for name, values in latents.items()})
        enrolled, drawn = enrolled + int(keep.sum()), drawn + batch
    patients = pd.concat(frames, ignore_index=True).iloc[:n].reset_index(drop=True)
    patients["patient_id"] = np.arange(1, n + 1, dtype=np.int64)
    latents = {name: np.concatenate([part[name] for part in latent_parts])[:n]
               for name in latent_parts[0]}
    return patients, latents


def _misrecord_outcomes(rng, patients: pd.DataFrame, outcome: Outcome) -> None:
    """Record the opposite response for a share of patients; a flipped patient never remits."""
    if not outcome.misclassification:
        return
    flipped = rng.random(len(patients)) < outcome.misclassification
    patients["response"] = (patients["response"].to_numpy() ^ flipped).astype(np.int8)
    patients["remission"] = (patients["remission"].to_numpy() & ~flipped).astype(np.int8)


_EEG_COLUMNS = ("racc_theta_z", "eeg_ssri_signature_z")
_GENETIC_COLUMNS = tuple(v.name for v in DATA_DICTIONARY.values() if v.data_class == "genetic")


def _measure(rng, patients: pd.DataFrame, m: Measurement) -> None:
    """Replace true values by what the site's assays and devices record (NaN: not measured)."""
    n = len(patients)
    if m.shifts_crp:
        noise = np.exp(m.crp_ln_noise_sd * rng.standard_normal(n))
        patients["crp_mg_l"] = _clip_round(
            "crp_mg_l", patients["crp_mg_l"].to_numpy() * m.crp_factor * noise
            + m.crp_offset_mg_l)
    if m.eeg_noise_sd:
        for name in _EEG_COLUMNS:
            patients[name] = _clip_round(name, patients[name].to_numpy()
                                         + m.eeg_noise_sd * rng.standard_normal(n))
    if m.eeg_missing_share:
        missing = rng.random(n) < m.eeg_missing_share
        for name in _EEG_COLUMNS:
            patients[name] = np.where(missing, np.nan, patients[name].to_numpy())
    if not m.genotyped:
        for name in _GENETIC_COLUMNS:
            categories = DATA_DICTIONARY[name].categories
            patients[name] = (pd.Categorical.from_codes(np.full(n, -1), categories=categories)
                              if categories else np.full(n, np.nan))


def _draw_population(rng, n: int, p: CohortParameters):
    """Draw everything but treatment and outcome; returns (observed frame, latent drivers)."""
    ancestry = _categorical(rng, np.array([[p.ancestry_shares[a] for a in ANCESTRIES]]),
                            np.zeros(n, dtype=np.int64))
    female = rng.random(n) < p.female_share
    age_bounds = [(bound - p.age_mean) / p.age_sd for bound in p.age_range]
    age = _clip_round("age", p.age_mean + p.age_sd * _truncated_mix(rng, np.zeros(n), 0.0,
                                                                       *age_bounds))
    maltreatment = rng.random(n) < p.maltreatment_rate

    shift = p.maltreatment_latent_shift * maltreatment
    inflammation = rng.standard_normal(n) + shift
    burden = rng.standard_normal(n) + shift
    liability = rng.standard_normal(n)
    # Standardised latents keep each biomarker's published marginal distribution.
    latent_mean = p.maltreatment_latent_shift * p.maltreatment_rate
    latent_sd = np.sqrt(1 + p.maltreatment_latent_shift**2 * p.maltreatment_rate
                        * (1 - p.maltreatment_rate))
    inflammation_std = (inflammation - latent_mean) / latent_sd
    burden_std = (burden - latent_mean) / latent_sd

    hamd_bounds = [(bound - p.hamd_mean) / p.hamd_sd for bound in p.hamd_range]
    hamd = p.hamd_mean + p.hamd_sd * _truncated_mix(rng, burden_std, p.hamd_burden_loading,
                                                    *hamd_bounds)
    anxious = rng.random(n) < p.anxious_rate
    # No longer than the months since the earliest onset age (nor the dictionary's bounds).
    episode_variable = DATA_DICTIONARY["episode_duration_months"]
    longest = np.minimum(episode_variable.maximum,
                         np.maximum((age - p.depression_onset_min_age) * 12,
                                    episode_variable.minimum))
    log_median = np.log(p.episode_median_months)
    episode = np.exp(log_median + p.episode_log_sd * _truncated_mix(
        rng, burden_std, p.episode_burden_loading,
        (np.log(episode_variable.minimum) - log_median) / p.episode_log_sd,
        (np.log(longest) - log_median) / p.episode_log_sd))
    failure_rate = np.exp(p.prior_failure_log_rate + p.prior_failure_burden_slope * burden_std)
    prior_failures = np.minimum(rng.poisson(failure_rate), p.prior_failure_cap)
    comorbidity = rng.random(n) < p.comorbidity_rate

    crp = np.exp(p.ln_crp_mean + p.ln_crp_sd * _mix(rng, inflammation_std,
                                                      p.crp_inflammation_loading))
    il6 = np.exp(p.ln_il6_mean + p.ln_il6_sd * _mix(rng, inflammation_std,
                                                      p.il6_inflammation_loading))
    racc = rng.standard_normal(n)
    eeg_signature = _mix(rng, racc, p.eeg_signature_racc_loading)
    # E[sigmoid(a + sZ)] ~ sigmoid(a / sqrt(1 + pi s^2 / 8)) sets the rate to the target.
    dst_intercept = (np.log(p.dst_nonsuppression_rate / (1 - p.dst_nonsuppression_rate))
                     * np.sqrt(1 + np.pi * p.dst_burden_slope**2 / 8))
    dst = rng.random(n) < _sigmoid(dst_intercept + p.dst_burden_slope * burden_std)
    hippocampus = (p.hippocampal_mean_mm3
                   + p.hippocampal_male_mm3 * (~female - (1 - p.female_share))
                   + p.hippocampal_per_year_mm3 * (age - p.age_mean)
                   + p.hippocampal_sd_mm3 * _mix(rng, -burden_std, p.decoy_burden_loading))
    bdnf = p.ln_bdnf_median * np.exp(p.ln_bdnf_sd * _mix(rng, -burden_std,
                                                          p.decoy_burden_loading))

    cyp2c19 = _categorical(rng, _table(p.cyp2c19_by_ancestry, CYP2C19_PHENOTYPES), ancestry)
    cyp2d6 = _categorical(rng, _table(p.cyp2d6_by_ancestry, CYP2D6_PHENOTYPES), ancestry)
    prs_r = p.prs_liability_correlation / np.sqrt(_per_ancestry(p.prs_loss_factor, ancestry))
    prs = prs_r * liability + np.sqrt(1 - prs_r**2) * rng.standard_normal(n)
    httlpr_s_alleles = rng.binomial(2, _per_ancestry(p.httlpr_s_allele_frequency, ancestry))
    bdnf_met = rng.binomial(2, _per_ancestry(p.bdnf_met_allele_frequency, ancestry)) > 0
    fkbp5 = rng.beta(*p.fkbp5_beta, n)

    patients = pd.DataFrame({
        "patient_id": np.arange(1, n + 1, dtype=np.int64),
        "age": age,
        "sex": pd.Categorical.from_codes(np.where(female, 0, 1), categories=SEXES),
        "ancestry": pd.Categorical.from_codes(ancestry, categories=ANCESTRIES),
        "childhood_maltreatment": maltreatment.astype(np.int8),
        "hamd17": _clip_round("hamd17", hamd),
        "anxious_depression": anxious.astype(np.int8),
        "episode_duration_months": _clip_round("episode_duration_months", episode),
        "prior_failures": prior_failures.astype(np.int64),
        "psychiatric_comorbidity": comorbidity.astype(np.int8),
        "crp_mg_l": _clip_round("crp_mg_l", crp),
        "il6_pg_ml": _clip_round("il6_pg_ml", il6),
        "racc_theta_z": _clip_round("racc_theta_z", racc),
        "eeg_ssri_signature_z": _clip_round("eeg_ssri_signature_z", eeg_signature),
        "dst_nonsuppression": dst.astype(np.int8),
        "hippocampal_volume_mm3": _clip_round("hippocampal_volume_mm3", hippocampus),
        "bdnf_serum_ng_ml": _clip_round("bdnf_serum_ng_ml", bdnf),
        "cyp2c19_phenotype": pd.Categorical.from_codes(cyp2c19, categories=CYP2C19_PHENOTYPES),
        "cyp2d6_phenotype": pd.Categorical.from_codes(cyp2d6, categories=CYP2D6_PHENOTYPES),
        "polygenic_score_z": _clip_round("polygenic_score_z", prs),
        "httlpr_genotype": pd.Categorical.from_codes(httlpr_s_alleles, categories=HTTLPR_GENOTYPES),
        "bdnf_met_carrier": bdnf_met.astype(np.int8),
        "fkbp5_methylation": _clip_round("fkbp5_methylation", fkbp5),
    })
    latents = {
        "inflammation_z": inflammation,
        "illness_burden_z": burden,
        "genetic_liability_z": liability,
    }
    return patients, latents


def _logit_terms(patients: pd.DataFrame, latents: dict, p: CohortParameters,
                 placebo_resistant_offset: float = 0.0) -> dict[str, dict]:
    """Each arm's latent outcome mean, term by term: {arm: {variable: array}}, no intercepts.

    Every term depends on one variable, so the sum is additive and a term minus its mean is that
    variable's exact (true) SHAP value. ``placebo_resistant_offset`` is placebo's own extra
    effect of two or more prior failures (solved by the calibration).
    """
    col = {name: patients[name].to_numpy() for name in (
        "anxious_depression", "episode_duration_months", "psychiatric_comorbidity",
        "racc_theta_z", "prior_failures", "childhood_maltreatment", "hamd17",
        "dst_nonsuppression", "crp_mg_l", "eeg_ssri_signature_z")}
    cyp2c19 = patients["cyp2c19_phenotype"].to_numpy()
    ln_crp = np.log(col["crp_mg_l"])
    resistant = col["prior_failures"] >= TREATMENT_RESISTANT_MIN_FAILURES
    shared = {
        "anxious_depression": p.effect_anxious * col["anxious_depression"],
        "episode_duration_months": p.effect_chronic * (col["episode_duration_months"]
                                                       > p.chronic_months),
        "psychiatric_comorbidity": p.effect_comorbidity * col["psychiatric_comorbidity"],
        "sex": p.effect_female * (patients["sex"] == "female").to_numpy(),
        "racc_theta_z": p.effect_racc_theta * col["racc_theta_z"],
        "genetic_liability_z": p.effect_genetic_liability * latents["genetic_liability_z"],
        "prior_failures": np.where(resistant, p.effect_two_plus_prior_failures,
                                   np.where(col["prior_failures"] == 1,
                                            p.effect_one_prior_failure, 0.0)),
    }
    if p.effect_illness_burden:  # absent by default, so the default truth has no such column
        shared["illness_burden_z"] = p.effect_illness_burden * latents["illness_burden_z"]
    drug = {"childhood_maltreatment": p.effect_maltreatment_drug_arms
            * col["childhood_maltreatment"]}
    l_alleles = patients["httlpr_genotype"].astype(str).str.count("l").to_numpy()
    arm_terms = {
        "placebo": {"prior_failures": shared["prior_failures"]
                    + placebo_resistant_offset * resistant,
                    "hamd17": p.placebo_hamd_slope * (col["hamd17"] - p.hamd_mean),
                    "dst_nonsuppression": p.placebo_dst_nonsuppression
                    * col["dst_nonsuppression"]},
        "ssri": {"crp_mg_l": p.ssri_ln_crp * ln_crp,
                 "eeg_ssri_signature_z": p.ssri_eeg_signature * col["eeg_ssri_signature_z"],
                 "cyp2c19_phenotype": sum(effect * (cyp2c19 == phenotype)
                                          for phenotype, effect in p.ssri_cyp2c19.items()),
                 "httlpr_genotype": p.ssri_httlpr_per_l_allele * l_alleles},
        "snri": {"crp_mg_l": p.noradrenergic_ln_crp * ln_crp},
        "bupropion": {"crp_mg_l": p.noradrenergic_ln_crp * ln_crp},
        "cbt": {},
        "rtms": {"eeg_ssri_signature_z": p.rtms_eeg_signature * col["eeg_ssri_signature_z"]},
        "esketamine": {},
    }
    return {arm: {**shared, **(drug if arm in DRUG_ARMS else {}), **arm_terms[arm]}
            for arm in ARMS}


def _linear_predictors(patients: pd.DataFrame, latents: dict, p: CohortParameters,
                       placebo_resistant_offset: float = 0.0) -> np.ndarray:
    """Each patient's latent outcome mean under every arm, without the arm intercepts."""
    terms = _logit_terms(patients, latents, p, placebo_resistant_offset)
    n = len(patients)
    return np.column_stack([
        sum((np.asarray(t, dtype=np.float64) for t in terms[arm].values()), np.zeros(n))
        for arm in ARMS])


def true_logit_terms(patients: pd.DataFrame, truth: pd.DataFrame, *, arm: str,
                     scenario: str = "default") -> pd.DataFrame:
    """The true additive terms of ``arm``'s response logit, one column per variable.

    Variables absent from the columns (the decoys, for example) have a true effect of zero.
    ``term - term.mean()`` is each variable's true SHAP value in log-odds.
    """
    params = get_scenario(scenario).parameters
    latents = {name: truth[name].to_numpy() for name in _LATENT_NAMES}
    terms = _logit_terms(patients, latents, params,
                         _calibration(params).placebo_resistant_offset)[arm]
    return pd.DataFrame({name: np.broadcast_to(np.asarray(values, dtype=np.float64),
                                               len(patients))
                         for name, values in terms.items()}, index=patients.index)


def _response_logits(patients: pd.DataFrame, latents: dict, p: CohortParameters) -> np.ndarray:
    calibration = _calibration(p)
    return (_linear_predictors(patients, latents, p, calibration.placebo_resistant_offset)
            + calibration.intercepts)


@dataclass(frozen=True)
class Calibration:
    """What is solved from the published rates rather than set: see ``calibrate``."""

    intercepts: np.ndarray  # per arm, in ARMS order
    placebo_resistant_offset: float  # placebo's own extra effect of two or more failures
    remission_margin: float  # logits above the response threshold


_CALIBRATIONS: dict[str, Calibration] = {}
TREATMENT_RESISTANT_RATE_OUT_OF_RANGE = (
    "{arm}: its comparator's response rate ({comparator:.0%}) plus its edge ({edge:.0%}) is not "
    "a rate between 0 and 1")


def _calibration(p: CohortParameters) -> Calibration:
    key = p.fingerprint()
    if key not in _CALIBRATIONS:
        _CALIBRATIONS[key] = calibrate(p)
    return _CALIBRATIONS[key]


def _shift_to_rate(x: np.ndarray, target: float) -> float:
    """The shift a with mean(sigmoid(a + x)) = target, by Newton's method."""
    a = np.log(target / (1 - target)) - x.mean()
    for _ in range(30):
        s = _sigmoid(a + x)
        a -= (s.mean() - target) / (s * (1 - s)).mean()
    return float(a)


def calibrate(p: CohortParameters) -> Calibration:
    """Solve what puts each population on its published rates, on a fixed reference population.

    - First-line arms: their target response rates among patients with no prior failure
      (DOMAIN's targets are for first-line patients).
    - Placebo among patients with two or more failures: the sham arms of rTMS trials, through a
      placebo-specific effect of failures (none when the parameter is None).
    - rTMS and esketamine: their comparator's rate among those patients plus the published edge,
      so the contrast a trial measures is kept (the absolute rates follow the comparators).
    - Remission: the margin above the response threshold that gives first-line SSRI patients
      their STAR*D remission rate; one margin for every arm.
    """
    rng = np.random.default_rng(_CALIBRATION_SEED)
    patients, latents = _draw_population(rng, _CALIBRATION_SIZE, p)
    predictors = _linear_predictors(patients, latents, p)
    failures = patients["prior_failures"].to_numpy()
    first_line, resistant = failures == 0, failures >= TREATMENT_RESISTANT_MIN_FAILURES
    intercepts = np.zeros(len(ARMS))
    for arm in FIRST_LINE_ARMS:
        i = ARMS.index(arm)
        intercepts[i] = _shift_to_rate(predictors[first_line, i], p.target_response[arm])
    placebo = ARMS.index("placebo")
    offset = 0.0
    if p.placebo_response_treatment_resistant is not None:
        offset = _shift_to_rate(predictors[resistant, placebo] + intercepts[placebo],
                                p.placebo_response_treatment_resistant)
    resistant_logits = predictors[resistant] + intercepts
    resistant_logits[:, placebo] += offset
    for arm in TREATMENT_RESISTANT_ARMS:
        comparator = float(np.mean([_sigmoid(resistant_logits[:, ARMS.index(c)]).mean()
                                    for c in TREATMENT_RESISTANT_COMPARATORS[arm]]))
        edge = p.treatment_resistant_edge[arm]
        if not 0 < comparator + edge < 1:
            raise ValueError(TREATMENT_RESISTANT_RATE_OUT_OF_RANGE.format(
                arm=arm, comparator=comparator, edge=edge))
        i = ARMS.index(arm)
        intercepts[i] = _shift_to_rate(predictors[resistant, i], comparator + edge)
    ssri = ARMS.index("ssri")
    margin = -_shift_to_rate(predictors[first_line, ssri] + intercepts[ssri],
                             p.target_remission_ssri)
    return Calibration(intercepts=intercepts, placebo_resistant_offset=offset,
                       remission_margin=margin)


ASSIGNMENTS = ("randomised", "by_severity")
_CBT = ARMS.index("cbt")


def _assign_arms(rng, patients: pd.DataFrame, p: CohortParameters) -> np.ndarray:
    if p.assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {p.assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    resistant = patients["prior_failures"].to_numpy() >= TREATMENT_RESISTANT_MIN_FAILURES
    n_eligible = np.where(resistant, len(ARMS), len(FIRST_LINE_ARMS))
    if p.assignment == "randomised":
        return np.floor(rng.random(len(patients)) * n_eligible).astype(np.int64)
    # Observational: clinicians offer psychotherapy more often to milder patients.
    weights = (np.arange(len(ARMS))[None, :] < n_eligible[:, None]).astype(np.float64)
    milder = p.hamd_mean - patients["hamd17"].to_numpy(dtype=np.float64)
    failures = patients["prior_failures"].to_numpy(dtype=np.float64)
    weights[:, _CBT] = np.exp(p.cbt_severity_slope * milder + p.cbt_prior_failure_slope * failures)
    cumulative = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    cumulative[:, -1] = 1.0
    return (rng.random(len(patients))[:, None] > cumulative).sum(axis=1).astype(np.int64)


BAD_DECLINE_RATES = ("decline rates must lie in 0-1 in each maltreatment group, and "
                     "genetic_decline_maltreatment_ratio must be above 0")


def _consent_decisions(rng, patients: pd.DataFrame, p: CohortParameters) -> pd.DataFrame:
    """Each patient's consent decisions; genetic declining may depend on maltreatment."""
    maltreatment = patients["childhood_maltreatment"].to_numpy() == 1
    # Keep the overall rate: rate = base x (1 - m + ratio x m), m the maltreatment rate.
    m, ratio = p.maltreatment_rate, p.genetic_decline_maltreatment_ratio
    base = p.genetic_decline_rate / (1 - m + ratio * m) if ratio > 0 else -1.0
    if not (0 <= base * max(ratio, 1.0) <= 1 and 0 <= p.training_decline_rate <= 1):
        raise ValueError(BAD_DECLINE_RATES)
    genetic_rate = np.where(maltreatment, base * ratio, base)
    declines_genetic = rng.random(len(patients)) < genetic_rate
    declines_training = rng.random(len(patients)) < p.training_decline_rate
    return pd.DataFrame({
        "patient_id": patients["patient_id"].to_numpy(),
        "declines_genetic": declines_genetic,
        "declines_training": declines_training,
    })
