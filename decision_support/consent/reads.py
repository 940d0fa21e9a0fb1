"""Reads: the consent rule turned into data, on top of plain cohort frames.

``gate`` is the rule (which consent classes a patient permits for a purpose, which model variant
reads only those); ``selectors`` applies it to stored records. This module is the one place where
that answer becomes the data a purpose may use, so every read of patient data for a purpose calls
one of these:

- ``consented_patient``: one patient, for a page, a packet or an API answer (withheld classes are
  absent);
- ``consented_cohort``: a cohort's aggregates (withheld values missing, with how many patients
  each class leaves out);
- ``consented_patients``: many patients' data at once, with the model variant each one's consent
  allows (the patient list's stored rankings);
- ``patients_permitting``: which patients' consent covers some classes (a list's clinical columns);
- ``model_training_permitted``, ``in_model_training`` and ``model_training_rows``: the patients
  model training may use, per model variant (a run's training set, whether a patient was in it,
  and one arm's training split again for refits);
- ``consented_export``: the patients an export may count, with only the exported variables.

Cohort frames come from ``cohorts.selectors.patients_frame``, which knows nothing of consent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import patients_frame
from decision_support.lib.vocabulary import (CONSENT_CLASS_OF, CONSENT_CLASSES, Purpose,
                                             dictionary_classes)
from models.features import VARIANTS
from models.training import split_arm
from synthetic_data import DATA_DICTIONARY

from .gate import model_variant_for, variant_permitted
from .selectors import (consent_permitted_classes, permitted_classes_by_patient,
                        permitted_classes_table)


def consent_classes_of(variables: Iterable[str]) -> frozenset[str]:
    """The consent classes covering some data-dictionary variables."""
    return frozenset(CONSENT_CLASS_OF[DATA_DICTIONARY[v].data_class] for v in variables)


def _columns_covered(frame: pd.DataFrame, consent_classes) -> list[str]:
    """The observed columns of a cohort frame that ``consent_classes`` cover."""
    covered = dictionary_classes(consent_classes)
    return [c for c in frame.columns
            if c in DATA_DICTIONARY and DATA_DICTIONARY[c].data_class in covered]


@dataclass(frozen=True)
class ConsentedPatient:
    """One patient's data as a purpose may use it: withheld classes are absent, not masked."""

    frame: pd.DataFrame  # one row, only the permitted columns
    permitted: frozenset[str]
    withheld: frozenset[str]
    variant: str | None  # the model variant that reads only permitted data; None: no prediction

    @property
    def values(self) -> pd.Series:
        return self.frame.iloc[0]


def consented_patient(patient, *, purpose: str,
                      now: dt.datetime | None = None) -> ConsentedPatient:
    """The one read of a patient's (a Patient or its pk) observed data for ``purpose``."""
    pk = getattr(patient, "pk", patient)
    permitted = consent_permitted_classes(pk, purpose=purpose, now=now)
    frame = patients_frame(Patient.objects.filter(pk=pk))
    frame = frame[["pseudonym", *_columns_covered(frame, permitted)]]
    return ConsentedPatient(frame=frame, permitted=permitted,
                            withheld=frozenset(CONSENT_CLASSES) - permitted,
                            variant=model_variant_for(permitted))


@dataclass(frozen=True)
class ConsentedCohort:
    """A cohort's observed data as a purpose may use it: each patient's values of a consent class
    they did not permit are absent (NaN), ``left_out`` counts those patients per class, and
    ``permitted`` is the consent read (``permitted_classes_table``) that decided it."""

    frame: pd.DataFrame
    left_out: dict[str, int]
    permitted: pd.DataFrame


def _withheld_masked(frame: pd.DataFrame, permitted: pd.DataFrame) -> dict[str, int]:
    """Blank (NaN) each patient's values of the consent classes they did not permit
    (``permitted``: ``permitted_classes_table`` of the frame's patients), in place; returns how
    many patients each class leaves out."""
    left_out = {}
    for consent_class in CONSENT_CLASSES:
        allowed = permitted[consent_class].reindex(frame.index, fill_value=False)
        left_out[consent_class] = int((~allowed).sum())
        for name in _columns_covered(frame, {consent_class}):
            frame[name] = frame[name].where(allowed)
    return left_out


def consented_cohort(cohort, *, purpose: str, now: dt.datetime | None = None) -> ConsentedCohort:
    """The observed data of every patient of ``cohort`` for ``purpose`` (one consent query for the
    whole cohort), for aggregates."""
    patients = Patient.objects.filter(cohort=cohort)
    frame = patients_frame(patients)
    permitted = permitted_classes_table(patients, purpose=purpose, now=now)
    return ConsentedCohort(frame=frame, left_out=_withheld_masked(frame, permitted),
                           permitted=permitted)


@dataclass(frozen=True)
class ConsentedPatients:
    """Several patients' observed data as a purpose may use it (withheld values NaN, as in
    ``ConsentedCohort``), with the model variant each patient's consent allows (None: none)."""

    frame: pd.DataFrame
    variants: dict[int, str | None]


def consented_patients(patients, *, purpose: str,
                       now: dt.datetime | None = None) -> ConsentedPatients:
    """The observed data of a Patient queryset for ``purpose`` (one consent query), for computing
    many patients' predictions at once: each patient's rows go to the variant named for them."""
    frame = patients_frame(patients)
    permitted = permitted_classes_by_patient(frame.index, purpose=purpose, now=now)
    _withheld_masked(frame, pd.DataFrame(
        {c: [c in permitted[pk] for pk in frame.index] for c in CONSENT_CLASSES},
        index=frame.index, dtype=bool))
    return ConsentedPatients(frame=frame,
                             variants={pk: model_variant_for(permitted[pk]) for pk in frame.index})


def patients_permitting(patient_ids: Iterable[int], *, needs: Iterable[str], purpose: str,
                        now: dt.datetime | None = None) -> frozenset[int]:
    """The pks among ``patient_ids`` whose consent for ``purpose`` covers every class in
    ``needs`` (one consent query)."""
    needs = frozenset(needs)
    permitted = permitted_classes_by_patient(patient_ids, purpose=purpose, now=now)
    return frozenset(pk for pk, classes in permitted.items() if needs <= classes)


def model_training_permitted(patient_ids: Iterable[int], *,
                             now: dt.datetime | None = None) -> dict[str, pd.Series]:
    """Per model variant, which of ``patient_ids`` model training may use (a boolean Series on
    them): those whose consent to model training covers every class the variant reads."""
    ids = pd.Index(list(patient_ids))
    permitted = permitted_classes_by_patient(ids, purpose=Purpose.MODEL_TRAINING, now=now)
    return {variant: pd.Series([variant_permitted(permitted[pk], variant) for pk in ids],
                               index=ids, dtype=bool)
            for variant in VARIANTS}


def in_model_training(classes) -> bool:
    """Whether a patient whose consent to model training permits ``classes`` is in a run's
    training set: some model variant reads only those classes."""
    return model_variant_for(classes) is not None


def model_training_rows(*, cohort_id: int, arm: str, variant: str, seed: int, site: str = "",
                        now: dt.datetime | None = None) -> pd.DataFrame:
    """One arm's training patients of a run trained with ``seed``, for ``variant``: the run's
    stratified split (``models.training.split_arm``) of the patients stored now (at ``site``
    alone, a multi-site run's development site, when given), then those whose consent to model
    training covers the variant now. Empty when too few patients are left (erasures since the
    run) to split as training did."""
    at_site = {"site": site} if site else {}
    received = patients_frame(Patient.objects.filter(cohort=cohort_id, arm=arm, **at_site))
    try:
        train, _ = split_arm(received, seed=seed)
    except ValueError:
        return received.iloc[:0]
    return train[model_training_permitted(train.index, now=now)[variant].to_numpy()]


def consented_export(cohort, variables: Iterable[str], *, purpose: str,
                 now: dt.datetime | None = None) -> pd.DataFrame:
    """The patients of ``cohort`` whose consent for ``purpose`` covers every class of
    ``variables``, with only those variables (one consent query for the whole cohort)."""
    variables = list(variables)
    frame = patients_frame(Patient.objects.filter(cohort=cohort))
    keep = patients_permitting(frame.index, needs=consent_classes_of(variables),
                               purpose=purpose, now=now)
    return frame.loc[[pk for pk in frame.index if pk in keep], variables]
