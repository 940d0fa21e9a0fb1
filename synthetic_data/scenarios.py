"""Named teaching scenarios: each is a declarative change of the default parameters.

Adding a scenario is one ``_register(Scenario(...))`` call; ``overrides`` names fields of
``CohortParameters`` and their new values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .parameters import DEFAULT_PARAMETERS, CohortParameters


@dataclass(frozen=True)
class Scenario:
    """A lesson: what changes (``overrides``), why (``teaching_note``), three discussion
    ``questions`` and what the educator should expect to see (``expected``).

    ``min_patients``: the smallest cohort in which the expected lesson showed for every seed
    tried (``benchmarks/bench_scenario_lessons.py``); the cohort page offers no smaller one.
    """

    name: str
    title: str
    teaching_note: str
    overrides: dict = field(default_factory=dict)
    questions: tuple[str, ...] = ()
    expected: str = ""
    min_patients: int = 0

    @property
    def parameters(self) -> CohortParameters:
        return DEFAULT_PARAMETERS.replace(**self.overrides)


SCENARIOS: dict[str, Scenario] = {}
N_QUESTIONS = 3


def _register(scenario: Scenario) -> None:
    scenario.parameters  # validates the overrides at import time
    if len(scenario.questions) != N_QUESTIONS or not scenario.expected:
        raise ValueError(f"scenario {scenario.name!r} needs {N_QUESTIONS} questions and an "
                         "expectation")
    SCENARIOS[scenario.name] = scenario


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {known}") from None


_register(
    Scenario(
        name="default",
        title="Default: a randomised cohort mirroring published findings",
        teaching_note=(
            "Rates, distributions and effects follow the published studies cited in the data "
            "dictionary; where a size is a modelling choice, the dictionary says 'assumed'. "
            "Treatment is randomised, biomarkers hippocampal volume and serum BDNF are decoys "
            "(no true effect on response), and the polygenic score loses accuracy outside "
            "European ancestry as Martin 2019 reports."
        ),
        questions=(
            "Which features does the model credit most, and which of them truly drive response "
            "in the simulation?",
            "Held-out AUC sits around 0.6: what would a clinician gain, and risk, from a "
            "prediction this uncertain?",
            "Why does randomised treatment matter for reading a model of response as a guide "
            "to choosing a treatment?",
        ),
        expected=(
            "Held-out ROC AUC of about 0.55-0.70 per arm, below the oracle that scores with the "
            "true probabilities; prior failures, anxious depression, CRP (for SSRIs) and the EEG "
            "signature lead the true effects; the decoys get little credit. On the run overview "
            "the oracle's expected response rate sits only about 5 points above the best single "
            "treatment for everyone: all that choosing per patient could gain."
        ),
    )
)

_register(
    Scenario(
        name="prs_portability",
        title="Polygenic score portability: informative in European ancestry only",
        teaching_note=(
            "Genetic liability matters more here (-1.0 logits per SD instead of -0.15) and the "
            "polygenic score tracks it well in European ancestry (r = 0.9). Its accuracy falls "
            "with Martin 2019's loss factors squared, to exaggerate the lesson: r = 0.56 in "
            "AMR, 0.36 in EAS and 0.18 in AFR. GWAS were 80-96% European (Popejoy 2016), so "
            "scores built on them travel poorly."
        ),
        overrides={
            "prs_liability_correlation": 0.9,
            "prs_loss_factor": {"EUR": 1.0, "AMR": 1.6**2, "EAS": 2.5**2, "AFR": 4.9**2},
            "effect_genetic_liability": -1.0,
        },
        questions=(
            "Should a model that uses a polygenic score be offered to every patient when it is "
            "accurate for only some of them?",
            "Who carries the cost of an error here, and did the patients of other ancestries "
            "consent to being predicted less well?",
            "What would it take to make the score portable: more diverse GWAS, per-group "
            "models, or leaving genetics out?",
        ),
        expected=(
            "The full model's held-out AUC is clearly higher for EUR patients than for AFR "
            "patients; the gap is clearly larger than under 'default' and shrinks in the "
            "no-genetic variant. SHAP credits the polygenic score, which measures the true "
            "liability only in EUR."
        ),
        min_patients=2_000,
    )
)

_register(
    Scenario(
        name="underrepresented",
        title="Under-representation: African ancestry is 3% of the cohort",
        teaching_note=(
            "The same generator as 'default', but only 3% of patients are of African ancestry "
            "(EUR 72%). Per-arm models then see a few dozen AFR patients each, so the group's "
            "metrics are noisy or suppressed, and CYP2C19 and polygenic-score patterns of the "
            "group are barely learnt."
        ),
        overrides={"ancestry_shares": {"EUR": 0.72, "AFR": 0.03, "EAS": 0.15, "AMR": 0.10}},
        questions=(
            "How many AFR patients reach each arm's held-out set, and what does an AUC on that "
            "few patients tell you?",
            "Is an average accuracy over the whole cohort an honest claim for a group of 3%?",
            "What should a model card say about groups too small to evaluate?",
        ),
        expected=(
            "About 3% of patients are AFR; per-arm test sets hold at most a few dozen of them, so "
            "in every arm's fairness audit the group is flagged: hidden as small (fewer than 11), "
            "its AUC hidden (too few responders or non-responders) or marked too few to compare "
            "(fewer than 100, with very wide intervals), while the overall metrics look like "
            "'default'."
        ),
    )
)

_register(
    Scenario(
        name="decoy_biomarker",
        title="Decoy biomarker: credited by the model, no true effect",
        teaching_note=(
            "Hippocampal volume and serum BDNF follow illness burden closely (loading 0.9 "
            "instead of 0.3), and burden itself now lowers response (-0.6 logits per SD). The "
            "decoys carry no effect of their own: they measure burden, which the models cannot "
            "see. Predictive is not causal: raising a patient's BDNF would change nothing."
        ),
        overrides={"decoy_burden_loading": 0.9, "effect_illness_burden": -0.6},
        questions=(
            "The model ranks a decoy among its most important features. Is that a mistake of "
            "the model or of how we read SHAP?",
            "Would treating a patient to raise their BDNF or hippocampal volume improve their "
            "chance of response here?",
            "How could an ethics reviewer tell a causal factor from a marker without the "
            "simulation's truth?",
        ),
        expected=(
            "In most models the decoys rank among the top five features by mean absolute SHAP, "
            "while "
            "the truth check shows their true effect is zero and flags them as stand-ins for "
            "illness burden, each flag with the held-out AUC of its SHAP values and its interval; "
            "the unobserved illness burden appears among the true drivers."
        ),
        min_patients=5_000,
    )
)

_register(
    Scenario(
        name="consent_selection",
        title="Consent selection: who declines genetic testing is not random",
        teaching_note=(
            "Still 20% decline genetic use overall, but patients with childhood maltreatment "
            "decline four times as often as others (about 34% against 9%). Models using genetic "
            "data are trained only on those who consented, a sample with less maltreatment, "
            "which worsens drug response; the no-genetic model serves the decliners."
        ),
        overrides={"genetic_decline_maltreatment_ratio": 4.0},
        questions=(
            "Whom does the genetic model learn from, and whom does it then serve less well?",
            "Is it fair that patients who decline genetic testing get a model trained on "
            "different people?",
            "How should consent exclusions be reported on a model card?",
        ),
        expected=(
            "About three quarters of genetic decliners were maltreated, against about 37% of "
            "consenters; the full model's training set has less maltreatment than the cohort, "
            "and the model card's consent exclusions show who was left out."
        ),
    )
)

_register(
    Scenario(
        name="confounding_by_indication",
        title="Confounding by indication: milder patients get CBT",
        teaching_note=(
            "Treatment is not randomised: clinicians offer psychotherapy more often to milder "
            "patients (odds of CBT x1.35 per HAM-D point below 22, and x0.45 per prior failed "
            "treatment). Milder patients have less illness burden, fewer prior failures and "
            "chronic episodes, and respond better whatever they get. Comparing observed "
            "response rates between arms credits CBT with its patients' mildness."
        ),
        overrides={"assignment": "by_severity", "cbt_severity_slope": 0.3,
                   "cbt_prior_failure_slope": -0.8},
        questions=(
            "CBT's patients respond a little more often than CBT's true average over the "
            "cohort: where does the difference come from?",
            "What does a model trained on the CBT arm learn about severe patients it rarely "
            "saw?",
            "Why can an observational record not rank treatments the way a randomised trial "
            "can?",
        ),
        expected=(
            "CBT patients have a mean baseline HAM-D about 4 points lower than patients on "
            "other arms and far fewer prior failures; CBT's observed response rate sits about "
            "3-4 points above its true mean over the whole cohort (about 1 point when "
            "randomised), and the CBT model has seen few severe patients, so its predictions "
            "for them rest on little data."
        ),
        min_patients=5_000,
    )
)

_register(
    Scenario(
        name="candidate_gene",
        title="Candidate gene: 5-HTTLPR with the early published effect",
        teaching_note=(
            "5-HTTLPR gets the effect of the early studies: +0.3 logits SSRI response per long "
            "allele (published log-OR 0.2-0.4; Serretti 2007). Larger, bias-corrected analyses "
            "found no effect (Taylor 2010) and CPIC 2023 makes no recommendation: the decline "
            "effect. Compare with 'default', where the true effect is zero."
        ),
        overrides={"ssri_httlpr_per_l_allele": 0.3},
        questions=(
            "If the early studies were right, how much would genotyping change a patient's "
            "predicted response to an SSRI?",
            "Why do early, small studies of a candidate gene tend to report larger effects "
            "than later ones?",
            "What evidence should a genetic test need before it appears in a decision tool?",
        ),
        expected=(
            "The truth check shows a non-zero true effect of 5-HTTLPR in the SSRI arm only, and "
            "SSRI models credit it clearly more (one and a half times or more) than under "
            "'default', where the same genotype has no true effect and any credit is noise."
        ),
        min_patients=5_000,
    )
)

_register(
    Scenario(
        name="label_bias",
        title="Label bias: response measured with a lower threshold in one group",
        teaching_note=(
            "The recorded outcome of AFR patients uses a lower threshold (0.8 logits below the "
            "true one), as if their improvement were rated more leniently. Their true chance of "
            "response is the same as in 'default'; only the labels differ, so models learn "
            "the measurement, not the illness."
        ),
        overrides={"response_threshold_by_ancestry": {"AFR": -0.8}},
        questions=(
            "The model looks well calibrated on the recorded outcome: is it right about AFR "
            "patients' true chance of response?",
            "How would you detect label bias in real data, where no truth column exists?",
            "Who is harmed when a group's outcomes are recorded as better than they are?",
        ),
        expected=(
            "The recorded response rate of AFR patients is clearly higher than their mean true "
            "response probability (about 57% against 39%), while for other groups the two "
            "agree. Ancestry is not a model input and the genetic inputs reveal it only "
            "faintly, so the models predict AFR patients like everyone else: in the fairness "
            "audit AFR's observed response rate sits above the model's mean prediction for them, "
            "the label bias showing as miscalibration for one group."
        ),
    )
)

_register(
    Scenario(
        name="random_labels",
        title="Random labels: outcomes independent of every feature",
        teaching_note=(
            "Every true effect is set to zero: each arm keeps its published response rate, but "
            "whether a patient responds is a coin flip with that probability, whatever their "
            "data. The truth columns say so (a constant true probability per arm). Models and "
            "SHAP still produce rankings, waterfalls and stories."
        ),
        overrides={
            "effect_anxious": 0.0,
            "effect_chronic": 0.0,
            "effect_comorbidity": 0.0,
            "effect_female": 0.0,
            "effect_racc_theta": 0.0,
            "effect_genetic_liability": 0.0,
            "effect_one_prior_failure": 0.0,
            "effect_two_plus_prior_failures": 0.0,
            "placebo_response_treatment_resistant": None,
            "effect_maltreatment_drug_arms": 0.0,
            "placebo_hamd_slope": 0.0,
            "placebo_dst_nonsuppression": 0.0,
            "ssri_ln_crp": 0.0,
            "ssri_eeg_signature": 0.0,
            "ssri_cyp2c19": {"UM": 0.0, "RM": 0.0},
            "noradrenergic_ln_crp": 0.0,
            "rtms_eeg_signature": 0.0,
            "ssri_httlpr_per_l_allele": 0.0,
            "effect_illness_burden": 0.0,
        },
        questions=(
            "The patient's SHAP waterfall tells a plausible story: what in it shows that there "
            "is nothing to explain?",
            "Which numbers on the model page should warn you before any explanation is read?",
            "What should a tool do when its models perform no better than chance?",
        ),
        expected=(
            "Held-out ROC AUC about 0.5 for every model, its 95% interval covering 0.5 (by "
            "chance about one interval in twenty misses it, and point estimates stray further in "
            "the small treatment-resistant arms), and an oracle AUC of exactly 0.5; SHAP still "
            "ranks features and draws waterfalls, while the truth check shows every true effect "
            "is zero and flags almost nothing: credit to noise does not predict held-out "
            "patients."
        ),
    )
)
