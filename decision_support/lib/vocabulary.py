"""The vocabulary every app shares: consent classes and purposes of use, and the data-dictionary
classes each consent class covers. The rules that apply it live in ``consent`` (statuses,
provisions and the gate in ``consent.constants`` and ``consent.gate``).

Purposes use HL7 v3 PurposeOfUse codes (``http://terminology.hl7.org/CodeSystem/v3-ActReason``)
where one fits: ``TRAIN`` (training, used here for education and demonstration) and ``HRESCH``
(healthcare research, used for research exports). HL7 has no code for training a machine-learning
model; ``MLTRAIN`` is a local code of this project (the nearest HL7 concept, ``SYSDEV``, system
development, is broader). Give it a local code system URI if it is ever exchanged as FHIR.
"""

from django.db import models

from synthetic_data import DATA_CLASSES


class ConsentClass(models.TextChoices):
    """What a patient consents to, one class per storage table (see ``cohorts.models``)."""

    CLINICAL = "clinical", "Demographic and clinical data"
    BIOMARKER = "biomarker", "Biomarkers"
    GENETIC = "genetic", "Genetic and epigenetic data"


class Purpose(models.TextChoices):
    EDUCATION = "TRAIN", "Education and demonstration"
    MODEL_TRAINING = "MLTRAIN", "Model training"
    RESEARCH_EXPORT = "HRESCH", "Research export"


CONSENT_CLASSES: tuple[str, ...] = tuple(ConsentClass.values)
PURPOSES: tuple[str, ...] = tuple(Purpose.values)

# The consent class covering each data class of the data dictionary. Treatment and outcome (the
# assigned arm, response, remission) are clinical data too. Identifiers and the simulation's ground
# truth are not a patient's observed data and have no consent class.
CONSENT_CLASS_OF: dict[str, str] = {
    "demographic": ConsentClass.CLINICAL,
    "clinical": ConsentClass.CLINICAL,
    "treatment": ConsentClass.CLINICAL,
    "outcome": ConsentClass.CLINICAL,
    "biomarker": ConsentClass.BIOMARKER,
    "genetic": ConsentClass.GENETIC,
    "epigenetic": ConsentClass.GENETIC,
}
assert set(CONSENT_CLASS_OF) <= set(DATA_CLASSES)
assert set(CONSENT_CLASS_OF.values()) == set(CONSENT_CLASSES)


def dictionary_classes(consent_classes) -> frozenset[str]:
    """The data-dictionary classes covered by some consent classes (``genetic`` -> genetic and
    epigenetic)."""
    return frozenset(d for d, c in CONSENT_CLASS_OF.items() if c in consent_classes)
