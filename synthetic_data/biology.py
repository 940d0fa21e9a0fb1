"""Why each variable and each treatment could matter: the biology behind the data dictionary.

For every observed variable (identifiers aside), the three latent drivers and every treatment
arm: the biology in two or three plain sentences (for an arm, its mechanism), the seed topic it
belongs to (``TOPICS``), what the simulation encodes, the caveat and real sources.

What the simulation encodes is never typed here as a number: ``Biology.encoded`` reads each
effect's size from the generator's parameters (``Effect.parameter``, a field of
``CohortParameters``), so a scenario that changes a size changes the text with it. An effect's
evidence is the dictionary's label of its variable unless the dictionary calls the size assumed.
Tests check that every effect named here is the generator's term, on the same arms, of that size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .dictionary import DATA_DICTIONARY, EVIDENCE
from .parameters import (
    ARM_LABELS,
    ARMS,
    DEFAULT_PARAMETERS,
    DRUG_ARMS,
    FIRST_LINE_ARMS,
    TREATMENT_RESISTANT_COMPARATORS,
    TREATMENT_RESISTANT_MIN_FAILURES,
    CohortParameters,
)

# The seed topics of the course text; every entry belongs to one.
TOPICS = (
    "neurotransmitter systems",
    "circuits and brain regions",
    "genetics and epigenetics",
    "neuroplasticity and the stress response (HPA axis)",
    "biomarkers for precision psychiatry",
    "cognitive neuroscience behind CBT",
    "neurotechnology",
    "clinical presentation",
)
_PARAMETER_NAMES = frozenset(f.name for f in dataclasses.fields(CohortParameters))


def _arms_text(arms: tuple[str, ...]) -> str:
    if set(arms) == set(ARMS):
        return "every arm"
    names = ", ".join(ARM_LABELS[a] for a in arms)
    return f"the drug arms ({names})" if set(arms) == set(DRUG_ARMS) else names


@dataclass(frozen=True)
class Effect:
    """One term of the simulated response model, in logits; its size lives in ``parameter``.

    ``per`` says what the size is for ("per SD", "if present"); it may name parameters in braces
    (``{chronic_months:g}``). ``key`` picks an entry of a dict parameter. ``evidence`` is None
    when the size carries its variable's dictionary label.
    """

    parameter: str
    arms: tuple[str, ...]
    per: str
    key: str = ""
    evidence: str | None = None

    def __post_init__(self):
        assert self.parameter in _PARAMETER_NAMES, self.parameter
        assert set(self.arms) <= set(ARMS), self.arms
        assert self.evidence is None or self.evidence in EVIDENCE, self.evidence

    def size(self, parameters: CohortParameters = DEFAULT_PARAMETERS) -> float:
        value = getattr(parameters, self.parameter)
        return float(value.get(self.key, 0.0) if self.key else value)

    def text(self, parameters: CohortParameters, evidence: str, *, arms: bool = True) -> str:
        size, per = self.size(parameters), self.per.format_map(vars(parameters))
        where = f", on {_arms_text(self.arms)}" if arms else ""
        if size == 0:
            return f"no effect {per}{where}, in this scenario"
        return f"{size:+.2f} logits {per}{where} (size {self.evidence or evidence})"


@dataclass(frozen=True)
class Biology:
    """Why a variable or an arm could matter; ``note`` (braces name parameters) says what the
    simulation does beyond ``effects``, and is required when there are none."""

    name: str
    topic: str
    biology: str
    caveat: str
    citation: str
    effects: tuple[Effect, ...] = ()
    note: str = ""

    def __post_init__(self):
        assert self.name in DATA_DICTIONARY, self.name
        assert self.topic in TOPICS, self.topic
        assert self.effects or self.note, self.name

    def encoded(self, parameters: CohortParameters = DEFAULT_PARAMETERS) -> str:
        """What the simulation encodes, read from ``parameters`` (the default scenario's)."""
        evidence = DATA_DICTIONARY[self.name].evidence
        parts = []
        if self.effects:
            parts.append("Response model: "
                         + "; ".join(e.text(parameters, evidence) for e in self.effects) + ".")
        else:
            parts.append("No term of its own in the response model.")
        if self.note:
            parts.append(self.note.format_map(vars(parameters)))
        parts.append(f"Dictionary evidence label: {evidence}.")
        return " ".join(parts)


@dataclass(frozen=True)
class ArmBiology(Biology):
    """A treatment arm: ``biology`` is its mechanism; ``encoded`` gives its target response
    rate and the effects specific to it, all read from the parameters and ``BIOLOGY``."""

    def __post_init__(self):
        assert self.name in ARMS, self.name
        assert self.topic in TOPICS, self.topic

    def encoded(self, parameters: CohortParameters = DEFAULT_PARAMETERS) -> str:
        arm = self.name
        if arm in FIRST_LINE_ARMS:
            parts = [f"First-line patients respond at {parameters.target_response[arm]:.0%}."]
        else:
            comparators = " and ".join(ARM_LABELS[c] for c in TREATMENT_RESISTANT_COMPARATORS[arm])
            edge = parameters.treatment_resistant_edge[arm] * 100
            parts = [f"Offered only after {TREATMENT_RESISTANT_MIN_FAILURES} or more prior failed "
                     f"treatments; responds {edge:.0f} percentage points above {comparators} in "
                     "the same patients."]
        sham = parameters.placebo_response_treatment_resistant
        if arm == "placebo" and sham is not None:
            parts.append(f"Patients with {TREATMENT_RESISTANT_MIN_FAILURES} or more prior "
                         f"failures respond at {sham:.0%}, like the sham arms of rTMS trials.")
        own = [f"{DATA_DICTIONARY[b.name].label} "
               f"{e.text(parameters, DATA_DICTIONARY[b.name].evidence, arms=False)}"
               for b in BIOLOGY.values() for e in b.effects
               if arm in e.arms and set(e.arms) != set(ARMS) and e.size(parameters)]
        parts.append("Effects of this arm beyond those shared by every arm: "
                     + ("; ".join(own) if own else "none") + ".")
        parts.append(f"Target rates: {DATA_DICTIONARY['response'].evidence} (see the response "
                     "variable).")
        return " ".join(parts)


def _entries(*entries: Biology) -> dict[str, Biology]:
    return {entry.name: entry for entry in entries}


BIOLOGY: dict[str, Biology] = _entries(
    # Demographics
    Biology(
        "age", "clinical presentation",
        "Depression can begin at any age, most often first in adolescence or early adulthood. "
        "With age the brain changes slowly (the hippocampus shrinks a little each year), and so "
        "does the way the liver clears drugs.",
        "The cohort holds adults only, so a model trained on it says nothing about adolescents "
        "or the very old, whose response to antidepressants differs.",
        "Malhi and Mann 2018 (Lancet, 'Depression'); Otte et al. 2016 (Nature Reviews Disease "
        "Primers)",
        note="Age only makes hippocampal volume smaller ({hippocampal_per_year_mm3:+g} mm3 per "
             "year); it has no effect on response.",
    ),
    Biology(
        "sex", "clinical presentation",
        "Depression is about twice as common in women as in men from adolescence on. Sex "
        "hormones, exposure to stress and how symptoms are reported all play a part; no single "
        "biological cause is established.",
        "Differences in treatment response between women and men are small and inconsistent "
        "across trials. Sex is kept for fairness audits and is not a model input here.",
        "Kuehner 2017 (Lancet Psychiatry); Salk, Hyde and Abramson 2017 (Psychological Bulletin)",
        effects=(Effect("effect_female", ARMS, "for women", evidence="assumed"),),
    ),
    Biology(
        "ancestry", "genetics and epigenetics",
        "Genetic ancestry groups (EUR European, AFR African, EAS East Asian, AMR admixed "
        "American) describe shared genetic background, not race and not a patient's biology. "
        "Allele frequencies differ between groups, so a pharmacogene or a polygenic score can "
        "behave differently from one group to another.",
        "Most genome-wide studies were done in people of European ancestry, so polygenic scores "
        "predict worse elsewhere. Ancestry is kept for fairness audits and is not a model input.",
        "Popejoy and Fullerton 2016 (Nature); Martin et al. 2019 (Nature Genetics)",
        note="It sets the frequencies of the genetic variants and how well the polygenic score "
             "measures liability.",
    ),
    # Clinical
    Biology(
        "childhood_maltreatment", "neuroplasticity and the stress response (HPA axis)",
        "Abuse or neglect in childhood is one of the strongest risk factors for depression in "
        "adults. Early stress leaves lasting changes in the stress response (the HPA axis) and "
        "raises low-grade inflammation in adulthood.",
        "An average over groups, not a verdict on one patient: many maltreated patients respond "
        "well to drugs. It is recalled years later, so it is often missed or uncertain.",
        "Heim and Nemeroff 2001 (Biological Psychiatry); Danese et al. 2007 (PNAS); Nanni, Uher "
        "and Danese 2012 (American Journal of Psychiatry); Nemeroff et al. 2003 (PNAS)",
        effects=(Effect("effect_maltreatment_drug_arms", DRUG_ARMS, "if maltreated"),),
        note="It also raises latent inflammation and illness burden by "
             "{maltreatment_latent_shift:g} SD each; CBT carries no such penalty.",
    ),
    Biology(
        "hamd17", "clinical presentation",
        "The 17-item Hamilton Depression Rating Scale is a clinician's interview scoring mood, "
        "guilt, sleep, appetite, anxiety and other symptoms; a higher score means more severe "
        "depression. It measures symptoms, not a brain process: two patients with the same "
        "score can have quite different symptoms.",
        "The difference between drug and placebo is larger in severe depression than in mild "
        "depression. A total score hides which symptoms changed.",
        "Hamilton 1960 (Journal of Neurology, Neurosurgery and Psychiatry); Fournier et al. 2010 "
        "(JAMA)",
        effects=(Effect("placebo_hamd_slope", ("placebo",), "per point above {hamd_mean:g}"),),
    ),
    Biology(
        "anxious_depression", "clinical presentation",
        "Depression with prominent anxiety (in STAR*D, a high score on the HAM-D "
        "anxiety/somatisation factor) is common and harder to treat. Anxiety engages the "
        "amygdala's threat circuits, which are over-reactive in many depressed patients.",
        "A label made from a rating-scale cut-off that lumps different anxieties together; the "
        "worse outcome holds for every treatment, so it helps little in choosing between them.",
        "Fava et al. 2008 (American Journal of Psychiatry, STAR*D)",
        effects=(Effect("effect_anxious", ARMS, "if anxious"),),
    ),
    Biology(
        "episode_duration_months", "clinical presentation",
        "How long the current episode has lasted. Long-lasting (chronic) episodes respond less "
        "often to any treatment and go with a heavier illness burden.",
        "Patients date the start of an episode from memory, so durations are uncertain; duration "
        "marks chronicity rather than a mechanism of its own.",
        "American Psychiatric Association 2013 (DSM-5, persistent depressive disorder); Rush et "
        "al. 2006 (American Journal of Psychiatry, STAR*D)",
        effects=(Effect("effect_chronic", ARMS, "for an episode longer than {chronic_months:g} "
                        "months", evidence="assumed"),),
    ),
    Biology(
        "prior_failures", "clinical presentation",
        "How many adequate treatments have already failed in this episode. Each failure lowers "
        "the chance that the next treatment works; after two, depression is commonly called "
        "treatment-resistant.",
        "Whether a past treatment was adequate (dose, duration, adherence) is often unclear from "
        "records, so the count is noisy.",
        "Rush et al. 2006 (American Journal of Psychiatry, STAR*D); Fava 2003 (Biological "
        "Psychiatry)",
        effects=(Effect("effect_one_prior_failure", ARMS, "for one prior failure"),
                 Effect("effect_two_plus_prior_failures", ARMS, "for two or more")),
        note="Two or more make a patient eligible for rTMS and esketamine; on placebo those "
             "patients get a further effect, solved so they respond like sham (see the placebo "
             "arm).",
    ),
    Biology(
        "psychiatric_comorbidity", "clinical presentation",
        "Another psychiatric disorder alongside depression, most often an anxiety or "
        "substance-use disorder. Most people with depression have one at some point in life, "
        "and it goes with a more severe and longer course.",
        "A yes/no flag lumps very different disorders together, and trials often exclude "
        "comorbid patients, so clinic patients differ from trial patients.",
        "Kessler et al. 2003 (JAMA, National Comorbidity Survey Replication)",
        effects=(Effect("effect_comorbidity", ARMS, "if comorbid", evidence="assumed"),),
    ),
    # Biomarkers
    Biology(
        "crp_mg_l", "biomarkers for precision psychiatry",
        "C-reactive protein is made by the liver when the body is inflamed, on a signal from "
        "IL-6. About a quarter of depressed patients have raised CRP; inflammatory signals reach "
        "the brain and can dampen serotonin and dopamine signalling and the sense of reward.",
        "CRP also rises with obesity, smoking, infection and injury, so one value is a noisy "
        "marker. CRP-guided choice of drug comes from secondary analyses and awaits trials "
        "designed to test it.",
        "Miller and Raison 2016 (Nature Reviews Immunology); Osimo et al. 2019 (Psychological "
        "Medicine); Jha et al. 2017 (Psychoneuroendocrinology)",
        effects=(Effect("ssri_ln_crp", ("ssri",), "per ln mg/L"),
                 Effect("noradrenergic_ln_crp", ("snri", "bupropion"), "per ln mg/L")),
    ),
    Biology(
        "il6_pg_ml", "biomarkers for precision psychiatry",
        "Interleukin-6 is a cytokine, a messenger of the immune system, and the main signal for "
        "the liver to make CRP. Depressed patients have higher IL-6 on average than healthy "
        "people.",
        "Levels vary with the time of day, sleep, exercise and the assay. Here IL-6 adds nothing "
        "beyond CRP, so a model crediting both is splitting one signal.",
        "Dowlati et al. 2010 (Biological Psychiatry); Haapakoski et al. 2015 (Brain, Behavior, "
        "and Immunity)",
        note="It follows latent inflammation, as CRP does (loading {il6_inflammation_loading:g} "
             "against {crp_inflammation_loading:g}).",
    ),
    Biology(
        "racc_theta_z", "circuits and brain regions",
        "Theta-band EEG activity, a slow brain rhythm, traced to the rostral anterior cingulate "
        "cortex, a region linking emotion with attention and self-monitoring. Higher activity before "
        "treatment goes with more improvement, whatever the treatment, placebo included.",
        "Prognostic, not prescriptive: it says who is likely to improve, not which treatment to "
        "choose. Locating an EEG source inside the brain is approximate.",
        "Pizzagalli 2011 (Neuropsychopharmacology); Pizzagalli et al. 2018 (JAMA Psychiatry, "
        "EMBARC)",
        effects=(Effect("effect_racc_theta", ARMS, "per SD"),),
    ),
    Biology(
        "eeg_ssri_signature_z", "biomarkers for precision psychiatry",
        "A pattern in resting EEG, found by machine learning, that predicted who improved on "
        "sertraline rather than on placebo in the EMBARC trial. Patients it marked as unlikely "
        "to respond to sertraline did better with rTMS.",
        "Found and validated within one research programme with research-grade EEG; it has not "
        "been tested prospectively for choosing treatments.",
        "Wu et al. 2020 (Nature Biotechnology)",
        effects=(Effect("ssri_eeg_signature", ("ssri",), "per SD"),
                 Effect("rtms_eeg_signature", ("rtms",), "per SD")),
        note="It shares part of its signal with rACC theta (loading "
             "{eeg_signature_racc_loading:g}).",
    ),
    Biology(
        "dst_nonsuppression", "neuroplasticity and the stress response (HPA axis)",
        "In the dexamethasone suppression test a synthetic glucocorticoid is taken at night; "
        "normally the body's own cortisol is low the next day. When it is not (non-suppression), "
        "the HPA stress axis is overactive and its feedback impaired, as in many severe or "
        "melancholic depressions.",
        "Once hoped to be a diagnostic test for melancholia, it proved too unspecific; in the "
        "meta-analyses it predicts a poorer placebo response, not a better drug.",
        "Carroll et al. 1981 (Archives of General Psychiatry); Pariante and Lightman 2008 "
        "(Trends in Neurosciences); Ribeiro et al. 1993 (American Journal of Psychiatry)",
        effects=(Effect("placebo_dst_nonsuppression", ("placebo",), "if non-suppression"),),
    ),
    Biology(
        "hippocampal_volume_mm3", "circuits and brain regions",
        "The hippocampus supports memory and helps switch off the stress response. Chronic "
        "stress and high cortisol shrink its neurons' dendrites in animals, and patients with "
        "recurrent depression have slightly smaller hippocampi on MRI.",
        "A decoy here: it has no effect on response and goes with outcome only through illness "
        "burden. The group difference (d = -0.14) is far too small to mean anything for one "
        "patient.",
        "Sapolsky 2000 (Archives of General Psychiatry); Schmaal et al. 2016 (Molecular "
        "Psychiatry, ENIGMA)",
        note="A decoy: it falls with latent illness burden (loading {decoy_burden_loading:g}), "
             "which no model sees.",
    ),
    Biology(
        "bdnf_serum_ng_ml", "neuroplasticity and the stress response (HPA axis)",
        "Brain-derived neurotrophic factor helps neurons grow, survive and form synapses. Serum "
        "BDNF is lower in depression on average and rises with recovery, though most of it comes "
        "from platelets, not the brain.",
        "A state marker, not a predictor: it follows how ill a patient is now, so a model may "
        "credit it while raising it would change nothing. A decoy here.",
        "Brunoni, Lopes and Fregni 2008 (International Journal of Neuropsychopharmacology); "
        "Molendijk et al. 2014 (Molecular Psychiatry)",
        note="A decoy: it falls with latent illness burden (loading {decoy_burden_loading:g}), "
             "which no model sees.",
    ),
    # Genetics and epigenetics
    Biology(
        "cyp2c19_phenotype", "genetics and epigenetics",
        "CYP2C19 is a liver enzyme that breaks down escitalopram, citalopram and sertraline. "
        "Gene variants make people poor (PM), intermediate (IM), normal (NM), rapid (RM) or "
        "ultrarapid (UM) metabolisers; fast metabolisers clear the drug quickly and may get too "
        "little of it.",
        "It changes drug levels, not the depression: CPIC 2023 guides the dose or the choice of "
        "drug for poor and ultrarapid metabolisers, and evidence that genotyping improves "
        "response is modest.",
        "Hicks et al. 2015 (CPIC, Clinical Pharmacology & Therapeutics); Bousman et al. 2023 "
        "(CPIC, Clinical Pharmacology & Therapeutics)",
        effects=(Effect("ssri_cyp2c19", ("ssri",), "for ultrarapid metabolisers", key="UM",
                        evidence="assumed"),
                 Effect("ssri_cyp2c19", ("ssri",), "for rapid metabolisers", key="RM",
                        evidence="assumed")),
    ),
    Biology(
        "cyp2d6_phenotype", "genetics and epigenetics",
        "CYP2D6 is the liver enzyme that breaks down paroxetine, venlafaxine and many other "
        "drugs; its gene varies widely, whole extra copies included. Poor metabolisers build up "
        "high drug levels and side effects, ultrarapid ones may get too little.",
        "It shapes side effects and dosing more than response. The simulation gives it no "
        "response effect; only the guideline table on the patient page uses it.",
        "Gaedigk et al. 2017 (Genetics in Medicine); Bousman et al. 2023 (CPIC, Clinical "
        "Pharmacology & Therapeutics)",
        note="The pharmacogenomic guidance uses it; the simulated response does not.",
    ),
    Biology(
        "polygenic_score_z", "genetics and epigenetics",
        "A polygenic score adds up the small effects of thousands of common DNA variants found "
        "by genome-wide association studies (GWAS) of depression. Each variant shifts risk only "
        "slightly; together they capture part of the inherited liability.",
        "Scores built from mostly European GWAS port poorly to other ancestries, worst in African "
        "ancestry, and even in Europeans they explain little of who falls ill or who responds.",
        "Wray et al. 2018 (Nature Genetics); Howard et al. 2019 (Nature Neuroscience); Martin et "
        "al. 2019 (Nature Genetics)",
        note="It measures the latent true genetic liability, which carries the effect: "
             "correlation {prs_liability_correlation:g} in EUR, lower elsewhere.",
    ),
    Biology(
        "httlpr_genotype", "genetics and epigenetics",
        "5-HTTLPR is a length variant (long l or short s) in the promoter of SLC6A4, the gene of "
        "the serotonin transporter that SSRIs block. The short allele lowers the transporter's "
        "expression in cell studies, which made it the classic candidate gene for depression "
        "and SSRI response.",
        "The candidate-gene story did not replicate: large samples find no effect on depression, "
        "alone or with stress, and CPIC 2023 makes no recommendation for it. The candidate_gene "
        "scenario applies the early published effect to teach the decline.",
        "Lesch et al. 1996 (Science); Border et al. 2019 (American Journal of Psychiatry); "
        "Bousman et al. 2023 (CPIC, Clinical Pharmacology & Therapeutics)",
        effects=(Effect("ssri_httlpr_per_l_allele", ("ssri",), "per long (l) allele"),),
    ),
    Biology(
        "bdnf_met_carrier", "genetics and epigenetics",
        "Val66Met is a common variant of the BDNF gene; in cell and animal studies the Met form "
        "is released less well when neurons are active. It was proposed to blunt the plasticity "
        "antidepressants rely on.",
        "Another candidate gene: its links with depression and antidepressant response have not "
        "held up in large samples. Null here.",
        "Egan et al. 2003 (Cell); Border et al. 2019 (American Journal of Psychiatry)",
        note="A null variable: no effect on response in any scenario.",
    ),
    Biology(
        "fkbp5_methylation", "genetics and epigenetics",
        "FKBP5 is a protein that makes the glucocorticoid receptor less sensitive to cortisol, a "
        "brake in the HPA stress feedback loop. DNA methylation near its gene, changed by "
        "childhood trauma in carriers of a risk variant, tunes how much FKBP5 is made.",
        "Measured in blood, not brain, and it varies with tissue and cell mix; findings on "
        "treatment response have been inconsistent. Null here.",
        "Binder et al. 2004 (Nature Genetics); Klengel et al. 2013 (Nature Neuroscience)",
        note="A null variable: no effect on response in any scenario.",
    ),
    # Treatment and outcome
    Biology(
        "arm", "clinical presentation",
        "The treatment the patient received: a drug acting on neurotransmitter systems, a "
        "psychotherapy, brain stimulation or placebo. Each arm's mechanism is listed with the "
        "arms.",
        "Differences between arms are causal only when treatment is randomised; when clinicians "
        "choose (confounding by indication), an arm's patients differ from the others.",
        "Cipriani et al. 2018 (Lancet, network meta-analysis of 21 antidepressants)",
        note="Assignment: {assignment}. The arm picks the intercept and the arm-specific terms.",
    ),
    Biology(
        "response", "clinical presentation",
        "Response means depression severity fell by at least half after about 8-12 weeks of "
        "treatment. It is a practical threshold on a rating scale, not a measured change in the "
        "brain.",
        "The cut-off turns a continuous change into yes or no: a patient improving by 49% counts "
        "as not responding. Part of every response is natural course and expectation, as the "
        "placebo arm shows.",
        "Frank et al. 1991 (Archives of General Psychiatry); Rush et al. 2006 (ACNP Task Force, "
        "Neuropsychopharmacology)",
        note="Recorded when the latent outcome of the arm received is above 0; each arm's "
             "target rate is listed with the arms.",
    ),
    Biology(
        "remission", "clinical presentation",
        "Remission means the symptoms have almost gone, a stricter goal than response. Patients "
        "who remit relapse less often than those who only respond.",
        "Definitions differ between trials and scales (HAM-D, QIDS, MADRS), so remission rates "
        "are not directly comparable across studies.",
        "Frank et al. 1991 (Archives of General Psychiatry); Rush et al. 2006 (ACNP Task Force, "
        "Neuropsychopharmacology)",
        note="A stricter threshold on the same latent outcome, solved so that first-line SSRI "
             "patients remit at {target_remission_ssri:.0%}.",
    ),
    # Latent drivers: only the simulation knows them
    Biology(
        "inflammation_z", "biomarkers for precision psychiatry",
        "The simulation's hidden level of immune activation. In people, chronic stress, obesity "
        "and illness activate the innate immune system, whose cytokines act on the brain.",
        "No clinic measures it directly: CRP and IL-6 are its noisy readouts.",
        "Miller and Raison 2016 (Nature Reviews Immunology)",
        note="Response depends on the measured CRP, which follows it, not on it directly.",
    ),
    Biology(
        "illness_burden_z", "clinical presentation",
        "The simulation's hidden severity and chronicity of illness: the common cause behind "
        "severity, long episodes, failed treatments, HPA overactivity and the decoys.",
        "Unobserved: models see it only through its markers, which is why the decoys can look "
        "predictive.",
        "McEwen 1998 (New England Journal of Medicine, allostatic load)",
        effects=(Effect("effect_illness_burden", ARMS, "per SD"),),
        note="By default it acts only through the observed variables it drives.",
    ),
    Biology(
        "genetic_liability_z", "genetics and epigenetics",
        "The simulation's true inherited liability to depression. Twin studies put the "
        "heritability of depression at about 37%.",
        "No test measures it: a polygenic score captures only part of it, and less outside "
        "European ancestry.",
        "Sullivan, Neale and Kendler 2000 (American Journal of Psychiatry); Howard et al. 2019 "
        "(Nature Neuroscience)",
        effects=(Effect("effect_genetic_liability", ARMS, "per SD"),),
    ),
)

ARM_BIOLOGY: dict[str, ArmBiology] = _entries(
    ArmBiology(
        "placebo", "circuits and brain regions",
        "Placebo or usual care has no specific drug action. Improvement comes from expectation "
        "and care, which engage prefrontal and reward circuits, from the natural course of an "
        "episode that often lifts by itself, and from regression to the mean.",
        "Placebo response in antidepressant trials is large and varies from trial to trial; the "
        "same non-specific part sits inside every active arm's response.",
        "Benedetti 2014 (Neuron); Mayberg et al. 2002 (American Journal of Psychiatry); "
        "Furukawa et al. 2016 (Lancet Psychiatry)",
    ),
    ArmBiology(
        "ssri", "neurotransmitter systems",
        "Selective serotonin reuptake inhibitors (escitalopram, citalopram, sertraline) block "
        "the serotonin transporter, so serotonin stays longer in the synapse. The block is "
        "immediate but mood improves over weeks, which points to slower changes downstream.",
        "The old 'low serotonin' explanation of depression is not supported; SSRIs are thought "
        "to work by changing how emotional information is processed and by slower adaptation.",
        "Stahl 2021 (Stahl's Essential Psychopharmacology, 5th ed.); Harmer, Duman and Cowen "
        "2017 (Lancet Psychiatry); Trivedi et al. 2006 (American Journal of Psychiatry, STAR*D)",
    ),
    ArmBiology(
        "snri", "neurotransmitter systems",
        "Serotonin and norepinephrine reuptake inhibitors (venlafaxine, duloxetine) block both "
        "the serotonin and the norepinephrine transporters. Venlafaxine acts mostly on serotonin "
        "at low doses and adds norepinephrine at higher ones.",
        "Its advantage over SSRIs is small and inconsistent across trials.",
        "Stahl 2021 (Stahl's Essential Psychopharmacology, 5th ed.); Rush et al. 2011 (American "
        "Journal of Psychiatry, CO-MED)",
    ),
    ArmBiology(
        "bupropion", "neurotransmitter systems",
        "Bupropion inhibits the reuptake of norepinephrine and dopamine and barely touches "
        "serotonin. Dopamine carries reward and motivation signals, so it is thought to help "
        "most with low energy and loss of pleasure.",
        "The 'best for low energy' idea is plausible but weakly tested. It spares the sexual "
        "side effects of serotonergic drugs and lowers the seizure threshold.",
        "Stahl et al. 2004 (Primary Care Companion to the Journal of Clinical Psychiatry); Rush "
        "et al. 2006 (New England Journal of Medicine, STAR*D switch)",
    ),
    ArmBiology(
        "cbt", "cognitive neuroscience behind CBT",
        "Cognitive behavioural therapy rests on Beck's cognitive model: depression is kept going "
        "by negative automatic thoughts and by attention and memory biased towards the negative. "
        "Therapy trains patients to test those thoughts and return to rewarding activities, "
        "thought to strengthen prefrontal control over limbic (amygdala) reactivity.",
        "The brain mechanism is inferred from small imaging studies; what is established is the "
        "clinical effect, similar to antidepressants in mild to moderate depression.",
        "Beck 2008 (American Journal of Psychiatry); Disner et al. 2011 (Nature Reviews "
        "Neuroscience); DeRubeis, Siegle and Hollon 2008 (Nature Reviews Neuroscience)",
    ),
    ArmBiology(
        "rtms", "neurotechnology",
        "Repetitive transcranial magnetic stimulation uses a coil on the scalp to induce "
        "currents that excite the left dorsolateral prefrontal cortex, usually daily for several "
        "weeks. The effect is thought to spread along connections to the subgenual cingulate "
        "and other mood circuits.",
        "The benefit over sham is moderate; the best target varies from patient to patient, and "
        "sham coils are imperfect blinds.",
        "George et al. 2010 (Archives of General Psychiatry); Fox et al. 2012 (Biological "
        "Psychiatry); Berlim et al. 2014 (Psychological Medicine)",
    ),
    ArmBiology(
        "esketamine", "neurotransmitter systems",
        "Esketamine, a nasal spray given with an oral antidepressant, blocks NMDA glutamate "
        "receptors. The block sets off a burst of glutamate signalling and rapid synapse "
        "formation (synaptogenesis) in the prefrontal cortex, through BDNF and mTOR, and can lift "
        "mood within hours to days.",
        "The mechanism comes mostly from animal studies and is still debated; the benefit over "
        "an oral antidepressant alone is modest, and dissociation and misuse call for "
        "supervision.",
        "Duman and Aghajanian 2012 (Science); Zanos and Gould 2018 (Molecular Psychiatry); "
        "Popova et al. 2019 (American Journal of Psychiatry, TRANSFORM-2)",
    ),
)


def biology_of(name: str) -> Biology | None:
    """The entry of a variable or of an arm (their names differ), or None."""
    return ARM_BIOLOGY.get(name) or BIOLOGY.get(name)
