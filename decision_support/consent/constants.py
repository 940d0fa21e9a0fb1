"""The consent record's own codes: statuses, provisions and the consent text version.

The vocabulary other apps share (consent classes, purposes) is ``decision_support.lib.vocabulary``.
"""

from django.db import models

# The text a patient agreed to; every consent record stores the version current when written.
CONSENT_TEXT_VERSION = "2026-11-v1"
# Who recorded a cohort's seeded consent (what the generator drew): no person.
SEED_RECORDED_BY = "demo seed"


class Status(models.TextChoices):
    """FHIR Consent.status, reduced to the two codes this app writes; only active is enforced."""

    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class Provision(models.TextChoices):
    """FHIR Consent.provision.type (R4) / Consent.decision (R5)."""

    PERMIT = "permit", "Permit"
    DENY = "deny", "Deny"
