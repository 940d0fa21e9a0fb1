"""Keyed identifiers of patients: HMAC-SHA256 with the key from the environment (never the DB).

The one place that derives them. A pseudonym names a patient within one stored cohort (row);
a place key names the patient's place in the cohort's data (its fingerprint), the same in every
copy of that data, so that erasure and consent decisions outlive the copy they were made in.
"""

import hmac

from django.conf import settings

PSEUDONYM_LENGTH = 24  # hex characters: 96 bits


def _keyed(message: str) -> str:
    return hmac.digest(settings.PSEUDONYM_KEY.encode(), message.encode(), "sha256").hex()


def patient_pseudonym(cohort_uid: str, patient_id: int) -> str:
    return _keyed(f"{cohort_uid}:{patient_id}")[:PSEUDONYM_LENGTH]


def patient_place_key(fingerprint: str, patient_id: int | str) -> str:
    """The place of patient ``patient_id`` in the data with ``fingerprint`` (64 hex); cohorts
    stored before fingerprints existed use the pseudonym as the id (see the cohorts migration
    0002)."""
    return _keyed(f"place:{fingerprint}:{patient_id}")
