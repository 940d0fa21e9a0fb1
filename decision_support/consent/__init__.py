"""Consent, modelled on FHIR Consent: who permitted or denied which data class for which purpose.

- ``constants``: the consent classes, purposes (HL7 purpose-of-use codes), statuses, provisions
  and the current consent-text version.
- ``models``: ``ConsentRecord``, an append-only history of consent decisions; ``PlaceConsent``,
  the decisions people recorded, kept by their place in the cohort's data for later copies;
  ``Tombstone``.
- ``gate``: ``permitted_classes``, the one pure rule that decides what may be used (and
  ``permitted_table``, the same rule for a whole cohort at once), and ``model_variant_for``, the
  model variant that uses only permitted data.
- ``selectors``: the gate applied to stored records (one patient, many in one query, or a
  cohort's as a table).
- ``reads``: the one module turning the gate's answer into data: one patient, a cohort's
  aggregates, lists, the model-training set, exports.
- ``services``: ``consent_give``, ``consent_withdraw``, the demo mix ``consent_seed_cohort``,
  ``consent_carry_over`` (earlier copies' decisions into a new copy of the same data) and
  ``consent_restore_seeded`` (a course reset's way back to the seed).
"""
