"""Lesson plans: one 50-minute plan per teaching scenario and multi-site lesson, and an introduction.

A plan is data beside the scenario it teaches: learning objectives, timed steps (each naming the
page of the app it uses by a symbolic name from ``LESSON_PAGES``, which the app turns into a
link), and an answer key for educators, one answer per discussion question. The discussion questions and what
to expect are read from the scenario (``Scenario.questions``, ``Scenario.expected``), never
copied: only the introduction, which is no scenario, brings its own. A scenario registered
without a plan fails ``tests/synthetic_data/test_lessons.py``.

Answer keys rest on the scenario's teaching note and the findings the data dictionary cites
(the sources named in each answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from .scenarios import N_QUESTIONS, SCENARIOS, Scenario
from .sites import SITE_SCENARIOS, SiteScenario

LESSON_MINUTES = 50
N_OBJECTIVES = (3, 4)
INTRODUCTION = "introduction"

# The pages a step may use: symbolic names the app resolves (a cohort's or a training run's page
# needs the scenario's cohort, the others none).
LESSON_PAGES = (
    "cohort_overview", "patient_list", "cohort_compare", "run_overview", "model_detail",
    "model_fairness", "model_card", "run_travel", "cohort_create", "data_dictionary",
    "seminar_packs", "exercises",
)

UNKNOWN_PAGE = "step page must be one of {pages}, got {page!r}"
BAD_MINUTES = "plan {name!r}: steps must take {total} minutes in all, got {minutes}"
BAD_OBJECTIVES = "plan {name!r}: {low} to {high} learning objectives, got {n}"
BAD_ANSWER_KEY = "plan {name!r}: one answer per discussion question ({n}), got {answers}"
OWN_QUESTIONS = ("plan {name!r}: a scenario's plan reads its questions and expectation from the "
                 "scenario; only a plan that is no scenario's brings its own and names the "
                 "scenario whose cohorts it opens")


@dataclass(frozen=True)
class Step:
    """``minutes`` of class time doing ``activity`` on ``page`` (one of ``LESSON_PAGES``);
    ``arm``: the treatment arm a model page opens (the SSRI arm when not given)."""

    minutes: int
    activity: str
    page: str
    arm: str = "ssri"

    def __post_init__(self):
        if self.page not in LESSON_PAGES:
            raise ValueError(UNKNOWN_PAGE.format(pages=", ".join(LESSON_PAGES), page=self.page))


@dataclass(frozen=True)
class LessonPlan:
    """A 50-minute lesson. ``name`` is the scenario's (or ``INTRODUCTION``); ``answer_key``
    answers the discussion questions in order, for educators only. ``scenario``,
    ``own_questions`` and ``own_expected`` are for a plan that is no scenario's."""

    name: str
    title: str
    objectives: tuple[str, ...]
    steps: tuple[Step, ...]
    answer_key: tuple[str, ...]
    scenario: str = ""
    own_questions: tuple[str, ...] = ()
    own_expected: str = ""

    @property
    def lesson(self) -> Scenario | SiteScenario | None:
        """The scenario this plan teaches (None for the introduction)."""
        return SCENARIOS.get(self.name) or SITE_SCENARIOS.get(self.name)

    @property
    def cohort_scenario(self) -> str:
        """The scenario whose cohorts the steps open."""
        return self.name if self.lesson else self.scenario

    @property
    def multi_site(self) -> bool:
        return self.name in SITE_SCENARIOS

    @property
    def questions(self) -> tuple[str, ...]:
        return self.lesson.questions if self.lesson else self.own_questions

    @property
    def expected(self) -> str:
        return self.lesson.expected if self.lesson else self.own_expected

    @property
    def minutes(self) -> int:
        return sum(step.minutes for step in self.steps)


LESSON_PLANS: dict[str, LessonPlan] = {}


def _check(plan: LessonPlan) -> None:
    low, high = N_OBJECTIVES
    if not low <= len(plan.objectives) <= high:
        raise ValueError(BAD_OBJECTIVES.format(name=plan.name, low=low, high=high,
                                               n=len(plan.objectives)))
    if plan.minutes != LESSON_MINUTES:
        raise ValueError(BAD_MINUTES.format(name=plan.name, total=LESSON_MINUTES,
                                            minutes=plan.minutes))
    if plan.lesson is not None and (plan.scenario or plan.own_questions or plan.own_expected):
        raise ValueError(OWN_QUESTIONS.format(name=plan.name))
    if plan.lesson is None and (plan.scenario not in SCENARIOS or not plan.own_expected
                                or len(plan.own_questions) != N_QUESTIONS):
        raise ValueError(OWN_QUESTIONS.format(name=plan.name))
    if len(plan.answer_key) != len(plan.questions):
        raise ValueError(BAD_ANSWER_KEY.format(name=plan.name, n=len(plan.questions),
                                               answers=len(plan.answer_key)))


def _register(plan: LessonPlan) -> None:
    _check(plan)
    LESSON_PLANS[plan.name] = plan


def get_lesson_plan(name: str) -> LessonPlan:
    try:
        return LESSON_PLANS[name]
    except KeyError:
        known = ", ".join(LESSON_PLANS)
        raise ValueError(f"unknown lesson plan {name!r}; known plans: {known}") from None


_register(LessonPlan(
    name=INTRODUCTION,
    title="Introduction: a synthetic cohort, a decision-support tool and its safeguards",
    scenario="default",
    objectives=(
        "Explain why the cohort is synthetic and what its known truth lets a class check.",
        "Tell a published finding from an assumption in the data dictionary.",
        "Follow a cohort to its models and to one patient's ranked treatments, and say who "
        "decides.",
        "Name the safeguards the pages show: consent, small-cell suppression, the audit log.",
    ),
    steps=(
        Step(5, "Frame the session: the data are synthetic, generated from published findings "
                "with a known truth; nothing here is for clinical use.", "cohort_overview"),
        Step(10, "Read the data dictionary in pairs: each pair picks three variables and notes "
                 "the finding, the citation and whether the size is published or assumed.",
             "data_dictionary"),
        Step(10, "Tour the default cohort: its distributions, the counts shown as '<11' "
                 "(small-cell suppression) and the patients left out by consent.",
             "cohort_overview"),
        Step(10, "Open the models trained on it: held-out ROC AUC with its interval for each "
                 "arm, and what a ranking of treatments rests on.", "run_overview"),
        Step(5, "Open one patient from the list: the ranked treatments, their explanation and "
                "the decision a person records (a recommendation, never a decision).",
             "patient_list"),
        Step(10, "Discuss the three questions; collect what the class would want to know "
                 "before trusting a ranking.", "cohort_overview"),
    ),
    own_questions=(
        "What can a synthetic cohort with a known truth teach that real patient data cannot, "
        "and what can it not teach?",
        "Which numbers in the data dictionary are published findings and which are "
        "assumptions, and why does the difference matter for what a class concludes?",
        "A patient page ranks treatments: who decides, and what would you need to know before "
        "trusting the ranking?",
    ),
    own_expected=(
        "The dictionary marks each size as published or assumed; small counts show as '<11'; "
        "held-out ROC AUC sits around 0.55-0.70 per arm, as published models of antidepressant "
        "response do (Sajjadian 2021), and every ranking is offered as a recommendation with a "
        "decision recorded by a person."
    ),
    answer_key=(
        "Because the simulation knows each patient's true chance of response under every arm, "
        "a class can check a model and its explanation against the truth, which no real data "
        "set allows (each patient is observed under one treatment only). It cannot teach new "
        "biology: every effect is one the authors put in, taken from the cited studies or "
        "assumed, so the cohort mirrors findings, it does not test them.",
        "Published sizes come from the cited studies (response rates from STAR*D, Trivedi "
        "2006; the CRP effect direction from Uher 2014 and Jha 2017); assumed ones are "
        "modelling choices (ancestry shares, the CYP2C19 effect sizes, FKBP5 methylation). A "
        "result that rests on an assumed size teaches a mechanism, not a magnitude; quoting it "
        "as evidence would mislead.",
        "A person decides: the tool recommends (GDPR Art. 22 and the EU AI Act's human "
        "oversight), records who chose and why when the choice differs, and can be paused. "
        "Before trusting the ranking: how well the model discriminates on held-out patients "
        "(here about 0.6, modest, in line with Sajjadian 2021), whether it is calibrated, "
        "whether it was validated for patients like this one, and which data consent let it "
        "use.",
    ),
))

_register(LessonPlan(
    name="default",
    title="Reading a treatment-response model against the truth",
    objectives=(
        "Compare the features a model credits (SHAP) with the effects the simulation encodes.",
        "Judge what a held-out ROC AUC around 0.6 can and cannot support at the bedside.",
        "Explain why randomised assignment matters for reading per-arm models as a guide to "
        "choice.",
    ),
    steps=(
        Step(5, "Introduce the scenario from its teaching note: published rates and effects, "
                "randomised treatment, two decoy biomarkers.", "cohort_overview"),
        Step(10, "Look at the SSRI models: held-out ROC AUC and its interval, calibration, and "
                 "the features ranked by mean absolute SHAP. Educators and ethics reviewers "
                 "also see the truth check beside them.", "model_detail"),
        Step(10, "On the run overview, compare the arms and the expected response rate of "
                 "choosing per patient against one treatment for everyone.", "run_overview"),
        Step(10, "Open two or three patients: their ranked treatments and explanations; ask "
                 "how different the arms' predictions really are.", "patient_list"),
        Step(15, "Discuss the three questions in small groups, then together.",
             "cohort_overview"),
    ),
    answer_key=(
        "The true drivers are those of the response model: two or more prior failed treatments "
        "(-1.30 logits), anxious depression (-0.45), chronic episode (-0.30), comorbidity "
        "(-0.20), rACC theta (+0.24 per SD, Pizzagalli 2018), childhood maltreatment for drug "
        "arms (-0.36, Nanni 2012) and, for SSRIs, CRP (-0.30 per ln unit), the EEG signature "
        "(+0.40 per SD, Wu 2020) and CYP2C19 rapid and ultrarapid metabolism (assumed sizes). "
        "Hippocampal volume and BDNF have no true effect. A good answer notes that SHAP "
        "describes what the model uses, which can include noise and stand-ins, not what causes "
        "response.",
        "A gain: a small shift in the odds that can inform a conversation, not decide it. The "
        "risk: over-trust in a precise-looking number. Validated studies average balanced "
        "accuracy 0.56 for response (Sajjadian 2021), and even the oracle here reaches only "
        "about 0.61-0.70; outcomes are highly correlated across treatments (variance ratio "
        "near 1, Winkelbeiner 2019), so choosing per patient adds only a few points over the "
        "best single treatment.",
        "With randomised treatment, patients on each arm are alike in expectation, so a "
        "per-arm model estimates response under that treatment for the same kind of patient "
        "and arms can be compared. Without it, who got which arm depends on the patient "
        "(confounding by indication) and differences between arms mix treatment with case "
        "mix. Even randomised, each patient is seen under one arm only, so individual "
        "treatment effects are never observed directly.",
    ),
))

_register(LessonPlan(
    name="prs_portability",
    title="Who a polygenic score works for",
    objectives=(
        "Show that a polygenic score's accuracy depends on genetic ancestry and say why.",
        "Read a model's performance per ancestry group in the fairness audit.",
        "Weigh offering, restricting or dropping a genetic model when it serves groups "
        "unequally.",
    ),
    steps=(
        Step(5, "Introduce the scenario: GWAS were mostly of European ancestry, so scores "
                "built on them travel poorly (Martin 2019).", "cohort_overview"),
        Step(10, "Compare the SSRI models with and without genetic data: held-out ROC AUC and "
                 "the credit SHAP gives the polygenic score.", "model_detail"),
        Step(10, "Open the fairness audit of the SSRI arm: ROC AUC and calibration per ancestry "
                 "group, with their intervals.", "model_fairness"),
        Step(10, "Read the model card: what it says about intended use and about groups.",
             "model_card"),
        Step(15, "Discuss the three questions; end with what the model card should say.",
             "cohort_overview"),
    ),
    answer_key=(
        "Not without saying so. Here the score tracks genetic liability well in European "
        "ancestry and barely in African ancestry (the scenario's r = 0.9 against 0.18; Martin "
        "2019 reports up to 4.9 times lower accuracy in African ancestry). Options: report "
        "performance per group, offer the model without genetic data where it does as well, "
        "and restrict the intended use on the model card.",
        "Patients of non-European ancestry carry it: their predictions are less accurate, so "
        "their treatment choice rests on weaker evidence. Consent to the use of their data is "
        "not consent to be predicted less well; they were under-represented in the studies "
        "the score comes from (GWAS participants about 96% European in 2009 and 80% in 2016, "
        "Popejoy 2016), which is a fairness problem, not a property of the patients.",
        "The root fix is more diverse GWAS (Martin 2019; Popejoy 2016). Per-group models need "
        "large samples in each group; leaving genetics out equalises accuracy at a cost for "
        "those it serves. A good answer compares the with- and without-genetics models in the "
        "app rather than guessing.",
    ),
))

_register(LessonPlan(
    name="underrepresented",
    title="Too few to evaluate: a group of 3%",
    objectives=(
        "Count how many patients of a small group reach each held-out set.",
        "Explain why a metric on a few dozen patients says little, with its interval.",
        "Draft what a model card should say about groups too small to evaluate.",
    ),
    steps=(
        Step(5, "Introduce the scenario: the default cohort with 3% of African ancestry.",
             "cohort_overview"),
        Step(10, "Read the cohort's composition by ancestry, and the suppressed small counts.",
             "cohort_overview"),
        Step(15, "Open the fairness audit of two arms: which groups are hidden or flagged as "
                 "too few, and how wide the intervals are.", "model_fairness"),
        Step(5, "Read the model card's per-group section.", "model_card"),
        Step(15, "Discuss the three questions; draft one sentence for the model card.",
             "cohort_overview"),
    ),
    answer_key=(
        "At most a few dozen per arm: 3% of a cohort, split over seven arms and a held-out "
        "fraction. The audit hides groups under 11, hides an AUC with too few responders or "
        "non-responders and flags groups under 100. An AUC on twenty or thirty patients has an "
        "interval so wide that it is compatible with chance and with a good model alike.",
        "No. An average over the cohort is dominated by the majority (72% European here); it "
        "says nothing about a group of 3%. A claim for a group needs evidence in that group, "
        "or a plain statement that there is none.",
        "Name the groups and their numbers, say they were too few to evaluate rather than "
        "leaving them out, restrict the intended use accordingly and say what data would be "
        "needed (the model-card practice of Mitchell 2019: performance reported per group).",
    ),
))

_register(LessonPlan(
    name="decoy_biomarker",
    title="Predictive is not causal: the decoy biomarkers",
    objectives=(
        "Recognise a feature a model credits without any causal effect.",
        "Explain why SHAP describes the model, not the biology.",
        "Name evidence that separates a cause from a marker.",
    ),
    steps=(
        Step(5, "Introduce the scenario: hippocampal volume and BDNF follow illness burden, "
                "which lowers response and which the models cannot see.", "cohort_overview"),
        Step(10, "Read the two decoys in the data dictionary: what they mirror and why they "
                 "are decoys.", "data_dictionary"),
        Step(15, "On the SSRI and SNRI models, find where the decoys rank by mean absolute "
                 "SHAP. Educators and ethics reviewers compare with the truth check and its "
                 "stand-in flags.", "model_detail"),
        Step(5, "Open a patient with a low BDNF and read the explanation.", "patient_list"),
        Step(15, "Discuss the three questions.", "cohort_overview"),
    ),
    answer_key=(
        "Neither is a mistake: the decoys carry information about illness burden, which "
        "lowers response, so a model that cannot see burden uses them as stand-ins, and SHAP "
        "faithfully reports that use. The error would be to read SHAP credit as a causal "
        "effect.",
        "No: in the simulation their true effect is zero, so raising them changes nothing. In "
        "real data serum BDNF is a state marker that rises with treatment (Brunoni 2008; "
        "Molendijk 2014) and hippocampal volume differs only slightly in depression (d = "
        "-0.14, Schmaal 2016, ENIGMA), with no established role as a response predictor.",
        "Ask for evidence beyond association: an intervention that changes the marker and then "
        "the outcome (a trial), consistency across studies, an association that survives "
        "adjustment for severity and burden, a plausible mechanism. A marker that tracks "
        "illness severity is the usual suspect.",
    ),
))

_register(LessonPlan(
    name="consent_selection",
    title="Consent selection: who the genetic model learns from",
    objectives=(
        "Show that patients who decline genetic use differ from those who consent.",
        "Trace which model serves a patient who declined, and what it was trained on.",
        "Say how consent exclusions belong on a model card.",
    ),
    steps=(
        Step(5, "Introduce the scenario: maltreated patients decline genetic use four times as "
                "often.", "cohort_overview"),
        Step(10, "Read the patients left out of genetic use on the cohort overview; find "
                 "decliners in the patient list.", "patient_list"),
        Step(10, "Compare the SSRI models with and without genetic data: who each was trained "
                 "on and how well it does.", "model_detail"),
        Step(10, "Read the model card's consent exclusions.", "model_card"),
        Step(15, "Discuss the three questions.", "cohort_overview"),
    ),
    answer_key=(
        "The genetic model learns only from consenters, who were maltreated less often (about "
        "37% against about three quarters of decliners). Maltreatment lowers drug response "
        "(Nanni 2012), so the model sees fewer such patients; decliners are served by the "
        "model without genetic data, which may be less accurate where genetics adds "
        "information.",
        "Respecting a refusal is required (GDPR Art. 7 and 9: explicit consent for genetic "
        "data, withdrawal as easy as giving), and a patient must not be penalised for it. "
        "What is unfair is leaving the difference unmeasured: the performance of the model "
        "that serves decliners should be reported and, if worse, said so.",
        "How many patients were left out per data class, how they differ from those included "
        "(here maltreatment), which model serves them and how well it performs for them.",
    ),
))

_register(LessonPlan(
    name="confounding_by_indication",
    title="Confounding by indication: milder patients get CBT",
    objectives=(
        "Show how treatment by clinician preference makes arms differ in case mix.",
        "Explain why an observed response rate credits a treatment with its patients.",
        "Say what a model learns about patients an arm rarely saw.",
    ),
    steps=(
        Step(5, "Introduce the scenario: CBT offered more often to milder patients with fewer "
                "prior failures.", "cohort_overview"),
        Step(10, "Compare baseline HAM-D17 and prior failures between arms on the cohort "
                 "overview.", "cohort_overview"),
        Step(10, "Compare this cohort with one of the default scenario side by side.",
             "cohort_compare"),
        Step(10, "Open the CBT models: how many severe patients they saw, and their "
                 "calibration.", "model_detail", arm="cbt"),
        Step(15, "Discuss the three questions.", "cohort_overview"),
    ),
    answer_key=(
        "From case mix, not from CBT: milder patients, with less illness burden and fewer "
        "prior failures, respond better whatever they get, and clinicians gave them CBT more "
        "often. CBT's observed rate sits about 3-4 points above its true mean over the cohort "
        "(about 1 point when treatment is randomised).",
        "Little: few severe patients reached the CBT arm, so its predictions for them are "
        "extrapolation from milder patients and rest on little data; a good answer asks for "
        "the number of such patients before trusting those predictions.",
        "Randomisation balances measured and unmeasured factors between arms; an "
        "observational record can adjust only for what was measured, and only where every "
        "kind of patient received every treatment. Methods that emulate a target trial "
        "(Hernán and Robins 2016) make the assumptions explicit but cannot remove them.",
    ),
))

_register(LessonPlan(
    name="candidate_gene",
    title="The candidate-gene story: 5-HTTLPR and the decline effect",
    objectives=(
        "Estimate how much a published candidate-gene effect would change a prediction.",
        "Explain the decline effect: why early small studies report larger effects.",
        "State the evidence a genetic test needs before it enters a decision tool.",
    ),
    steps=(
        Step(5, "Introduce the scenario: 5-HTTLPR given the effect of the early studies.",
             "cohort_overview"),
        Step(10, "Read 5-HTTLPR in the data dictionary: the early finding and the null "
                 "replications.", "data_dictionary"),
        Step(10, "On the SSRI models, find the credit SHAP gives 5-HTTLPR.", "model_detail"),
        Step(10, "Compare this cohort with one of the default scenario, where the genotype has "
                 "no true effect.", "cohort_compare"),
        Step(15, "Discuss the three questions.", "cohort_overview"),
    ),
    answer_key=(
        "Modestly: +0.3 logits per long allele is about 15 percentage points between s/s and "
        "l/l carriers around a 47% SSRI response rate, for the SSRI arm only. Other factors "
        "(prior failures, anxious depression) move predictions as much or more.",
        "Small studies that find large effects get published first (publication bias, the "
        "winner's curse), with flexible analyses (Ioannidis 2005); larger, bias-corrected "
        "analyses then shrink the effect, here to none (Taylor 2010; Porcelli 2012).",
        "Replication in large independent samples, an effect large enough to change a "
        "decision, and shown clinical utility, as summarised by a guideline body: CPIC 2023 "
        "gives recommendations for CYP2C19 and SSRIs and none for 5-HTTLPR.",
    ),
))

_register(LessonPlan(
    name="label_bias",
    title="Label bias: a group's outcome recorded differently",
    objectives=(
        "Tell a model's error from an error in the recorded outcome.",
        "Read calibration per group in the fairness audit.",
        "Suggest how to detect label bias without a truth column, and name who is harmed.",
    ),
    steps=(
        Step(5, "Introduce the scenario: AFR patients' response recorded with a lower "
                "threshold.", "cohort_overview"),
        Step(10, "Compare recorded response rates by ancestry on the cohort overview.",
             "cohort_overview"),
        Step(15, "Open the SSRI fairness audit: each group's observed response rate against "
                 "the model's mean prediction.", "model_fairness"),
        Step(5, "Read the model card: what it says about the outcome's measurement.",
             "model_card"),
        Step(15, "Discuss the three questions.", "cohort_overview"),
    ),
    answer_key=(
        "Against the truth it is roughly right: AFR patients' true chance is like everyone "
        "else's (about 39% against a recorded 57%), and the model predicts them like everyone "
        "else. Against the records it looks miscalibrated for AFR. Recalibrating per group to "
        "the records would bake the bias in.",
        "Compare the recorded outcome with an independent, blinded measure; check whether the "
        "rater or instrument differs by group and whether the scale means the same in each "
        "group; look for outcome gaps that nothing else measured explains. Obermeyer 2019 "
        "found a widely used algorithm biased through its choice of label.",
        "The group whose improvement is overstated: patients recorded as responders may not "
        "be offered a next step, and models trained on those labels learn to expect more of "
        "treatments for them than they deliver.",
    ),
))

_register(LessonPlan(
    name="random_labels",
    title="Nothing to explain: models on random outcomes",
    objectives=(
        "Recognise a model no better than chance from its held-out metrics and interval.",
        "Explain why a SHAP waterfall always tells a story, even about noise.",
        "Say what a decision tool should do when its models do not predict.",
    ),
    steps=(
        Step(5, "Introduce the scenario without saying that outcomes are coin flips; let the "
                "class find out.", "cohort_overview"),
        Step(10, "Open one patient and read the SHAP waterfall: what story does it tell?",
             "patient_list"),
        Step(15, "Open the models: held-out ROC AUC and its interval for each arm, the "
                 "calibration. Educators and ethics reviewers also see the truth check.",
             "model_detail"),
        Step(5, "Reveal the teaching note and compare with the run overview.", "run_overview"),
        Step(15, "Discuss the three questions.", "cohort_overview"),
    ),
    answer_key=(
        "Nothing inside the waterfall: it always adds up to the prediction and always ranks "
        "features. The warnings lie outside it: held-out ROC AUC about 0.5 with an interval "
        "covering 0.5, and contributions that are small and change between models.",
        "Held-out ROC AUC and its 95% interval, calibration, the small-sample flag and, for "
        "educators and reviewers, the oracle ROC AUC of exactly 0.5.",
        "Say that it does not predict, show no ranking or explanation as if it did, and let "
        "a person pause it (human oversight, EU AI Act Art. 14); the model card should record "
        "it as out of scope.",
    ),
))

_register(LessonPlan(
    name="trial_to_clinic",
    title="From trial to clinic: does the model travel?",
    objectives=(
        "Name the differences between a trial and a clinic that make a model fail to travel.",
        "Tell what local recalibration can repair from what it cannot.",
        "List what to ask of a published model's trial before using it elsewhere.",
    ),
    steps=(
        Step(5, "Introduce the scenario: the same biology at a strict trial and a real-world "
                "clinic.", "cohort_overview"),
        Step(10, "Compare the two sites on the cohort overview: inclusion, case mix, ancestry.",
             "cohort_overview"),
        Step(15, "Open the travel page: discrimination and calibration at the development site "
                 "and at the clinic, before and after local recalibration.", "run_travel"),
        Step(5, "Read the model card's statement of where the model was validated.",
             "model_card"),
        Step(15, "Discuss the three questions.", "cohort_overview"),
    ),
    answer_key=(
        "Because the data differ, not the biology: clinic patients fall outside the trial's "
        "inclusion criteria (Zimmerman 2002; 22% of STAR*D would have met them, Wisniewski "
        "2009), a quarter of self-reported outcomes are recorded the wrong way, which caps any "
        "model's measurable accuracy, and treatment follows clinician preference. Chekroud "
        "2016 saw a STAR*D model fall to chance in one CO-MED arm.",
        "Recalibration on local patients repairs calibration in the large and the slope (a "
        "different base rate, over-confident predictions); it cannot restore discrimination "
        "lost to noisy outcomes or to patients unlike any the model saw.",
        "Its inclusion and exclusion criteria, case mix, outcome measure and rater, timing, "
        "how treatment was assigned, the assays and devices used, and whether the model was "
        "ever validated elsewhere (about a fifth of psychiatric prediction models were, "
        "Meehan 2022).",
    ),
))

_register(LessonPlan(
    name="assay_shift",
    title="Assay shift: the same patients, another lab's CRP",
    objectives=(
        "Trace how a change in a lab assay moves one arm's predictions.",
        "Show that discrimination can hide a shift that calibration reveals.",
        "Say who must be told of an assay change and what they should check.",
    ),
    steps=(
        Step(5, "Introduce the scenario: the same population at two sites, another CRP "
                "assay at site B.", "cohort_overview"),
        Step(10, "Compare CRP and the other variables between the sites on the cohort "
                 "overview.", "cohort_overview"),
        Step(15, "Open the travel page: the SSRI models' ROC AUC and calibration at each site, "
                 "and the arms without a CRP effect.", "run_travel"),
        Step(5, "Read the CRP entry of the data dictionary: what the effect mirrors.",
             "data_dictionary"),
        Step(15, "Discuss the three questions.", "cohort_overview"),
    ),
    answer_key=(
        "The SSRI predictions move down by about 0.1 logits, a few percentage points: CRP "
        "reads 1.4 times higher, ln 1.4 = 0.34, at -0.30 logits per ln unit. The SNRI and "
        "bupropion predictions move slightly the other way (+0.10 per ln unit); arms without "
        "a CRP effect do not move.",
        "No: a shift that raises everyone's CRP alike keeps the ranking of patients, so ROC "
        "AUC hardly moves (the added noise costs a little). Only calibration, predicted "
        "against observed response, shows it.",
        "The people responsible for the model and the clinicians using it, told by the lab "
        "(hs-CRP methods disagree, Roberts 2001). They should check calibration on local "
        "patients after the change and recalibrate or suspend the model if it moved.",
    ),
))
