"""Small plain helpers shared by the apps: no models, no app config, no views.

- ``appendonly``: the base of every append-only table (consent, pause, privacy ledger, audit log).
- ``charts``: chart specifications, each with the table a page shows beside it.
- ``csv_safety``: the one CSV writer for web downloads (spreadsheet formulas neutralised).
- ``glossary``: every abbreviation and technical term the pages use, with its definition and
  source; the glossary page shows it and the ``glossed`` template filter links terms to it.
- ``suppression``: the CMS cell-size rule (counts 1-10 read "<11") with complementary
  suppression; the one place every aggregate table and chart goes through.
- ``vocabulary``: consent classes, purposes of use and the data classes each consent class covers.

Modules here import nothing from the apps, so every app may import them.
"""
