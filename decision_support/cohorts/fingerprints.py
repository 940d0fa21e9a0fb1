"""A cohort's identity is its data, not its row: the fingerprint of the data a cohort holds.

Two cohorts with the same fingerprint are copies of the same patients: erasures, consent
decisions and the privacy budget attach to the fingerprint, so re-creating a cohort from its
seed, importing the same file again or importing a generated cohort's CSV cannot undo them.
The fingerprint digests the patients' data itself, not the parameters that drew it: a new
generator version that draws the same patients (as 1.1 did for the default scenario) keeps
the identity. Never change how it is computed: stored fingerprints would no longer match.
"""

import hashlib

import pandas as pd


def data_fingerprint(patients: pd.DataFrame) -> str:
    """SHA-256 (hex) of a patients frame (generated, or validated by
    ``synthetic_data.read_patients_csv``, which gives the generator's dtypes) in patient-id
    order: the same rows in any order are the same data."""
    canonical = patients.sort_values("patient_id").to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(b"patients\n" + canonical.encode()).hexdigest()
