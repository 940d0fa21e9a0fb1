"""The glossary: every abbreviation and technical term the pages use, as data.

One ``Term`` per entry: the term, what an abbreviation stands for, a plain definition, a citation
where a well-known source defines it, and the anchor the glossary page gives it
(``/glossary/#<anchor>``). ``links`` are the spellings a page's text is linked on (the template
filter ``glossed`` in ``cohorts/templatetags/glossary.py``); ``()`` for words too common to link
(such as "response"). A spelling in capitals only (an abbreviation: ``AUC``, ``PM``) is matched
exactly; any other case-insensitively.

What a term means here comes from the code it names (thresholds are imported, not retyped); why
a variable could matter biologically belongs to the data dictionary, not here.

Plain Python: no Django import, so a notebook or an export can use it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from synthetic_data.dictionary import DATA_DICTIONARY
from synthetic_data.parameters import TREATMENT_RESISTANT_MIN_FAILURES

from .suppression import MIN_CELL, SUPPRESSED

ANCHOR = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")

TOPICS = {
    "population": "Population, ancestry and outcomes",
    "biology": "Biomarkers and measures",
    "genetics": "Genetics and pharmacogenetics",
    "treatments": "Treatments",
    "evaluation": "Models and their evaluation",
    "explanation": "Explanations",
    "choice": "Treatment choice",
    "safeguards": "Privacy, consent and audit",
}


@dataclass(frozen=True)
class Term:
    anchor: str
    term: str
    definition: str
    topic: str
    expansion: str = ""
    citation: str = ""
    links: tuple[str, ...] | None = None  # None: the term itself

    def __post_init__(self):
        assert ANCHOR.match(self.anchor), self.anchor
        assert self.topic in TOPICS, self.topic

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.term,) if self.links is None else self.links


_1000G = "1000 Genomes Project Consortium, Nature 2015 (super-population codes)"
_CPIC_TERMS = "Caudle et al., Genet Med 2017 (CPIC standard phenotype terms)"
_CALIBRATION = ("Van Calster et al., BMC Med 2019, 'Calibration: the Achilles heel of predictive "
                "analytics'")
_STEYERBERG = "Steyerberg, Clinical Prediction Models, 2nd ed., Springer 2019"
_RESISTANT = TREATMENT_RESISTANT_MIN_FAILURES

GLOSSARY: tuple[Term, ...] = (
    # --- population, ancestry and outcomes ---
    Term("genetic-ancestry-group", "Genetic ancestry group",
         "A group of people whose genomes are most similar to one reference population. It is a "
         "statistical label from DNA, not race, ethnicity or nationality. The cohort uses four "
         "groups (EUR, AFR, EAS, AMR), with sizes chosen so the smaller groups are visible.",
         "population", citation="National Academies, Using Population Descriptors in Genetics and "
         "Genomics Research, 2023", links=("genetic ancestry group", "ancestry group")),
    Term("eur", "EUR", "Genetic ancestry most similar to European reference samples.",
         "population", expansion="European", citation=_1000G),
    Term("afr", "AFR", "Genetic ancestry most similar to African reference samples. Polygenic "
         "scores built from mostly European studies predict worst here.", "population",
         expansion="African", citation=_1000G),
    Term("eas", "EAS", "Genetic ancestry most similar to East Asian reference samples.",
         "population", expansion="East Asian", citation=_1000G),
    Term("amr", "AMR", "Genetic ancestry most similar to admixed American reference samples "
         "(mixed Indigenous American, European and African ancestry, as in much of Latin "
         "America).", "population", expansion="Admixed American", citation=_1000G),
    Term("sas", "SAS", "Genetic ancestry most similar to South Asian reference samples. A "
         "standard group in reference panels, but not one this simulated cohort draws.",
         "population", expansion="South Asian", citation=_1000G),
    Term("ham-d17", "HAM-D17",
         "The 17-item Hamilton Depression Rating Scale: a clinician scores mood, guilt, sleep, "
         "anxiety, appetite and other symptoms in an interview; 0 to 52 points, higher is more "
         "severe. The cohort's baseline severity is on this scale.", "population",
         expansion="Hamilton Depression Rating Scale, 17 items",
         citation="Hamilton, J Neurol Neurosurg Psychiatry 1960",
         links=("HAM-D17", "HAM-D", "HRSD")),
    Term("qids-sr", "QIDS-SR",
         "Quick Inventory of Depressive Symptomatology, self-report: 16 questions the patient "
         "answers; 0 to 27 points. Trials use it beside the clinician-rated HAM-D17.",
         "population", expansion="Quick Inventory of Depressive Symptomatology, self-report",
         citation="Rush et al., Biol Psychiatry 2003"),
    Term("star-d", "STAR*D",
         "Sequenced Treatment Alternatives to Relieve Depression: a large US trial (about 4,000 "
         "outpatients) of up to four treatment steps; the source of many of the cohort's rates.",
         "population", expansion="Sequenced Treatment Alternatives to Relieve Depression",
         citation="Rush et al., Am J Psychiatry 2006; Trivedi et al., Am J Psychiatry 2006"),
    Term("co-med", "CO-MED",
         "Combining Medications to Enhance Depression Outcomes: a US trial of antidepressant "
         "combinations against escitalopram alone.", "population",
         expansion="Combining Medications to Enhance Depression Outcomes",
         citation="Rush et al., Am J Psychiatry 2011"),
    Term("embarc", "EMBARC",
         "Establishing Moderators and Biosignatures of Antidepressant Response in Clinical Care: "
         "a trial of sertraline against placebo that collected EEG, imaging and blood markers.",
         "population",
         expansion="Establishing Moderators and Biosignatures of Antidepressant Response in "
         "Clinical Care", citation="Trivedi et al., J Psychiatr Res 2016"),
    Term("transform", "TRANSFORM",
         "The phase III trials of esketamine nasal spray with a new oral antidepressant in "
         "treatment-resistant depression.", "population",
         citation="Popova et al., Am J Psychiatry 2019 (TRANSFORM-2)"),
    Term("response", "Response",
         "Improvement by at least half: a fall of 50% or more in depression severity after about "
         "8 to 12 weeks of treatment. The outcome every model here predicts.", "population",
         links=("observed response rate",)),
    Term("remission", "Remission",
         "Symptoms reduced to a minimal level (in trials often a HAM-D17 of 7 or less); stricter "
         "than response. Here a higher threshold on the same simulated outcome.", "population",
         citation="Trivedi et al., Am J Psychiatry 2006 (STAR*D)", links=()),
    Term("anxious-depression", "Anxious depression",
         "Depression with prominent anxiety symptoms (in STAR*D, a high anxiety/somatisation "
         "score on the HAM-D); linked to lower response rates.", "population",
         citation="Fava et al., Am J Psychiatry 2008", links=("anxious depression",)),
    Term("comorbidity", "Psychiatric comorbidity",
         "Another psychiatric disorder present at the same time as depression (for example an "
         "anxiety or substance-use disorder).", "population", links=("comorbidity",)),
    Term("treatment-resistant", "Treatment-resistant",
         f"Here: a patient with {_RESISTANT} or more prior failed treatments, a common working "
         "definition of treatment-resistant depression. Only such patients may receive rTMS or "
         "esketamine in the simulation.", "population",
         links=("treatment-resistant", "treatment resistant")),
    Term("first-line", "First-line",
         f"Patients with fewer than {_RESISTANT} prior failed treatments: those for whom a first "
         "or second ordinary treatment is still being chosen.", "population"),
    Term("placebo", "Placebo",
         "An inactive treatment given in the same way as the real one, so that improvement from "
         "expectation, attention and time can be told apart from the treatment's own effect. "
         "About 35 to 40% of patients respond to placebo in antidepressant trials.", "population",
         citation="Furukawa et al., Lancet Psychiatry 2016"),
    # --- biomarkers and measures ---
    Term("biomarker", "Biomarker",
         "A measurable sign of a biological state (a blood level, a brain recording) used to "
         "describe, diagnose or predict.", "biology", links=("biomarker", "biomarkers")),
    Term("crp", "hs-CRP",
         "C-reactive protein, a protein the liver makes when the body is inflamed. The "
         "high-sensitivity (hs) assay reads the low levels of chronic, low-grade inflammation; "
         "in mg/L. About a quarter of people with depression have a level above 3 mg/L.",
         "biology", expansion="C-reactive protein (high-sensitivity assay)",
         citation="Osimo et al., Psychol Med 2019", links=("hs-CRP", "CRP")),
    Term("il-6", "IL-6",
         "Interleukin-6, a signalling protein (cytokine) of the immune system that drives the "
         "liver's CRP production; in pg/mL.", "biology", expansion="Interleukin-6",
         citation="Haapakoski et al., Brain Behav Immun 2015"),
    Term("eeg", "EEG",
         "Electroencephalography: the brain's electrical activity recorded from electrodes on "
         "the scalp, in rhythms of different frequency bands.", "biology",
         expansion="Electroencephalography"),
    Term("racc-theta", "rACC theta",
         "Theta-band EEG activity (slow rhythms, roughly 4 to 8 per second) traced to the rostral "
         "anterior cingulate cortex, a front part of the brain's cingulate gyrus; shown here as a "
         "z-score.", "biology", expansion="Rostral anterior cingulate cortex theta activity",
         citation="Pizzagalli et al., JAMA Psychiatry 2018 (EMBARC)", links=("rACC theta", "rACC")),
    Term("dst", "DST",
         "Dexamethasone suppression test: a synthetic steroid, dexamethasone, is taken at night "
         "and cortisol measured the next day. Normally cortisol falls (suppression); if it stays "
         "high (non-suppression), the HPA stress axis is overactive.", "biology",
         expansion="Dexamethasone suppression test",
         citation="Carroll et al., Arch Gen Psychiatry 1981; Ribeiro et al., Am J Psychiatry 1993",
         links=("DST", "dexamethasone non-suppression", "dexamethasone suppression")),
    Term("hpa-axis", "HPA axis",
         "The hypothalamic-pituitary-adrenal axis: the hormonal stress-response chain from the "
         "hypothalamus (CRH) to the pituitary (ACTH) to the adrenal glands (cortisol).",
         "biology", expansion="Hypothalamic-pituitary-adrenal axis", links=("HPA axis", "HPA")),
    Term("bdnf", "BDNF",
         "Brain-derived neurotrophic factor: a growth factor that supports the survival of "
         "neurons and the strengthening of synapses. The cohort has its serum level (ng/mL) and "
         "a variant of its gene (Val66Met).", "biology",
         expansion="Brain-derived neurotrophic factor",
         citation="Molendijk et al., Mol Psychiatry 2014"),
    Term("z-score", "z-score (z)",
         "A value expressed in standard deviations from the mean: 0 is average, +1 one standard "
         "deviation above it. Units shown as \"z\".", "biology", links=("z-score",)),
    Term("odds-ratio", "Odds ratio (OR)",
         "How much a factor multiplies the odds of an outcome (odds = p / (1 - p)); 1 means no "
         "effect. Its logarithm (log-OR) is the scale the simulation adds effects on.", "biology",
         links=("odds ratio", "OR", "log-OR")),
    Term("relative-risk", "Relative risk (RR)",
         "The probability of an outcome with a factor divided by the probability without it; 1 "
         "means no effect.", "biology", links=("relative risk", "risk ratio", "RR")),
    Term("iqr", "IQR", "Interquartile range: the middle half of the values, from the 25th to "
         "the 75th percentile.", "biology", expansion="Interquartile range"),
    Term("sd", "SD", "Standard deviation: how far values typically lie from their mean.",
         "biology", expansion="Standard deviation"),
    # --- genetics and pharmacogenetics ---
    Term("gwas", "GWAS",
         "Genome-wide association study: the genomes of many thousands of people are read at "
         "hundreds of thousands of common variants, looking for those more frequent in people "
         "with a trait. Most participants to date have been of European ancestry.", "genetics",
         expansion="Genome-wide association study",
         citation="Visscher et al., Am J Hum Genet 2017; Popejoy and Fullerton, Nature 2016"),
    Term("polygenic-score", "Polygenic score (PRS, PGS)",
         "One number per person: the sum of many common variants, each weighted by its effect "
         "estimated in a GWAS. It predicts less well in ancestries unlike the GWAS's participants.",
         "genetics",
         citation="Wray et al., Nat Genet 2018; Martin et al., Nat Genet 2019",
         links=("polygenic score", "polygenic risk score", "PRS", "PGS")),
    Term("cyp2c19", "CYP2C19",
         "A liver enzyme of the cytochrome P450 family that breaks down escitalopram, citalopram "
         "and sertraline. Gene variants make it slower or faster (the metaboliser phenotypes).",
         "genetics", expansion="Cytochrome P450 2C19",
         citation="Bousman et al., Clin Pharmacol Ther 2023 (CPIC)"),
    Term("cyp2d6", "CYP2D6",
         "A liver enzyme of the cytochrome P450 family that breaks down many antidepressants "
         "(among them venlafaxine, paroxetine and fluvoxamine). Gene deletions and duplications "
         "make it absent or extra active.", "genetics", expansion="Cytochrome P450 2D6",
         citation="Bousman et al., Clin Pharmacol Ther 2023 (CPIC)"),
    Term("metaboliser-phenotype", "Metaboliser phenotype",
         "How fast a person's enzyme clears a drug, inferred from the genotype: poor, "
         "intermediate, normal, rapid or ultrarapid. Slower clearance raises blood levels and "
         "side effects; faster clearance can leave too little drug to work.", "genetics",
         citation=_CPIC_TERMS, links=("metaboliser phenotype", "metabolizer phenotype")),
    Term("pm", "PM", "Poor metaboliser: little or no enzyme activity (two no-function alleles).",
         "genetics", expansion="Poor metaboliser", citation=_CPIC_TERMS),
    Term("im", "IM", "Intermediate metaboliser: reduced enzyme activity (for example one "
         "no-function allele).", "genetics", expansion="Intermediate metaboliser",
         citation=_CPIC_TERMS),
    Term("nm", "NM", "Normal metaboliser: the usual enzyme activity (two normal-function "
         "alleles).", "genetics", expansion="Normal metaboliser", citation=_CPIC_TERMS),
    Term("rm", "RM", "Rapid metaboliser: more activity than normal; for CYP2C19, one normal and "
         "one increased-function allele (*1/*17). CPIC does not use this phenotype for CYP2D6.",
         "genetics", expansion="Rapid metaboliser", citation=_CPIC_TERMS),
    Term("um", "UM", "Ultrarapid metaboliser: much more activity than normal; for CYP2C19 two "
         "increased-function alleles (*17/*17), for CYP2D6 extra copies of a working gene.",
         "genetics", expansion="Ultrarapid metaboliser", citation=_CPIC_TERMS),
    Term("pgx", "PGx",
         "Pharmacogenetics: how gene variants change a person's response to a drug, and the "
         "dosing guidance drawn from it.", "genetics", expansion="Pharmacogenetics",
         links=("PGx", "pharmacogenetics", "pharmacogenetic")),
    Term("cpic", "CPIC",
         "Clinical Pharmacogenetics Implementation Consortium: publishes peer-reviewed guidelines "
         "on how to use a known genotype when prescribing.", "genetics",
         expansion="Clinical Pharmacogenetics Implementation Consortium",
         citation="Bousman et al., Clin Pharmacol Ther 2023 (CPIC)"),
    Term("dpwg", "DPWG",
         "Dutch Pharmacogenetics Working Group (of the Royal Dutch Pharmacists Association, KNMP): "
         "publishes gene-drug guidelines alongside CPIC's.", "genetics",
         expansion="Dutch Pharmacogenetics Working Group"),
    Term("5-httlpr", "5-HTTLPR",
         "Serotonin-transporter-linked polymorphic region: a long (l) or short (s) stretch of DNA "
         "in front of the serotonin transporter gene (SLC6A4). Once a famous candidate gene for "
         "depression; large studies did not confirm it.", "genetics",
         expansion="Serotonin-transporter-linked polymorphic region",
         citation="Border et al., Am J Psychiatry 2019"),
    Term("val66met", "Val66Met",
         "A common variant (rs6265) in the BDNF gene that swaps the amino acid valine (Val) for "
         "methionine (Met) at position 66; a Met carrier has at least one Met copy.", "genetics",
         citation="Egan et al., Cell 2003", links=("Val66Met", "Met carrier")),
    Term("fkbp5", "FKBP5",
         "The gene for FK506-binding protein 51, a helper protein that makes the glucocorticoid "
         "(cortisol) receptor less sensitive, so it shapes how the stress response switches off.",
         "genetics", expansion="FK506-binding protein 5 (gene)",
         citation="Binder et al., Nat Genet 2004"),
    Term("dna-methylation", "DNA methylation",
         "An epigenetic mark: a methyl group attached to DNA (mostly at CpG sites) that can "
         "silence a gene without changing its sequence. Given as the methylated fraction, 0 to 1.",
         "genetics", links=("DNA methylation", "methylation")),
    Term("epigenetic", "Epigenetic",
         "Concerning marks on DNA or its packaging that change how genes are read without "
         "changing the DNA sequence; some change with experience, such as early stress.",
         "genetics", links=("epigenetic", "epigenetics")),
    # --- treatments ---
    Term("ssri", "SSRI", "Selective serotonin reuptake inhibitor: the most prescribed class of "
         "antidepressants (escitalopram, citalopram, sertraline).", "treatments",
         expansion="Selective serotonin reuptake inhibitor", links=("SSRI", "SSRIs")),
    Term("snri", "SNRI", "Serotonin and norepinephrine reuptake inhibitor (venlafaxine, "
         "duloxetine).", "treatments", expansion="Serotonin and norepinephrine reuptake inhibitor"),
    Term("cbt", "CBT", "Cognitive behavioural therapy: a structured talking therapy that works "
         "on the thoughts and behaviours that keep depression going.", "treatments",
         expansion="Cognitive behavioural therapy"),
    Term("rtms", "rTMS", "Repetitive transcranial magnetic stimulation: magnetic pulses from a "
         "coil on the scalp stimulate a small area of cortex, for depression usually the left "
         "dorsolateral prefrontal cortex; offered after failed treatments.", "treatments",
         expansion="Repetitive transcranial magnetic stimulation"),
    Term("esketamine", "Esketamine",
         "A nasal-spray form of ketamine (an NMDA glutamate-receptor blocker) given with an oral "
         "antidepressant in treatment-resistant depression.", "treatments"),
    # --- models and their evaluation ---
    Term("roc-curve", "ROC curve",
         "Receiver operating characteristic curve: for every threshold, the true-positive rate "
         "plotted against the false-positive rate.", "evaluation",
         expansion="Receiver operating characteristic curve", links=("ROC curve", "ROC")),
    Term("auc", "AUC",
         "Area under the ROC curve: the chance that the model gives a randomly chosen responder a "
         "higher score than a randomly chosen non-responder. 0.5 is a coin toss, 1 perfect; "
         "treatment-response models in depression seldom do much better than 0.7.", "evaluation",
         expansion="Area under the (ROC) curve", citation="Hanley and McNeil, Radiology 1982",
         links=("ROC AUC", "AUC")),
    Term("balanced-accuracy", "Balanced accuracy",
         "The average of sensitivity and specificity at one threshold (here 0.5): accuracy that "
         "is not flattered when one outcome is much commoner than the other. 0.5 is chance.",
         "evaluation", citation="Brodersen et al., ICPR 2010"),
    Term("brier-score", "Brier score",
         "The mean squared difference between the predicted probability and what happened (1 or "
         "0). Lower is better; it rewards both discrimination and calibration.", "evaluation",
         citation="Brier, Monthly Weather Review 1950", links=("Brier score", "Brier")),
    Term("calibration", "Calibration",
         "Whether predicted probabilities match observed rates: of patients given 40%, about 40% "
         "should respond. A model can rank well (high AUC) and still be badly calibrated.",
         "evaluation", citation=_CALIBRATION, links=("calibration", "calibrated")),
    Term("calibration-in-the-large", "Calibration-in-the-large",
         "Whether the average predicted probability equals the observed response rate; too high "
         "or too low overall shows as an intercept away from 0. The fairness page sets the two "
         "side by side for each group.", "evaluation", citation=_CALIBRATION,
         links=("calibration-in-the-large", "calibration in the large",
                "mean predicted probability")),
    Term("calibration-slope", "Calibration slope",
         "The slope of outcomes regressed on the model's log-odds: 1 is ideal; below 1 the "
         "predictions are too extreme (typical of overfitting), above 1 too timid.", "evaluation",
         citation=_CALIBRATION),
    Term("recalibration", "Recalibration",
         "Refitting a model's intercept (and slope) on a sample of local patients so its "
         "probabilities fit the new setting. It repairs calibration; it cannot restore lost "
         "discrimination.", "evaluation", citation=_STEYERBERG,
         links=("recalibration", "recalibrated", "recalibrate")),
    Term("held-out", "Held-out patients (test set)",
         "Patients set aside before training and used only to measure the model: figures on "
         "patients the model has seen would be optimistic.", "evaluation",
         links=("held-out", "test set", "test patients")),
    Term("cross-validation", "Cross-validation (CV)",
         "The training patients split into k parts; the model is trained on k-1 and scored on "
         "the one left out, k times over. Used here to choose among models without touching "
         "the held-out patients.", "evaluation",
         citation="Hastie, Tibshirani and Friedman, The Elements of Statistical Learning, "
         "2009, ch. 7",
         links=("cross-validation", "cross-validated", "CV")),
    Term("bootstrap-interval", "Bootstrap interval (95% CI)",
         "A range for a figure obtained by recomputing it on many resamples of the patients "
         "(drawn with replacement) and keeping the middle 95% of the results (a percentile "
         "bootstrap). A wide interval means the figure could easily have come out different.",
         "evaluation", citation="Efron and Tibshirani, An Introduction to the Bootstrap, 1993",
         links=("bootstrap", "95% CI", "CI")),
    Term("external-validation", "External validation",
         "Testing a model on patients from another trial, clinic or time than those it was "
         "built on. Few psychiatric prediction models have been; many fail it.", "evaluation",
         citation="Steyerberg and Harrell, J Clin Epidemiol 2016; Chekroud et al., Science 2024",
         links=("external validation", "externally validated")),
    Term("threshold", "Threshold",
         "The predicted probability above which a patient counts as a predicted responder; "
         "raising it trades sensitivity for specificity.", "evaluation", links=()),
    Term("sensitivity", "Sensitivity (true-positive rate)",
         "Of the patients who responded, the share the model predicted would respond.",
         "evaluation", links=("sensitivity", "true-positive rate")),
    Term("specificity", "Specificity",
         "Of the patients who did not respond, the share the model predicted would not; the "
         "false-positive rate is 1 minus specificity.", "evaluation",
         links=("specificity", "false-positive rate")),
    Term("selection-rate", "Selection rate",
         "The share of patients the model predicts would respond, whatever happened.",
         "evaluation"),
    Term("confusion-matrix", "Confusion matrix",
         "A two-by-two table of predicted against actual responders and non-responders at one "
         "threshold.", "evaluation"),
    Term("logistic-regression", "Logistic regression",
         "A model that adds up weighted inputs into log-odds and turns them into a probability; "
         "each weight can be read directly.", "evaluation"),
    Term("random-forest", "Random forest",
         "Many decision trees, each grown on a resample of the patients; their predictions are "
         "averaged.", "evaluation", citation="Breiman, Machine Learning 2001"),
    Term("gradient-boosting", "Gradient boosting",
         "Small decision trees added one after another, each correcting the errors of those "
         "before it.", "evaluation", citation="Friedman, Ann Stat 2001"),
    Term("model-variant", "Model variant",
         "Which data a model may use: all data, no genetic data, or clinical data only; so "
         "patients who withhold genetic or biomarker data can still be predicted.", "evaluation",
         links=()),
    Term("fairness-audit", "Fairness audit",
         "The same metrics computed separately for each group (sex, ancestry group, age band) to "
         "see whether the model works worse for some; with fairlearn's MetricFrame.", "evaluation",
         citation="Weerts et al., J Mach Learn Res 2023 (fairlearn)", links=("fairness audit",)),
    Term("decoy", "Decoy variable",
         "A variable that goes along with the outcome without causing it (here through illness "
         "burden). A model, and its explanation, may credit it although its true effect is zero.",
         "evaluation", links=("decoy",)),
    Term("latent-variable", "Latent variable (ground truth)",
         "A quantity the simulation draws but no clinic could measure (such as inflammation or "
         "illness burden), kept apart from the data the models see.", "evaluation",
         links=("latent", "ground truth")),
    # --- explanations ---
    Term("shap", "SHAP",
         "SHapley Additive exPlanations: splits one prediction into a contribution per input, "
         "measured from the average prediction; the contributions add up exactly to the "
         "prediction. It explains the model, not the patient's biology.", "explanation",
         expansion="SHapley Additive exPlanations",
         citation="Lundberg and Lee, NeurIPS 2017"),
    Term("log-odds", "Log-odds (logit)",
         "The natural logarithm of p / (1 - p). 0 log-odds is a probability of 50%; +1 raises "
         "the odds by a factor of about 2.7. Logistic regression and gradient boosting explain "
         "in these units; a random forest's explanations are in probability.", "explanation",
         links=("log-odds", "logit", "logits")),
    Term("base-value", "Base value",
         "Where a SHAP explanation starts: the model's average output over the training "
         "patients, before any of this patient's values are counted.", "explanation"),
    Term("waterfall-chart", "Waterfall chart",
         "One patient's SHAP explanation drawn as bars stepping from the base value to the "
         "prediction, one bar per input.", "explanation", links=("waterfall",)),
    Term("beeswarm-chart", "Beeswarm chart",
         "Every held-out patient's SHAP value for each input as a dot, coloured by the input's "
         "value: shows how much and in which direction an input moves predictions.",
         "explanation", links=("beeswarm",)),
    Term("mean-abs-shap", "Mean |SHAP|",
         "The average size of an input's SHAP values over many patients: a global importance, "
         "without direction.", "explanation", links=("Mean |SHAP|",)),
    # --- treatment choice ---
    Term("ranking", "Ranking",
         "The arms a patient may receive, ordered by the model's predicted probability of "
         "response; the first is the top recommendation. A person decides.", "choice",
         links=("top recommendation",)),
    Term("policy", "Policy",
         "A rule that picks one treatment per patient: the model's first choice, one treatment "
         "for everyone, a random eligible one, or (in a simulation only) the truly best one.",
         "choice", links=()),
    Term("policy-value", "Policy value",
         "The expected response rate if every held-out patient received the treatment a policy "
         "picks, scored with the simulation's true response probabilities. Only a simulation can "
         "compute it: a real patient receives one treatment.", "choice"),
    Term("oracle", "Oracle",
         "The policy that always picks each patient's truly best treatment, known only to the "
         "simulation. Its value is the ceiling no model can pass; its gain over one treatment "
         "for everyone bounds what precision psychiatry could add here.", "choice",
         links=("oracle",)),
    Term("what-if", "What-if",
         "The same patient predicted again with one or more values changed, to see how the model "
         "responds; it shows the model's behaviour, not what would happen to the patient.",
         "choice"),
    # --- privacy, consent and audit ---
    Term("consent", "Consent (data class, purpose)",
         "A patient's permit or deny for one class of data (clinical, biomarker, genetic) and one "
         "purpose of use, recorded with time and text version; no record means deny.",
         "safeguards", citation="HL7 FHIR Consent resource; GDPR Art. 7 and 9",
         links=("data class",)),
    Term("purpose-of-use", "Purpose of use",
         "Why data is read, set by the server for each page: education and demonstration (HL7 "
         "code TRAIN, which means training people, not models), model training (a local code, "
         "MLTRAIN) or research export (HL7 code HRESCH).", "safeguards",
         citation="HL7 v3 PurposeOfUse code system", links=("purpose of use",)),
    Term("pseudonym", "Pseudonym",
         "A stand-in for a patient's identity: here a keyed hash (HMAC) whose key is kept outside "
         "the database, so it cannot be reversed by trying every patient number.", "safeguards",
         citation="GDPR Art. 4(5)", links=("pseudonym", "pseudonymised")),
    Term("hmac", "HMAC",
         "Hash-based message authentication code: a hash computed with a secret key, so nobody "
         "without the key can recompute or forge it.", "safeguards",
         expansion="Hash-based message authentication code", citation="RFC 2104"),
    Term("erasure", "Erasure",
         "Deleting everything about a patient on request (GDPR's right to erasure); a "
         "pseudonymous tombstone and the audit entry remain, so a re-created cohort leaves the "
         "patient out.", "safeguards", citation="GDPR Art. 17", links=("erasure", "tombstone")),
    Term("fingerprint", "Cohort fingerprint",
         "A digest of the patients' data a cohort holds; two cohorts with the same fingerprint "
         "are copies, and share erasures, consent decisions and the privacy budget.",
         "safeguards", links=("fingerprint",)),
    Term("small-cell-suppression", "Small-cell suppression (\u201c<11\u201d)",
         f"Counts of 1 to {MIN_CELL - 1} patients are never shown; they read "
         f"\u201c{SUPPRESSED}\u201d, "
         "and rates or means over fewer patients are hidden, because small groups can identify "
         "people. Other cells are hidden too where the total would give a hidden one away "
         "(complementary suppression).", "safeguards",
         citation="CMS cell size suppression policy (counts of 1 to 10)",
         links=("small-cell suppression", "small cells", "small cell", "suppressed")),
    Term("differential-privacy", "Differential privacy",
         "A guarantee that a released figure hardly changes whether or not any one patient is in "
         "the data, obtained by adding calibrated random noise.", "safeguards",
         citation="Dwork and Roth, The Algorithmic Foundations of Differential Privacy, 2014",
         links=("differential privacy", "differentially private")),
    Term("epsilon", "Epsilon (\u03b5, privacy budget)",
         "How much a differentially private release may reveal: smaller epsilon means more noise "
         "and more privacy. Each export spends some; when the budget is spent, further exports "
         "are refused.", "safeguards",
         citation="Dwork and Roth, The Algorithmic Foundations of Differential Privacy, 2014",
         links=("epsilon", "\u03b5", "privacy budget")),
    Term("audit-log", "Audit log (hash chain)",
         "Every sensitive read and every write, who, when, for what purpose and with what "
         "outcome; each entry's keyed hash covers the previous one's, so an edit, deletion or "
         "reordering shows.", "safeguards", citation="RFC 6962 (tamper-evident logs); HIPAA "
         "164.312(b)", links=("audit log", "hash-chained")),
    Term("gdpr", "GDPR",
         "The EU's General Data Protection Regulation; health and genetic data are special "
         "categories it protects (Art. 9).", "safeguards",
         expansion="General Data Protection Regulation", citation="Regulation (EU) 2016/679"),
    Term("opendp", "OpenDP",
         "An open-source library of differential-privacy tools; this app's noisy exports use it.",
         "safeguards"),
    Term("utc", "UTC", "Coordinated Universal Time: the clock every time on these pages is "
         "given in.", "safeguards", expansion="Coordinated Universal Time"),
)

TERMS: dict[str, Term] = {t.anchor: t for t in GLOSSARY}
assert len(TERMS) == len(GLOSSARY), "anchors must be unique"


def _exact(spelling: str) -> bool:
    """An abbreviation (no lowercase letter) is linked only as spelled."""
    return not any(c.islower() for c in spelling)


def _spellings() -> dict[str, Term]:
    found: dict[str, Term] = {}
    for term in GLOSSARY:
        for spelling in term.spellings:
            key = spelling if _exact(spelling) else spelling.lower()
            assert key not in found, f"{spelling!r} is linked to two terms"
            found[key] = term
    return found


_SPELLINGS = _spellings()


def term_for(spelling: str) -> Term:
    """The term a linked spelling found by ``TERM_PATTERN`` belongs to."""
    return _SPELLINGS.get(spelling) or _SPELLINGS[spelling.lower()]


# Longest spelling first, so "ROC AUC" wins over "AUC"; not inside a word or a hyphenated one.
TERM_PATTERN = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(s) if _exact(s) else f"(?i:{re.escape(s)})"
               for s in sorted({s for t in GLOSSARY for s in t.spellings}, key=len, reverse=True))
    + r")(?![\w-])")


# Codes a chart may show for a category (an ancestry group "AFR", a metaboliser phenotype "PM"):
# the category values of the data dictionary that the glossary expands.
CATEGORY_CODES = frozenset(code for variable in DATA_DICTIONARY.values()
                           for code in variable.categories or ()
                           if _exact(code) and code in _SPELLINGS)


def codes_in(texts) -> list[Term]:
    """The category codes (``CATEGORY_CODES``) that ``texts`` use, each term once, in the order
    of first use: what a chart's legend line expands."""
    found: dict[str, Term] = {}
    for text in texts:
        for match in TERM_PATTERN.finditer(str(text)):
            if match.group(0) in CATEGORY_CODES:
                term = term_for(match.group(0))
                found.setdefault(term.anchor, term)
    return list(found.values())


def glossary_by_topic() -> list[tuple[str, str, list[Term]]]:
    """(topic, its title, its terms alphabetically) in the order of ``TOPICS``."""
    return [(topic, title, sorted((t for t in GLOSSARY if t.topic == topic),
                                  key=lambda t: t.term.lower()))
            for topic, title in TOPICS.items()]


__all__ = ["CATEGORY_CODES", "GLOSSARY", "TERMS", "TERM_PATTERN", "TOPICS", "Term", "codes_in",
           "glossary_by_topic", "term_for"]
