"""Privacy of aggregates: what a page or a download may reveal about small groups of patients.

- ``aggregates``: differentially private aggregates computed with OpenDP (pure functions).
- ``models``: ``PrivacySpend``, the append-only ledger of privacy budget spent per user and
  cohort data (its fingerprint: every copy of the same data shares one budget).
- ``selectors`` / ``services``: the consented export frame and budget reads; the export itself
  (budget check, spend, audit entry and CSV in one transaction).
- ``views`` / ``forms``: the export page.

Small-cell suppression and the CSV writer, which every app uses, are ``decision_support.lib``'s
``suppression`` and ``csv_safety``.
"""
