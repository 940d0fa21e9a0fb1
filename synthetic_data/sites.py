"""Sites: where a cohort was collected, as a declarative, frozen set of shifts. Plain Python.

A site changes what a study sees, never the biology: the true response model (its effects and
intercepts) is the scenario's at every site, so a model that fails to travel fails because of
the site, not because patients respond differently. Four kinds of shift:

- ``CaseMix``: who is sampled (inclusion criteria, and the population's ancestry, age,
  severity, comorbidity and prior failures);
- ``Measurement``: what is recorded of the true values (CRP assay calibration and noise, EEG
  device noise and missing recordings, genotyping not done);
- ``Outcome``: how response is recorded (rater misclassification, week of assessment);
- ``Assignment``: who gets which treatment (randomised, or by clinician preference).

Each shift says what it mirrors with ``finding``, ``citation`` and ``evidence`` (published or
assumed), as the data dictionary does for variables. ``SITE_SCENARIOS`` holds the multi-site
lessons, kept apart from ``SCENARIOS``: a site scenario names the scenario whose true model holds
at every site, and a cohort drawn from it has a site column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

import numpy as np

from .dictionary import EVIDENCE
from .parameters import CohortParameters
from .scenarios import N_QUESTIONS, get_scenario

SITE_COLUMN = "site"
# Population fields a case mix may change; the response model's fields stay the scenario's.
CASE_MIX_FIELDS = ("ancestry_shares", "female_share", "age_mean", "age_sd", "hamd_mean",
                   "hamd_sd", "anxious_rate", "comorbidity_rate", "maltreatment_rate",
                   "prior_failure_log_rate")
ASSIGNMENT_FIELDS = ("assignment", "cbt_severity_slope", "cbt_prior_failure_slope")
RATERS = ("clinician", "self_report")

BAD_SITE_NAME = "a site name is lower-case letters, digits and underscores, got {name!r}"
BAD_EVIDENCE = "evidence must be one of {allowed}, got {evidence!r}"
NOT_A_CASE_MIX_FIELD = "a case mix may change only {allowed}; not {names}"
NOT_AN_ASSIGNMENT_FIELD = "an assignment may change only {allowed}; not {names}"
BAD_SHARE = "{name} must lie in 0-1, got {value!r}"
BAD_CRP_CALIBRATION = "crp_factor must be above 0 and crp_offset_mg_l finite"
BAD_NOISE = "{name} must be 0 or more, got {value!r}"
BAD_RATER = "rater must be one of {allowed}, got {rater!r}"
DUPLICATE_SITE_NAMES = "each site of a multi-site cohort needs its own name; repeated: {names}"


def _check_evidence(evidence: str) -> None:
    if evidence not in EVIDENCE:
        raise ValueError(BAD_EVIDENCE.format(allowed=", ".join(EVIDENCE), evidence=evidence))


def _check_share(name: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise ValueError(BAD_SHARE.format(name=name, value=value))


def _check_noise(name: str, value: float) -> None:
    if not value >= 0:
        raise ValueError(BAD_NOISE.format(name=name, value=value))


@dataclass(frozen=True)
class CaseMix:
    """Who is sampled: population changes (``population``, fields of ``CohortParameters`` named
    in ``CASE_MIX_FIELDS``), then inclusion criteria applied patient by patient (a patient who
    fails one is not enrolled and another is drawn)."""

    population: dict = field(default_factory=dict, hash=False)
    min_hamd17: int | None = None
    max_prior_failures: int | None = None
    exclude_comorbidity: bool = False
    finding: str = "The scenario's population, everyone enrolled."
    citation: str = ""
    evidence: str = "not applicable"

    def __post_init__(self):
        _check_evidence(self.evidence)
        unknown = set(self.population) - set(CASE_MIX_FIELDS)
        if unknown:
            raise ValueError(NOT_A_CASE_MIX_FIELD.format(allowed=", ".join(CASE_MIX_FIELDS),
                                                         names=", ".join(sorted(unknown))))

    @property
    def has_criteria(self) -> bool:
        return (self.min_hamd17 is not None or self.max_prior_failures is not None
                or self.exclude_comorbidity)

    def eligible(self, patients) -> np.ndarray:
        """Which drawn patients meet the inclusion criteria."""
        keep = np.ones(len(patients), dtype=bool)
        if self.min_hamd17 is not None:
            keep &= patients["hamd17"].to_numpy() >= self.min_hamd17
        if self.max_prior_failures is not None:
            keep &= patients["prior_failures"].to_numpy() <= self.max_prior_failures
        if self.exclude_comorbidity:
            keep &= patients["psychiatric_comorbidity"].to_numpy() == 0
        return keep


@dataclass(frozen=True)
class Measurement:
    """What the site records of each patient's true values.

    CRP: ``recorded = true x crp_factor x exp(crp_ln_noise_sd x Z) + crp_offset_mg_l`` (Z
    standard normal), so ``crp_factor`` is the ratio of geometric means against a site with the
    reference assay. EEG: ``eeg_noise_sd`` (z units) of device noise added to both EEG columns,
    and ``eeg_missing_share`` of patients without a recording. ``genotyped=False``: the genetic
    columns are not measured. Not measured is NaN: neither the importer nor the models accept
    it, so a site with missing EEG or without genotyping needs a model variant without those
    columns (``no_genetic``) or imputation; no teaching site uses these two shifts.
    """

    crp_factor: float = 1.0
    crp_offset_mg_l: float = 0.0
    crp_ln_noise_sd: float = 0.0
    eeg_noise_sd: float = 0.0
    eeg_missing_share: float = 0.0
    genotyped: bool = True
    finding: str = "The reference assays and devices, every test done."
    citation: str = ""
    evidence: str = "not applicable"

    def __post_init__(self):
        _check_evidence(self.evidence)
        if not (self.crp_factor > 0 and np.isfinite(self.crp_factor)
                and np.isfinite(self.crp_offset_mg_l)):
            raise ValueError(BAD_CRP_CALIBRATION)
        _check_noise("crp_ln_noise_sd", self.crp_ln_noise_sd)
        _check_noise("eeg_noise_sd", self.eeg_noise_sd)
        _check_share("eeg_missing_share", self.eeg_missing_share)

    @property
    def shifts_crp(self) -> bool:
        return (self.crp_factor, self.crp_offset_mg_l, self.crp_ln_noise_sd) != (1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Outcome:
    """How response is recorded: ``misclassification`` is the share of patients whose recorded
    response is the opposite of their true one (a flipped responder is recorded as neither
    responding nor remitting, a flipped non-responder as responding without remission);
    ``response_threshold_shift`` (logits) raises the bar of the latent outcome, as an earlier
    ``assessment_week`` finds fewer responders yet. The truth columns keep the true outcome."""

    rater: str = "clinician"
    misclassification: float = 0.0
    assessment_week: int = 8
    response_threshold_shift: float = 0.0
    finding: str = "Response rated by a clinician at week 8, without error."
    citation: str = ""
    evidence: str = "not applicable"

    def __post_init__(self):
        _check_evidence(self.evidence)
        if self.rater not in RATERS:
            raise ValueError(BAD_RATER.format(allowed=", ".join(RATERS), rater=self.rater))
        _check_share("misclassification", self.misclassification)


@dataclass(frozen=True)
class Assignment:
    """Who gets which treatment: overrides of ``ASSIGNMENT_FIELDS`` of ``CohortParameters``
    (none: the scenario's assignment, randomised unless the scenario says otherwise)."""

    overrides: dict = field(default_factory=dict, hash=False)
    finding: str = "The scenario's assignment."
    citation: str = ""
    evidence: str = "not applicable"

    def __post_init__(self):
        _check_evidence(self.evidence)
        unknown = set(self.overrides) - set(ASSIGNMENT_FIELDS)
        if unknown:
            raise ValueError(NOT_AN_ASSIGNMENT_FIELD.format(
                allowed=", ".join(ASSIGNMENT_FIELDS), names=", ".join(sorted(unknown))))


@dataclass(frozen=True)
class Site:
    """A place a cohort is collected: a name (it seeds the site's draws in a multi-site
    cohort), a label and its four shifts; a site with no shifts gives the scenario's cohort."""

    name: str
    label: str
    case_mix: CaseMix = CaseMix()
    measurement: Measurement = Measurement()
    outcome: Outcome = Outcome()
    assignment: Assignment = Assignment()

    def __post_init__(self):
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(BAD_SITE_NAME.format(name=self.name))

    def population_parameters(self, parameters: CohortParameters) -> CohortParameters:
        """The parameters patients are drawn from (the response model uses ``parameters``)."""
        return parameters.replace(**self.case_mix.population)

    def assignment_parameters(self, parameters: CohortParameters) -> CohortParameters:
        return parameters.replace(**self.assignment.overrides)

    @property
    def shifts(self) -> dict:
        """Each shift by kind, for a page or a model card to cite."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("name", "label")}


def site_seed(random_state: int, site: Site) -> int:
    """A site's seed in a multi-site cohort: stable, from the cohort's seed and the site's name,
    so adding or reordering sites leaves every other site's patients unchanged."""
    sequence = np.random.SeedSequence([int(random_state), *site.name.encode()])
    return int(sequence.generate_state(1, np.uint64)[0])


def check_distinct_names(sites) -> None:
    names = [site.name for site in sites]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(DUPLICATE_SITE_NAMES.format(names=", ".join(repeated)))


# The teaching sites. Sizes are assumed where no single study gives them; directions are
# published (DOMAIN.md section 9).

_TRIAL_CITATION = ("Zimmerman 2002 (Am J Psychiatry: most clinic outpatients fail typical "
                   "efficacy-trial criteria); Wisniewski 2009 (Am J Psychiatry: 22% of STAR*D "
                   "would have met them)")
_CLINICIAN_PREFERENCE = get_scenario("confounding_by_indication")

TRIAL_SITE = Site(
    name="trial",
    label="Site A: randomised trial, strict inclusion",
    case_mix=CaseMix(
        min_hamd17=20, max_prior_failures=2, exclude_comorbidity=True,
        finding="Efficacy-trial inclusion: HAM-D17 of 20 or more, no psychiatric comorbidity, "
                "at most two prior failed treatments (the floor and the cap assumed, as is "
                "typical of phase III criteria).",
        citation=_TRIAL_CITATION, evidence="assumed",
    ),
    outcome=Outcome(
        rater="clinician", finding="Response rated by a blinded clinician (HAM-D17) at week 8.",
        citation="Trivedi 2006 (STAR*D)", evidence="published",
    ),
    assignment=Assignment(
        overrides={"assignment": "randomised"},
        finding="Randomised among the eligible arms.", evidence="not applicable",
    ),
)

CLINIC_SITE = Site(
    name="clinic",
    label="Site B: real-world clinic",
    case_mix=CaseMix(
        population={"ancestry_shares": {"EUR": 0.45, "AFR": 0.25, "EAS": 0.10, "AMR": 0.20},
                    "age_mean": 45.0, "age_sd": 15.0, "hamd_mean": 19.0, "hamd_sd": 6.0,
                    "comorbidity_rate": 0.65, "prior_failure_log_rate": -0.2},
        finding="Everyone who presents is treated: milder and more varied severity (HAM-D17 "
                "mean 19, SD 6), older (45, SD 15), more comorbidity (65%), more prior "
                "failures and a more diverse catchment (EUR 45%, AFR 25%, EAS 10%, AMR 20%); "
                "sizes assumed.",
        citation=_TRIAL_CITATION, evidence="assumed",
    ),
    outcome=Outcome(
        rater="self_report", misclassification=0.25,
        finding="Response from a self-report questionnaire: 25% of patients recorded the "
                "opposite of their true response (size assumed; self-report and clinician "
                "ratings of the same patients disagree, and give different effect sizes).",
        citation="Cuijpers 2010 (Clin Psychol Rev); Rush 2006 (QIDS-SR against HRSD)",
        evidence="assumed",
    ),
    assignment=Assignment(
        overrides={name: _CLINICIAN_PREFERENCE.overrides[name] for name in ASSIGNMENT_FIELDS},
        finding="Treatment by clinician preference, the assignment of the "
                "confounding_by_indication scenario: psychotherapy offered more often to milder "
                "patients and to those with fewer prior failures.",
        citation="Confounding by indication (scenario confounding_by_indication)",
        evidence="assumed",
    ),
)

REFERENCE_LAB_SITE = Site(name="lab_a", label="Site A: the reference CRP assay")

SHIFTED_LAB_SITE = Site(
    name="lab_b",
    label="Site B: a lab with another CRP assay",
    measurement=Measurement(
        crp_factor=1.4, crp_ln_noise_sd=0.3,
        finding="Another hs-CRP method: 40% higher readings on the same blood (ratio of "
                "geometric means) and more noise (0.3 on the log scale); sizes assumed, within "
                "the spread of automated hs-CRP methods.",
        citation="Roberts 2001 (Clin Chem: nine automated hs-CRP methods disagree)",
        evidence="assumed",
    ),
)


@dataclass(frozen=True)
class SiteScenario:
    """A multi-site lesson: the ``scenario`` whose true model holds at every site, its
    ``sites`` (the first is where models are developed), a teaching note, three questions and
    what to expect, as ``Scenario`` has."""

    name: str
    title: str
    teaching_note: str
    sites: tuple[Site, ...]
    scenario: str = "default"
    questions: tuple[str, ...] = ()
    expected: str = ""
    min_patients_per_site: int = 0


SITE_SCENARIOS: dict[str, SiteScenario] = {}


def _register(lesson: SiteScenario) -> None:
    get_scenario(lesson.scenario)
    check_distinct_names(lesson.sites)
    if len(lesson.questions) != N_QUESTIONS or not lesson.expected:
        raise ValueError(f"site scenario {lesson.name!r} needs {N_QUESTIONS} questions and an "
                         "expectation")
    SITE_SCENARIOS[lesson.name] = lesson


def get_site_scenario(name: str) -> SiteScenario:
    try:
        return SITE_SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SITE_SCENARIOS))
        raise ValueError(f"unknown site scenario {name!r}; known: {known}") from None


_register(
    SiteScenario(
        name="trial_to_clinic",
        title="From trial to clinic: models developed in a clean trial, used in a clinic",
        teaching_note=(
            "Site A is a randomised trial with strict inclusion (HAM-D17 of 20 or more, no "
            "comorbidity, at most two prior failures) and clinician-rated outcomes. Site B is a "
            "real-world clinic: milder and more varied patients, more comorbidity and prior "
            "failures, a more diverse catchment, self-reported outcomes (25% recorded the "
            "wrong way) and treatment by clinician preference. The biology is the same: every "
            "patient's true chance of response follows the same model at both sites. Chekroud "
            "2016 saw a STAR*D model fall from about 65% accuracy to chance in one CO-MED arm."
        ),
        sites=(TRIAL_SITE, CLINIC_SITE),
        questions=(
            "The true response model is identical at both sites: why do the trial's models "
            "score worse at the clinic?",
            "Which of the clinic's differences could recalibration on local patients repair, "
            "and which could it not?",
            "What would you have to know about a published model's trial before using it in "
            "your clinic?",
        ),
        expected=(
            "Every trial patient meets the inclusion criteria, while fewer than one in five of "
            "the clinic's patients would (Wisniewski 2009: 22% of STAR*D); clinic patients are "
            "milder and more comorbid, CBT goes to milder patients there (mean HAM-D17 about 4 "
            "points lower than on other first-line arms), and about 25% of recorded clinic "
            "outcomes disagree with the true ones. Models trained at the trial lose "
            "discrimination at the clinic (recorded outcomes are noisier) and their calibration "
            "moves: a logistic model per first-line arm trained on 20,000 trial patients lost "
            "0.06-0.08 AUC on average at the clinic (three seeds); the truth columns show the "
            "same true model at both sites."
        ),
    )
)

_register(
    SiteScenario(
        name="assay_shift",
        title="Assay shift: the same patients, another lab's CRP",
        teaching_note=(
            "Both sites draw from the same population and randomise treatment; only site B's "
            "lab measures CRP differently: 40% higher on the same blood and noisier. CRP "
            "lowers SSRI response (-0.30 logits per ln unit), so a model reading site B's "
            "higher values predicts its SSRI patients worse than they are. Nothing about the "
            "patients changed: only the number the model reads."
        ),
        sites=(REFERENCE_LAB_SITE, SHIFTED_LAB_SITE),
        questions=(
            "The patients and their true chances are the same at both sites: which predictions "
            "move, and by how much?",
            "Would you notice an assay change from the model's discrimination alone?",
            "Who should be told when a lab changes its assay, and what should they check?",
        ),
        expected=(
            "Site B's geometric mean CRP is about 1.4 times site A's, other variables and the "
            "response rates match. SSRI models under-predict response at site B by a few "
            "points (calibration in the large: ln 1.4 = 0.34 ln units of CRP at -0.30 logits "
            "each is 0.1 logits) while their AUC hardly moves; arms without a CRP effect "
            "hardly change. The shift is invisible to discrimination: only calibration "
            "reveals it."
        ),
    )
)
