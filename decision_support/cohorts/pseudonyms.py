"""Patient pseudonyms: a keyed HMAC-SHA256, with the key from the environment (never the DB)."""

import hashlib
import hmac

from django.conf import settings

PSEUDONYM_LENGTH = 24  # hex characters: 96 bits


def patient_pseudonym(cohort_uid: str, patient_id: int) -> str:
    message = f"{cohort_uid}:{patient_id}".encode()
    digest = hmac.new(settings.PSEUDONYM_KEY.encode(), message, hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_LENGTH]
