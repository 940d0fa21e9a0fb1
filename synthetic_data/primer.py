"""The primer: each seed topic of the course text, what it is in plain words and where it lives in
the product (variables, arms, scenarios, pages), and the brain systems of the primer's figure.

The variables and arms of a topic are read from ``biology`` (each entry names its topic), never
listed twice; a topic the simulation leaves out says so in ``not_simulated``, with why. Page
names are Django URL names the primer page turns into links. Plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from .biology import ARM_BIOLOGY, BIOLOGY, TOPICS
from .dictionary import DATA_DICTIONARY
from .parameters import ARMS
from .scenarios import SCENARIOS
from .sites import SITE_SCENARIOS

# Variables a page may name: observed ones (the simulation's truth stays on the pages that may
# show it).
UNOBSERVED_CLASSES = ("ground_truth", "identifier")


@dataclass(frozen=True)
class NotSimulated:
    name: str
    why: str


@dataclass(frozen=True)
class Topic:
    name: str  # one of biology.TOPICS
    summary: str
    scenarios: tuple[str, ...] = ()
    pages: tuple[tuple[str, str], ...] = ()  # (label, URL name)
    not_simulated: tuple[NotSimulated, ...] = ()

    def __post_init__(self):
        assert self.name in TOPICS, self.name
        unknown = set(self.scenarios) - set(SCENARIOS) - set(SITE_SCENARIOS)
        assert not unknown, unknown

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(b.name for b in BIOLOGY.values() if b.topic == self.name
                     and DATA_DICTIONARY[b.name].data_class not in UNOBSERVED_CLASSES)

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(a.name for a in ARM_BIOLOGY.values() if a.topic == self.name)


@dataclass(frozen=True)
class Structure:
    """A system drawn in the primer's figure, with the variables and arms that touch it."""

    key: str
    label: str
    role: str
    variables: tuple[str, ...] = ()
    arms: tuple[str, ...] = ()

    def __post_init__(self):
        assert set(self.variables) <= set(DATA_DICTIONARY), self.variables
        assert all(DATA_DICTIONARY[v].data_class not in UNOBSERVED_CLASSES
                   for v in self.variables), self.variables
        assert set(self.arms) <= set(ARMS), self.arms


_DICTIONARY = ("The data dictionary: every variable and how each treatment works", "data_dictionary")
_MODELS = ("Models: what each model credits, against the truth", "models_home")
_NEW_COHORT = ("A cohort from a scenario", "cohort_create")

PRIMER: tuple[Topic, ...] = (
    Topic(
        "neurotransmitter systems",
        "Serotonin, norepinephrine and dopamine are monoamines: small groups of nerve cells in the "
        "brainstem and midbrain (the raphe nuclei for serotonin, the locus coeruleus for "
        "norepinephrine, the ventral tegmental area for dopamine) send fibres across much of the "
        "brain. Most antidepressants raise a monoamine in the synapse by blocking its reuptake "
        "within hours, yet mood improves over weeks: the chemistry starts something slower. "
        "Glutamate, the main excitatory transmitter, is esketamine's target.",
        scenarios=("candidate_gene",),
        pages=(_DICTIONARY,),
    ),
    Topic(
        "circuits and brain regions",
        "Mood is regulated by a network rather than one place: the prefrontal cortex plans and "
        "reins in emotion, the anterior cingulate monitors conflict and feeling, the amygdala "
        "flags threat, the hippocampus stores memories and helps switch off the stress response, "
        "and the striatum weighs reward. Group studies find differences in these regions in "
        "depression; few measures of them tell anything about one patient.",
        scenarios=("decoy_biomarker",),
        pages=(_DICTIONARY, _MODELS),
        not_simulated=(
            NotSimulated("The amygdala and the striatum",
                         "Drawn in the figure, with no variable: the published findings this "
                         "cohort mirrors give no measure of them that predicts a patient's "
                         "response."),
        ),
    ),
    Topic(
        "genetics and epigenetics",
        "Genome-wide association studies (GWAS) scan millions of common DNA variants in many "
        "people; depression is influenced by thousands of them, each with a tiny effect, which a "
        "polygenic score adds up. Single pharmacogenes such as CYP2C19 and CYP2D6 change how fast "
        "the liver clears a drug. Epigenetic marks such as DNA methylation change how genes are "
        "read without changing the sequence, and can record experience such as early stress.",
        scenarios=("prs_portability", "underrepresented", "candidate_gene", "consent_selection"),
        pages=(_DICTIONARY, _NEW_COHORT),
    ),
    Topic(
        "neuroplasticity and the stress response (HPA axis)",
        "Stress sets off the hypothalamic-pituitary-adrenal (HPA) axis: the hypothalamus signals "
        "the pituitary, the pituitary the adrenal glands, which release cortisol; cortisol then "
        "switches the axis off again. In some depressed patients that feedback is weak, which the "
        "dexamethasone suppression test shows. Neuroplasticity, the brain's capacity to change "
        "its connections, is supported by growth factors such as BDNF and is thought to be part "
        "of how treatments work.",
        pages=(_DICTIONARY,),
    ),
    Topic(
        "biomarkers for precision psychiatry",
        "A biomarker is a measurement that indicates a biological state: from blood (CRP, IL-6), "
        "brain activity (EEG), imaging or genes. Precision psychiatry hopes to use them to choose "
        "a treatment per patient; none is yet validated for choosing an antidepressant in routine "
        "care, and a marker measured differently at another lab can move a model's predictions.",
        scenarios=("decoy_biomarker", "assay_shift", "trial_to_clinic"),
        pages=(_DICTIONARY, _MODELS, _NEW_COHORT),
    ),
    Topic(
        "cognitive neuroscience behind CBT",
        "Cognitive behavioural therapy rests on the cognitive model: how a person appraises what "
        "happens shapes how they feel and act, and appraisals can be examined and changed. "
        "Imaging studies suggest that therapy engages the prefrontal regulation of emotion, while "
        "medication acts more directly on emotional reactivity (DeRubeis 2008).",
        scenarios=("confounding_by_indication",),
        pages=(_DICTIONARY,),
    ),
    Topic(
        "neurotechnology",
        "Neurotechnology acts on the brain's electrical activity directly. Repetitive "
        "transcranial magnetic stimulation (rTMS) uses magnetic pulses from a coil over the scalp "
        "to stimulate the left dorsolateral prefrontal cortex; it is offered when medication has "
        "not helped.",
        pages=(_DICTIONARY,),
        not_simulated=(
            NotSimulated("Deep brain stimulation (DBS)",
                         "Electrodes implanted deep in the brain: experimental for depression, "
                         "given to few patients, and two randomised trials found no benefit over "
                         "sham stimulation (Dougherty 2015; Holtzheimer 2017); there is no "
                         "response rate to mirror."),
            NotSimulated("Neurofeedback",
                         "People learn to change a brain signal shown to them as they go; for "
                         "depression the trials are small and the evidence weak, too little to "
                         "ground a simulated effect."),
            NotSimulated("Brain-computer interfaces",
                         "Research devices that read or write brain signals; no treatment of "
                         "depression with them has a trial to mirror."),
        ),
    ),
    Topic(
        "clinical presentation",
        "What a clinician sees and records: severity on a rating scale (HAM-D17), how long the "
        "episode has lasted, anxious features, other psychiatric conditions and how many "
        "treatments have already failed. Most published response models start from them, "
        "and so does every model here.",
        scenarios=("label_bias", "random_labels"),
        pages=(_DICTIONARY, ("Cohorts: the patients of each cohort", "cohort_list")),
    ),
)

STRUCTURES: tuple[Structure, ...] = (
    Structure("pfc", "Prefrontal cortex",
              "Plans, holds information in mind and helps regulate emotion. rTMS stimulates its "
              "left dorsolateral part; CBT is thought to work partly through it.",
              arms=("rtms", "cbt")),
    Structure("acc", "Anterior cingulate cortex",
              "Monitors conflict and emotion. Its rostral part's resting theta activity, recorded "
              "by EEG, has predicted a better response to antidepressants (Pizzagalli 2018).",
              variables=("racc_theta_z",)),
    Structure("amygdala", "Amygdala",
              "Flags threat and emotional importance; more reactive in depression and anxiety in "
              "group studies. No variable here."),
    Structure("hippocampus", "Hippocampus",
              "Stores memories and helps switch off the stress response; smaller on average in "
              "long-standing depression. Its volume is a decoy in this cohort: tied to illness "
              "burden, with no effect on response.",
              variables=("hippocampal_volume_mm3",)),
    Structure("striatum", "Striatum",
              "Weighs reward and drives motivation, fed by dopamine from the midbrain; a blunted "
              "response to reward goes with anhedonia. Bupropion raises dopamine.",
              arms=("bupropion",)),
    Structure("hpa", "HPA axis: hypothalamus, pituitary and adrenal glands",
              "The stress response: cortisol from the adrenal glands switches it off again. "
              "Weak feedback shows as dexamethasone non-suppression; early maltreatment and "
              "FKBP5 methylation are tied to it.",
              variables=("dst_nonsuppression", "childhood_maltreatment", "fkbp5_methylation")),
    Structure("monoamines", "Monoamine pathways",
              "Serotonin from the raphe nuclei, norepinephrine from the locus coeruleus and "
              "dopamine from the ventral tegmental area reach much of the brain; most "
              "antidepressants block their reuptake.",
              variables=("httlpr_genotype",), arms=("ssri", "snri", "bupropion")),
)
