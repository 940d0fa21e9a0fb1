"""Parameters of the cohort generator.

Every number here mirrors a published finding or is marked *assumed* in the data dictionary
(``synthetic_data.dictionary``). A scenario is a set of overrides of these defaults
(``synthetic_data.scenarios``). A site (``synthetic_data.sites``) changes who is enrolled, what
is measured, how response is recorded and who gets which treatment, each shift citing its
evidence the way the dictionary does; it never changes the response model.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

ARMS = ("placebo", "ssri", "snri", "bupropion", "cbt", "rtms", "esketamine")
ARM_LABELS = {"placebo": "placebo", "ssri": "SSRI", "snri": "SNRI", "bupropion": "bupropion",
              "cbt": "CBT", "rtms": "rTMS", "esketamine": "esketamine"}
FIRST_LINE_ARMS = ("placebo", "ssri", "snri", "bupropion", "cbt")
TREATMENT_RESISTANT_ARMS = ("rtms", "esketamine")
DRUG_ARMS = ("ssri", "snri", "bupropion", "esketamine")
TREATMENT_RESISTANT_MIN_FAILURES = 2
# What each treatment-resistant arm was compared with in its trials: sham stimulation for rTMS
# (Berlim 2014), a newly started oral antidepressant for esketamine (TRANSFORM).
TREATMENT_RESISTANT_COMPARATORS = {"rtms": ("placebo",), "esketamine": ("ssri", "snri")}

ANCESTRIES = ("EUR", "AFR", "EAS", "AMR")
SEXES = ("female", "male")
CYP2C19_PHENOTYPES = ("PM", "IM", "NM", "RM", "UM")
CYP2D6_PHENOTYPES = ("PM", "IM", "NM", "UM")
HTTLPR_GENOTYPES = ("l/l", "l/s", "s/s")

_EUR_CYP2C19 = {"PM": 0.021, "IM": 0.248, "NM": 0.406, "RM": 0.276, "UM": 0.047}


@dataclass(frozen=True)
class CohortParameters:
    """All knobs of the generator; the defaults reproduce ../shared/DOMAIN.md."""

    # Population (DOMAIN.md section 2)
    ancestry_shares: dict = field(
        default_factory=lambda: {"EUR": 0.60, "AFR": 0.15, "EAS": 0.15, "AMR": 0.10}
    )
    female_share: float = 0.62
    age_mean: float = 41.0
    age_sd: float = 13.0
    age_range: tuple = (18, 75)  # truncated, not clipped: no pile of patients on the bounds
    maltreatment_rate: float = 0.45
    maltreatment_latent_shift: float = 0.3
    hamd_mean: float = 22.0
    hamd_sd: float = 4.2
    hamd_range: tuple = (14, 45)  # truncated
    hamd_burden_loading: float = 0.5
    anxious_rate: float = 0.53
    episode_median_months: float = 16.0
    episode_log_sd: float = 1.073  # ln(34 / 8) / 1.349: IQR 8-34 months
    episode_burden_loading: float = 0.3
    depression_onset_min_age: float = 12.0  # an episode cannot be longer than the life since
    chronic_months: float = 24.0
    prior_failure_log_rate: float = -0.6
    prior_failure_burden_slope: float = 0.4
    prior_failure_cap: int = 3
    comorbidity_rate: float = 0.50

    # Biomarkers (DOMAIN.md section 3)
    ln_crp_mean: float = 0.27
    ln_crp_sd: float = 1.35
    crp_inflammation_loading: float = 0.8
    ln_il6_mean: float = 0.6
    ln_il6_sd: float = 0.6
    il6_inflammation_loading: float = 0.5
    eeg_signature_racc_loading: float = 0.5
    dst_nonsuppression_rate: float = 0.20
    dst_burden_slope: float = 0.5
    hippocampal_mean_mm3: float = 4000.0
    hippocampal_sd_mm3: float = 400.0
    hippocampal_male_mm3: float = 250.0  # larger in men (raw volume), size assumed
    hippocampal_per_year_mm3: float = -12.0  # smaller with age, about 0.3% a year, size assumed
    ln_bdnf_median: float = 20.0
    ln_bdnf_sd: float = 0.35
    decoy_burden_loading: float = 0.3

    # Genetics and epigenetics (DOMAIN.md section 4)
    cyp2c19_by_ancestry: dict = field(
        default_factory=lambda: {
            "EUR": dict(_EUR_CYP2C19),
            "AFR": dict(_EUR_CYP2C19),
            "AMR": dict(_EUR_CYP2C19),
            "EAS": {"PM": 0.17, "IM": 0.47, "NM": 0.34, "RM": 0.02, "UM": 0.0},
        }
    )
    cyp2d6_by_ancestry: dict = field(
        default_factory=lambda: {
            "EUR": {"PM": 0.054, "IM": 0.100, "NM": 0.824, "UM": 0.022},
            "AFR": {"PM": 0.020, "IM": 0.300, "NM": 0.630, "UM": 0.050},
            "EAS": {"PM": 0.004, "IM": 0.390, "NM": 0.596, "UM": 0.010},
            "AMR": {"PM": 0.030, "IM": 0.110, "NM": 0.820, "UM": 0.040},
        }
    )
    prs_liability_correlation: float = 0.5
    prs_loss_factor: dict = field(
        default_factory=lambda: {"EUR": 1.0, "AMR": 1.6, "EAS": 2.5, "AFR": 4.9}
    )
    httlpr_s_allele_frequency: dict = field(
        default_factory=lambda: {"EUR": 0.40, "AFR": 0.25, "EAS": 0.75, "AMR": 0.45}
    )
    bdnf_met_allele_frequency: dict = field(
        default_factory=lambda: {"EUR": 0.20, "AFR": 0.02, "EAS": 0.46, "AMR": 0.15}
    )
    fkbp5_beta: tuple = (5.0, 5.0)

    # Response model (DOMAIN.md sections 1, 5 and 8), in logits
    # Response rates of first-line patients (no prior failed treatment).
    target_response: dict = field(
        default_factory=lambda: {
            "placebo": 0.37,
            "ssri": 0.47,
            "snri": 0.50,
            "bupropion": 0.45,
            "cbt": 0.41,
        }
    )
    # Patients with two or more prior failures: placebo responds like the sham arms of rTMS
    # trials (None: no placebo-specific term, placebo follows the shared effects), and each
    # treatment-resistant arm keeps its published edge over its trials' comparator
    # (TREATMENT_RESISTANT_COMPARATORS), in points of response rate.
    placebo_response_treatment_resistant: float | None = 0.10
    treatment_resistant_edge: dict = field(
        default_factory=lambda: {"rtms": 0.19, "esketamine": 0.14}
    )
    # Remission is a stricter threshold on the same latent outcome, set so first-line SSRI
    # patients remit at this rate (STAR*D level 1: 28% HRSD, 33% QIDS-SR; near the upper figure,
    # so the other arms come as near theirs as one threshold allows).
    target_remission_ssri: float = 0.32
    # Correlation, across a patient's treatments, of the unexplained part of the latent outcome
    # (a shared response propensity): outcomes on drug and placebo vary alike (variance ratio
    # about 1), so most of what is not measured is shared. Assumed from the sources.
    outcome_noise_correlation: float = 0.85
    effect_anxious: float = -0.45
    effect_chronic: float = -0.30
    effect_comorbidity: float = -0.20
    effect_female: float = 0.10
    effect_racc_theta: float = 0.24
    effect_genetic_liability: float = -0.15
    effect_one_prior_failure: float = -0.28
    effect_two_plus_prior_failures: float = -1.30
    effect_maltreatment_drug_arms: float = -0.36
    placebo_hamd_slope: float = -0.05
    placebo_dst_nonsuppression: float = -0.5
    ssri_ln_crp: float = -0.30
    ssri_eeg_signature: float = 0.40
    ssri_cyp2c19: dict = field(default_factory=lambda: {"UM": -0.30, "RM": -0.15})
    noradrenergic_ln_crp: float = 0.10  # SNRI and bupropion
    rtms_eeg_signature: float = -0.3
    ssri_httlpr_per_l_allele: float = 0.0  # null by default; candidate-gene lesson sets it
    # Illness burden acts on response only through observed variables (prior failures, chronic
    # episode, HAM-D) by default; the decoy lesson gives it a direct path, per SD of the latent.
    effect_illness_burden: float = 0.0

    # How response is measured: recorded when the latent outcome exceeds the threshold of the
    # patient's ancestry group (logits; a group not named here: 0, the true definition).
    # Remission sits the solved remission margin above it. The truth columns keep the true
    # definition.
    response_threshold_by_ancestry: dict = field(default_factory=dict)

    # How patients receive treatment: "randomised" (every eligible arm equally likely) or
    # "by_severity" (observational: the log-odds of CBT change by cbt_severity_slope per HAM-D
    # point below hamd_mean and by cbt_prior_failure_slope per prior failed treatment; the other
    # eligible arms share the rest equally).
    assignment: str = "randomised"
    cbt_severity_slope: float = 0.0
    cbt_prior_failure_slope: float = 0.0

    # Consent decisions that come with each patient (the app seeds them as consent records).
    # Declining genetic use and declining model training are independent draws; a ratio above 1
    # makes genetic decliners more often maltreated, keeping the overall decline rate.
    genetic_decline_rate: float = 0.20
    training_decline_rate: float = 0.05
    genetic_decline_maltreatment_ratio: float = 1.0  # decline rate with maltreatment / without

    def fingerprint(self) -> str:
        """A stable text form, used to cache per-parameter computations."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    def replace(self, **overrides) -> "CohortParameters":
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown cohort parameter(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **overrides)


DEFAULT_PARAMETERS = CohortParameters()
