"""The data dictionary: every column the generator produces, machine-readable.

For each variable: label, unit, type, allowed range or categories, data class, the finding it
mirrors with its citation, and whether its size is published evidence or an assumption. The app
shows it, the importer validates against it, and tests check every generated column is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .parameters import (
    ANCESTRIES,
    ARMS,
    CYP2C19_PHENOTYPES,
    CYP2D6_PHENOTYPES,
    HTTLPR_GENOTYPES,
    SEXES,
)

DATA_CLASSES = (
    "identifier",
    "demographic",
    "clinical",
    "biomarker",
    "genetic",
    "epigenetic",
    "treatment",
    "outcome",
    "ground_truth",
)
KINDS = ("identifier", "integer", "float", "binary", "category")
EVIDENCE = ("published", "assumed", "derived", "not applicable")


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: str
    data_class: str
    finding: str
    citation: str
    evidence: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] = ()
    decimals: int | None = None  # precision the generator reports, like a lab would

    def __post_init__(self):
        assert self.kind in KINDS, self.kind
        assert self.data_class in DATA_CLASSES, self.data_class
        assert self.evidence in EVIDENCE, self.evidence

    @property
    def observed(self) -> bool:
        """True for what a clinic would see; False for what only the simulation knows."""
        return self.data_class != "ground_truth"

    @property
    def allowed(self) -> str:
        if self.categories:
            return ", ".join(self.categories)
        if self.kind == "binary":
            return "0 or 1"
        if self.minimum is None:
            return "any"
        return f"{_number(self.minimum)} to {_number(self.maximum)}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _binary(name, label, data_class, finding, citation, evidence):
    return Variable(name, label, "binary", data_class, finding, citation, evidence, minimum=0, maximum=1)


_VARIABLES = [
    Variable(
        "patient_id", "Patient number (synthetic)", "identifier", "identifier",
        "Sequence number within the generated cohort; stored only as a keyed pseudonym.",
        "", "not applicable", minimum=1, maximum=10**9,
    ),
    # Demographics
    Variable(
        "age", "Age", "integer", "demographic",
        "Normal(41, 13) truncated to 18-75 (redrawn, not clipped, so no pile of patients at "
        "the bounds), as in outpatient depression trials.",
        "Hollon 2014: 43.2 (13.1); EMBARC 36.8 (13.2)", "published",
        unit="years", minimum=18, maximum=100,
    ),
    Variable(
        "sex", "Sex", "category", "demographic",
        "62% female; +0.10 logits response for women (direction STAR*D, size assumed).",
        "Hollon 2014 58.8%; EMBARC 64.5%", "published", categories=SEXES,
    ),
    Variable(
        "ancestry", "Genetic ancestry group", "category", "demographic",
        "EUR 60%, AFR 15%, EAS 15%, AMR 10%, chosen so minorities are visible.",
        "", "assumed", categories=ANCESTRIES,
    ),
    # Clinical
    _binary(
        "childhood_maltreatment", "Childhood maltreatment", "clinical",
        "45% (clinical samples 40-50%); raises inflammation and illness burden by 0.3 SD; "
        "-0.36 logits response on drug arms, none for CBT.",
        "Nanni 2012 (OR 1.43 for non-response); Nemeroff 2003", "assumed",
    ),
    Variable(
        "hamd17", "Baseline HAM-D17", "integer", "clinical",
        "Normal(22, 4.2) truncated to 14-45, rising with illness burden; lowers placebo "
        "response by 0.05 logits per point above 22.",
        "Hollon 2014: 22.1 (4.2)", "published", unit="points", minimum=0, maximum=52,
    ),
    _binary(
        "anxious_depression", "Anxious depression", "clinical",
        "53% of patients; -0.45 logits response (OR about 0.64).",
        "Fava 2008 (STAR*D)", "published",
    ),
    Variable(
        "episode_duration_months", "Index episode duration", "float", "clinical",
        "Lognormal, median 16, IQR 8-34, never longer than the months since age 12; chronic "
        "(over 24 months) -0.30 logits response (size assumed).",
        "Rush 2012; Ann Fam Med outpatient sample", "published",
        unit="months", minimum=0.5, maximum=600, decimals=1,
    ),
    Variable(
        "prior_failures", "Prior failed treatments", "integer", "clinical",
        "Poisson around exp(-0.6 + 0.4 x burden), capped at 3; -0.28 logits for one, -1.30 "
        "for two or more, and on placebo a further effect solved so that placebo among "
        "patients with two or more failures responds like the sham arms of rTMS trials (10%, "
        "Berlim 2014). Two or more makes a patient eligible for rTMS and esketamine.",
        "Derived from STAR*D step rates (Rush 2006)", "derived", minimum=0, maximum=3,
    ),
    _binary(
        "psychiatric_comorbidity", "Psychiatric comorbidity", "clinical",
        "50% of patients; -0.20 logits response (size assumed).",
        "Hollon 2014", "published",
    ),
    # Biomarkers
    Variable(
        "crp_mg_l", "hs-CRP", "float", "biomarker",
        "ln CRP normal(0.27, 1.35): 58% above 1 and 27% above 3 mg/L; driven by inflammation. "
        "SSRI response -0.30 logits per ln unit; SNRI and bupropion +0.10.",
        "Osimo 2019; Uher 2014 (GENDEP); Jha 2017 (CO-MED)", "published",
        unit="mg/L", minimum=0.01, maximum=300, decimals=2,
    ),
    Variable(
        "il6_pg_ml", "IL-6", "float", "biomarker",
        "Lognormal, correlated with CRP through inflammation; no effect beyond CRP here.",
        "Haapakoski 2015; Strawbridge 2015", "assumed", unit="pg/mL", minimum=0.01, maximum=1000, decimals=2,
    ),
    Variable(
        "racc_theta_z", "rACC theta (EEG)", "float", "biomarker",
        "Normal(0, 1); prognostic for any treatment, +0.24 logits per SD.",
        "Pizzagalli 2018 (EMBARC)", "published", unit="z", minimum=-6, maximum=6, decimals=3,
    ),
    Variable(
        "eeg_ssri_signature_z", "EEG sertraline-response signature", "float", "biomarker",
        "0.5 x rACC theta + noise; +0.40 logits per SD for SSRI, -0.3 for rTMS (sizes assumed).",
        "Wu 2020 (EMBARC)", "assumed", unit="z", minimum=-6, maximum=6, decimals=3,
    ),
    _binary(
        "dst_nonsuppression", "Dexamethasone non-suppression", "biomarker",
        "About 20% of outpatients, rising with burden; -0.5 logits placebo response only.",
        "Ribeiro 1993; Nelson 1997", "published",
    ),
    Variable(
        "hippocampal_volume_mm3", "Hippocampal volume", "integer", "biomarker",
        "About 4000, larger in men (+250) and smaller with age (-12 per year), sizes assumed; "
        "falling slightly with illness burden. DECOY: no effect on response; correlates with "
        "outcome only through burden (and sex).",
        "Schmaal 2016 (ENIGMA, d = -0.14); Nobis 2019 (UK Biobank nomograms)", "published", unit="mm3", minimum=2000, maximum=6000,
    ),
    Variable(
        "bdnf_serum_ng_ml", "Serum BDNF", "float", "biomarker",
        "Lognormal, median about 20, falling with illness burden. DECOY: a state marker with "
        "no effect on response.",
        "Molendijk 2014; Brunoni 2008", "published", unit="ng/mL", minimum=0.5, maximum=100, decimals=1,
    ),
    # Genetics
    Variable(
        "cyp2c19_phenotype", "CYP2C19 metaboliser phenotype", "category", "genetic",
        "EUR 2.1/24.8/40.6/27.6/4.7% (PM/IM/NM/RM/UM); EAS 17/47/34/2/0%; AFR and AMR assumed "
        "equal to EUR. SSRI response -0.30 logits for UM and -0.15 for RM (sizes assumed).",
        "PMC9318053 (n = 1.69M); Bousman 2023 (CPIC); DPWG 2021", "published",
        categories=CYP2C19_PHENOTYPES,
    ),
    Variable(
        "cyp2d6_phenotype", "CYP2D6 metaboliser phenotype", "category", "genetic",
        "PM 0.4-5.4% and UM 1-21% across populations (per-group figures assumed within that "
        "range); guides venlafaxine and paroxetine, no response effect here.",
        "Gaedigk 2017; Bousman 2023 (CPIC)", "assumed", categories=CYP2D6_PHENOTYPES,
    ),
    Variable(
        "polygenic_score_z", "Depression polygenic score", "float", "genetic",
        "Correlates with true genetic liability r = 0.5 in EUR, divided by the square root of "
        "the loss factor elsewhere (AMR 1.6, EAS 2.5, AFR 4.9). Liability lowers response by "
        "0.15 logits per SD.",
        "Martin 2019; Fanelli 2022; Howard 2019", "published", unit="z", minimum=-6, maximum=6, decimals=3,
    ),
    Variable(
        "httlpr_genotype", "5-HTTLPR genotype", "category", "genetic",
        "s-allele about 40% in EUR, 75% EAS, 25% AFR, 45% AMR (frequencies assumed). Null effect "
        "by default (publication-bias-corrected RR 0.92, n.s.).",
        "Serretti 2007; Porcelli 2012; Taylor 2010", "published", categories=HTTLPR_GENOTYPES,
    ),
    _binary(
        "bdnf_met_carrier", "BDNF Val66Met: Met carrier", "genetic",
        "Met allele about 20% EUR, 46% EAS (AFR, AMR assumed); null effect.",
        "Pivac 2009; Yan 2014", "published",
    ),
    Variable(
        "fkbp5_methylation", "FKBP5 methylation", "float", "epigenetic",
        "Beta(5, 5); null effect (replications inconsistent).",
        "Binder 2004; Lekman 2008", "assumed", unit="fraction", minimum=0, maximum=1, decimals=3,
    ),
    # Treatment and outcome
    Variable(
        "arm", "Assigned treatment", "category", "treatment",
        "Randomised among placebo, SSRI, SNRI, bupropion and CBT; patients with two or more "
        "prior failures also among rTMS and esketamine.",
        "", "not applicable", categories=ARMS,
    ),
    _binary(
        "response", "Response (>= 50% reduction in severity)", "outcome",
        "Latent outcome above 0. First-line patients (no prior failure): placebo 37%, SSRI 47%, "
        "SNRI 50%, bupropion 45%, CBT 41%. Two or more prior failures: placebo 10% (sham), "
        "rTMS 19 points above it (29%), esketamine 14 points above SSRI and SNRI in the same "
        "patients (about 35%). The generator keeps TRANSFORM's 14-point edge rather than its "
        "59%: its control arm's 45% contradicts the STAR*D step rates that the prior-failure "
        "effect encodes (antidepressants about 21% here). Outcomes are correlated across a "
        "patient's treatments (see the potential responses).",
        "Furukawa 2016; Trivedi 2006; Rush 2011; Rush 2009; Cuijpers; Berlim 2014; Turkoz 2021",
        "published",
    ),
    _binary(
        "remission", "Remission", "outcome",
        "A stricter threshold on the same latent outcome, one for every arm, solved so that "
        "first-line SSRI patients remit at 32% (STAR*D level 1: 28% HRSD, 33% QIDS-SR). It "
        "gives SNRI about 33% (CO-MED about 38%), bupropion at step 2 about 24% (26%), rTMS "
        "about 17% (19%) and CBT at step 2 about 21%: DOMAIN's 31% for CBT at step 2 cannot "
        "be reached with CBT's 41% first-line response and the one-failure effect, so the "
        "generator keeps STAR*D's SSRI figure.",
        "Trivedi 2006 (STAR*D); Rush 2011; Rush 2009; Berlim 2014", "derived",
    ),
    # Ground truth: only the simulation knows these
    Variable(
        "inflammation_z", "Latent inflammation", "float", "ground_truth",
        "Normal(0, 1), +0.3 with childhood maltreatment; drives CRP and IL-6.",
        "", "assumed", unit="z",
    ),
    Variable(
        "illness_burden_z", "Latent illness burden", "float", "ground_truth",
        "Normal(0, 1), +0.3 with childhood maltreatment; drives severity, chronicity, prior "
        "failures, DST non-suppression and the decoys.",
        "", "assumed", unit="z",
    ),
    Variable(
        "genetic_liability_z", "True genetic liability", "float", "ground_truth",
        "Normal(0, 1); -0.15 logits response per SD. The polygenic score measures it imperfectly.",
        "Howard 2019", "published", unit="z",
    ),
]

for _arm in ARMS:
    _VARIABLES.append(
        Variable(
            f"p_response_{_arm}", f"True response probability under {_arm}", "float",
            "ground_truth", "Logistic of the patient's latent outcome mean under this arm.",
            "", "derived", minimum=0, maximum=1,
        )
    )
for _arm in ARMS:
    _VARIABLES.append(
        _binary(
            f"response_{_arm}", f"Potential response under {_arm}", "ground_truth",
            "Whether the patient would respond under this arm. The unexplained part of the "
            "outcome correlates 0.85 across a patient's arms (a shared response propensity): "
            "latent outcomes on placebo and SSRI correlate about 0.8 and responses about 0.57, "
            "and about 64% of first-line patients would respond to at least one first-line "
            "treatment. The size is assumed: variance-ratio meta-analyses find outcomes on drug "
            "and placebo about equally spread (1.01, 0.99-1.02; up to 1.14), compatible with "
            "little individual difference in who responds to what; here the ratio is about "
            "1.11, set by the published biomarker effects.",
            "Ploderl and Hengartner 2019 (BMJ Open); Winkelbeiner 2019 (JAMA Psychiatry); "
            "Maslej 2020 (JAMA Psychiatry)", "assumed",
        )
    )

DATA_DICTIONARY: dict[str, Variable] = {v.name: v for v in _VARIABLES}
PATIENT_COLUMNS: tuple[str, ...] = tuple(v.name for v in _VARIABLES if v.observed)
TRUTH_COLUMNS: tuple[str, ...] = ("patient_id",) + tuple(
    v.name for v in _VARIABLES if not v.observed
)
