"""A cohort's identity is its data, not its row: the fingerprint of the data a cohort holds.

Two cohorts with the same fingerprint are copies of the same patients: erasures, consent
decisions and the privacy budget attach to the fingerprint, so re-creating a cohort from its
seed (or importing the same file again) cannot undo them. Never change how a fingerprint is
computed: stored fingerprints would no longer match their data.
"""

import hashlib
import json

import pandas as pd


def generated_fingerprint(*, scenario: str, seed: int, n_patients: int,
                          generator_version: str) -> str:
    """SHA-256 (hex) of what determines a generated cohort: the generator draws the same
    patients from the same scenario, seed, requested size and generator version."""
    identity = {"source": "generated", "scenario": scenario, "seed": int(seed),
                "n_patients": int(n_patients), "generator_version": generator_version}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def imported_fingerprint(patients: pd.DataFrame) -> str:
    """SHA-256 (hex) of validated imported data (``synthetic_data.read_patients_csv``), in
    patient-id order: the same file, or the same rows in another order, is the same cohort."""
    canonical = patients.sort_values("patient_id").to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(b"imported\n" + canonical.encode()).hexdigest()
