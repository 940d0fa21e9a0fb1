"""Privacy of aggregates: what a page or a download may reveal about small groups of patients.

- ``suppression``: the CMS cell-size rule (counts 1-10 read "<11") with complementary
  suppression; the one place every aggregate table and chart goes through.
- ``csv_safety``: the one CSV writer for web downloads (spreadsheet formulas neutralised).
- ``aggregates``: differentially private aggregates computed with OpenDP (pure functions).
- ``models``: ``PrivacySpend``, the append-only ledger of privacy budget spent per user and
  cohort data (its fingerprint: every copy of the same data shares one budget).
- ``selectors`` / ``services``: the consented export frame and budget reads; the export itself
  (budget check, spend, audit entry and CSV in one transaction).
- ``views`` / ``forms``: the export page.
"""
