"""Pharmacogenomic guidance as rules: CPIC 2023 and DPWG summaries for CYP2C19 and CYP2D6.

These are teaching summaries of published guidelines, NOT dosing advice, and they are not a model
prediction. They sit beside the treatment-response model to show what rule-based guidance says for a
patient's metaboliser phenotype; nothing here is learned from data, and nothing here should be used
to treat a real patient. Read the guidelines themselves (and the drug's label) for any clinical use.

Scope: CYP2C19 x escitalopram, citalopram, sertraline; CYP2D6 x paroxetine, venlafaxine. Each rule
names the study arm the drug belongs to (the SSRI arm for the first four, the SNRI arm for
venlafaxine), the guideline's action in paraphrase, the CPIC strength where known, the source and a
short citation.

How to read the table:

- CPIC grades recommendations strong / moderate / optional / no recommendation. Where the grade of
  the 2023 recommendation could not be checked here, ``strength`` is None and ``note`` says so,
  rather than guessing.
- DPWG does not use CPIC's grades (it scores evidence level and clinical impact instead), so DPWG
  rules carry no strength. DPWG publishes poor, intermediate and ultrarapid metaboliser rows only;
  normal metabolisers are its reference, and it has no separate rapid (CPIC ``RM``, *1/*17)
  category in these guidelines, so there are no DPWG rules for NM or RM.
- CPIC 2023 combines CYP2C19 with CYP2B6 for sertraline. This table uses CYP2C19 alone, which
  matches CPIC's rows for a CYP2B6 normal metaboliser; the generator does not simulate CYP2B6.
- Phenotypes are taken as given. Real reports need genotype-to-phenotype translation, and drug
  interactions can turn a genetic normal metaboliser into a functional poor one (phenoconversion).

Plain Python: no Django, no scikit-learn, no third-party imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthetic_data import ARMS

__all__ = [
    "CITATIONS",
    "CYP2C19_PHENOTYPES",
    "CYP2D6_PHENOTYPES",
    "DRUG_ARMS",
    "GENE_DRUGS",
    "GUIDANCE_DISCLAIMER",
    "Guidance",
    "PGX_RULES",
    "SOURCES",
    "STRENGTHS",
    "pgx_guidance",
]

GUIDANCE_DISCLAIMER = (
    "Rule-based summary of published pharmacogenomic guidelines (CPIC 2023, DPWG), shown beside the "
    "model: it is not a model prediction and was not learned from this cohort. Teaching material "
    "only, not for clinical use and not dosing advice; consult the guidelines and the drug label."
)

# Same codes and order as synthetic_data.parameters (a test keeps them in step); repeated here so
# this module imports nothing.
CYP2C19_PHENOTYPES = ("PM", "IM", "NM", "RM", "UM")
CYP2D6_PHENOTYPES = ("PM", "IM", "NM", "UM")
_PHENOTYPES = {"CYP2C19": CYP2C19_PHENOTYPES, "CYP2D6": CYP2D6_PHENOTYPES}

GENE_DRUGS = {
    "CYP2C19": ("citalopram", "escitalopram", "sertraline"),
    "CYP2D6": ("paroxetine", "venlafaxine"),
}
DRUG_ARMS = {
    "citalopram": "ssri",
    "escitalopram": "ssri",
    "sertraline": "ssri",
    "paroxetine": "ssri",
    "venlafaxine": "snri",
}
# Result order: arms as in synthetic_data.ARMS, then drug name, then source.

STRENGTHS = ("strong", "moderate", "optional", "no recommendation")
SOURCES = ("CPIC 2023", "DPWG")

CPIC_2023 = "CPIC 2023"
DPWG = "DPWG"

CITATIONS = {
    "cpic_2023": (
        "Bousman CA, Stevenson JM, Ramsey LB, et al. Clinical Pharmacogenetics Implementation "
        "Consortium (CPIC) guideline for CYP2D6, CYP2C19, CYP2B6, SLC6A4, and HTR2A genotypes and "
        "serotonin reuptake inhibitor antidepressants. Clin Pharmacol Ther. 2023;114(1):51-68. "
        "doi:10.1002/cpt.2903"
    ),
    "dpwg_ssri": (
        "Brouwer JMJL, Nijenhuis M, et al. Dutch Pharmacogenetics Working Group (DPWG) guideline "
        "for the gene-drug interaction between CYP2C19 and CYP2D6 and SSRIs. Eur J Hum Genet. "
        "2022;30(10):1114-1120 (online 2021). doi:10.1038/s41431-021-01004-7"
    ),
    "dpwg_venlafaxine": (
        "Swen JJ, Nijenhuis M, de Boer A, et al. Pharmacogenetics: from bench to byte - an update "
        "of guidelines. Clin Pharmacol Ther. 2011;89(5):662-673. doi:10.1038/clpt.2011.34; "
        "recommendation as kept current in the KNMP/DPWG pharmacogenetic recommendations "
        "(venlafaxine and CYP2D6)"
    ),
}


@dataclass(frozen=True)
class Guidance:
    """One guideline rule for one gene, phenotype and drug; a row of ``PGX_RULES``."""

    gene: str
    phenotype: str
    drug: str
    arm: str
    action: str
    strength: str | None
    source: str
    citation: str
    note: str = ""


def _cpic(gene: str, phenotype: str, drug: str, action: str, strength: str | None,
          note: str = "") -> Guidance:
    return Guidance(gene, phenotype, drug, DRUG_ARMS[drug], action, strength, CPIC_2023,
                    CITATIONS["cpic_2023"], note)


def _dpwg(gene: str, phenotype: str, drug: str, action: str, note: str = "",
          citation: str = "dpwg_ssri") -> Guidance:
    return Guidance(gene, phenotype, drug, DRUG_ARMS[drug], action, None, DPWG,
                    CITATIONS[citation], note)


_STANDARD_START = "Standard dosing: initiate therapy with the recommended starting dose."
_DPWG_NO_ACTION = (
    "No action required: DPWG judges a therapy adjustment not required or not beneficial for "
    "this phenotype."
)
_STRENGTH_UNCHECKED = "The CPIC 2023 strength of this recommendation could not be checked here."


def _cpic_citalopram_escitalopram(drug: str) -> list[Guidance]:
    qt = (
        " For citalopram the FDA label caps the dose at 20 mg/day in CYP2C19 poor metabolisers "
        "(QT prolongation)." if drug == "citalopram" else ""
    )
    return [
        _cpic(
            "CYP2C19", "PM", drug,
            "Consider a clinically appropriate antidepressant not predominantly metabolised by "
            f"CYP2C19. If {drug} is clinically appropriate, consider a lower starting dose, slower "
            "titration and a 50% lower maintenance dose than for normal metabolisers.",
            "strong",
            "Strength as in the CPIC database record for the 2023 guideline (the 2015 guideline "
            "rated its poor-metaboliser advice moderate)." + qt,
        ),
        _cpic(
            "CYP2C19", "IM", drug,
            "Initiate therapy with the recommended starting dose; consider a slower titration "
            "schedule and a lower maintenance dose than for normal metabolisers.",
            None,
            "Wording recalled from CPIC 2023 (the 2015 guideline advised standard dosing for "
            "intermediate metabolisers). " + _STRENGTH_UNCHECKED,
        ),
        _cpic("CYP2C19", "NM", drug, _STANDARD_START, "strong"),
        _cpic(
            "CYP2C19", "RM", drug,
            "Initiate therapy with the recommended starting dose. If response to recommended "
            "maintenance dosing is inadequate, consider titrating to a higher maintenance dose or "
            "switching to a clinically appropriate antidepressant not predominantly metabolised "
            "by CYP2C19.",
            None,
            "The 2015 guideline advised considering an alternative drug for rapid metabolisers "
            "(moderate); CPIC 2023 moved to a standard start. " + _STRENGTH_UNCHECKED,
        ),
        _cpic(
            "CYP2C19", "UM", drug,
            "Consider a clinically appropriate alternative antidepressant not predominantly "
            f"metabolised by CYP2C19. If {drug} is clinically appropriate and standard maintenance "
            "dosing is not effective enough, consider titrating to a higher maintenance dose.",
            None,
            "Alternative-first advice as in 2015 (then rated moderate); the 2023 wording is "
            "recalled rather than quoted. " + _STRENGTH_UNCHECKED,
        ),
    ]


_DPWG_VENLAFAXINE_REDUCED = (
    "Avoid venlafaxine (alternatives not, or less, metabolised by CYP2D6 include duloxetine, "
    "mirtazapine, citalopram and sertraline). If it cannot be avoided and side effects occur, "
    "reduce the dose and adjust it to clinical response or to venlafaxine plus "
    "O-desmethylvenlafaxine plasma concentrations."
)
_DPWG_VENLAFAXINE_NOTE = "DPWG states that no well-founded dose reduction can be given from the literature."
_CPIC_SERTRALINE_NOTE = (
    "CPIC 2023 gives sertraline rows for CYP2C19 and CYP2B6 together; this row assumes a CYP2B6 "
    "normal metaboliser."
)

PGX_RULES: tuple[Guidance, ...] = (
    # --- CYP2C19: citalopram and escitalopram ---------------------------------------------------
    *_cpic_citalopram_escitalopram("citalopram"),
    *_cpic_citalopram_escitalopram("escitalopram"),
    _dpwg(
        "CYP2C19", "PM", "citalopram",
        "Do not exceed 50% of the standard maximum dose: 20 mg/day (tablets; 16 mg drops) for "
        "adults under 65, 10 mg/day (8 mg drops) from 65.",
    ),
    _dpwg(
        "CYP2C19", "IM", "citalopram",
        "Do not exceed 75% of the standard maximum dose: 30 mg/day (tablets; 22 mg drops) for "
        "adults under 65, 15 mg/day (10 mg drops) from 65.",
    ),
    _dpwg(
        "CYP2C19", "UM", "citalopram", _DPWG_NO_ACTION,
        "Contrast with CPIC 2023, which suggests considering an alternative for ultrarapid "
        "metabolisers.",
    ),
    _dpwg(
        "CYP2C19", "PM", "escitalopram",
        "Do not exceed 50% of the standard maximum dose: 10 mg/day for adults under 65, 5 mg/day "
        "from 65.",
    ),
    _dpwg(
        "CYP2C19", "IM", "escitalopram",
        "Do not exceed 75% of the standard maximum dose: 15 mg/day for adults under 65, 7.5 mg/day "
        "from 65.",
    ),
    _dpwg(
        "CYP2C19", "UM", "escitalopram",
        "Avoid escitalopram. Antidepressants not, or less, metabolised by CYP2C19 include, for "
        "example, paroxetine and fluvoxamine.",
    ),
    # --- CYP2C19: sertraline ---------------------------------------------------------------------
    _cpic(
        "CYP2C19", "PM", "sertraline",
        "Consider a lower starting dose and slower titration than for normal metabolisers and a "
        "50% lower maintenance dose, or a clinically appropriate antidepressant not predominantly "
        "metabolised by CYP2C19.",
        None,
        _CPIC_SERTRALINE_NOTE + " The 2015 guideline rated its 50%-lower-dose-or-alternative "
        "advice optional. " + _STRENGTH_UNCHECKED,
    ),
    _cpic(
        "CYP2C19", "IM", "sertraline",
        "Initiate therapy with the recommended starting dose; consider a slower titration schedule "
        "and a lower maintenance dose than for normal metabolisers.",
        None,
        _CPIC_SERTRALINE_NOTE + " Wording recalled from CPIC 2023. " + _STRENGTH_UNCHECKED,
    ),
    _cpic("CYP2C19", "NM", "sertraline", _STANDARD_START, "strong", _CPIC_SERTRALINE_NOTE),
    _cpic(
        "CYP2C19", "RM", "sertraline",
        "Standard starting dose: initiate therapy with the recommended starting dose.",
        None,
        _CPIC_SERTRALINE_NOTE + " CPIC 2023 may add that a higher maintenance dose or an "
        "alternative can be considered if response is inadequate; that clause and the strength "
        "were not checked here.",
    ),
    _cpic(
        "CYP2C19", "UM", "sertraline",
        "Standard starting dose: initiate therapy with the recommended starting dose; if response "
        "to standard maintenance dosing is inadequate, a higher maintenance dose or an alternative "
        "not predominantly metabolised by CYP2C19 may be considered.",
        None,
        _CPIC_SERTRALINE_NOTE + " CPIC does not advise a routinely higher starting dose; the "
        "exact 2023 wording and the strength were not checked here.",
    ),
    _dpwg(
        "CYP2C19", "PM", "sertraline",
        "Do not exceed 75 mg/day; guide the dose by response and side effects and/or the "
        "sertraline plasma concentration.",
        "The older (2011) DPWG text advised a 50% dose reduction.",
    ),
    _dpwg("CYP2C19", "IM", "sertraline", _DPWG_NO_ACTION),
    _dpwg("CYP2C19", "UM", "sertraline", _DPWG_NO_ACTION),
    # --- CYP2D6: paroxetine ----------------------------------------------------------------------
    _cpic(
        "CYP2D6", "PM", "paroxetine",
        "Consider a lower starting dose (about 50% lower) and a slower titration schedule than for "
        "normal metabolisers, or an antidepressant not predominantly metabolised by CYP2D6.",
        None,
        "The 2015 guideline advised an alternative or a 50% lower starting dose (optional); the "
        "2023 wording is recalled rather than quoted. " + _STRENGTH_UNCHECKED,
    ),
    _cpic(
        "CYP2D6", "IM", "paroxetine",
        "Consider a lower starting dose and slower titration schedule than for normal "
        "metabolisers.",
        "optional",
    ),
    _cpic(
        "CYP2D6", "NM", "paroxetine", _STANDARD_START, "strong",
        "Strength as in 2015, assumed unchanged in 2023.",
    ),
    _cpic(
        "CYP2D6", "UM", "paroxetine",
        "Consider a clinically appropriate alternative antidepressant not predominantly "
        "metabolised by CYP2D6 (paroxetine concentrations may be too low to work).",
        None,
        "The 2015 guideline said 'select an alternative drug' and rated it strong. "
        + _STRENGTH_UNCHECKED,
    ),
    _dpwg("CYP2D6", "PM", "paroxetine", _DPWG_NO_ACTION),
    _dpwg("CYP2D6", "IM", "paroxetine", _DPWG_NO_ACTION),
    _dpwg(
        "CYP2D6", "UM", "paroxetine",
        "Avoid paroxetine. Antidepressants not, or less, metabolised by CYP2D6 include, for "
        "example, citalopram and sertraline.",
    ),
    # --- CYP2D6: venlafaxine ---------------------------------------------------------------------
    _cpic(
        "CYP2D6", "PM", "venlafaxine",
        "Consider a clinically appropriate alternative antidepressant not predominantly metabolised "
        "by CYP2D6.",
        "optional",
        "Venlafaxine is new in CPIC 2023, which gives no recommendation beyond this optional one "
        "for poor metabolisers.",
    ),
    _cpic(
        "CYP2D6", "IM", "venlafaxine",
        "No recommendation: no genotype-based action because of minimal evidence on efficacy or "
        "side effects.",
        "no recommendation",
    ),
    _cpic(
        "CYP2D6", "NM", "venlafaxine", _STANDARD_START, None,
        "No genotype-based change for normal metabolisers; the strength CPIC attaches to this row "
        "was not checked here.",
    ),
    _cpic(
        "CYP2D6", "UM", "venlafaxine",
        "No recommendation: no genotype-based action because of minimal evidence on efficacy or "
        "side effects.",
        "no recommendation",
        "Recalled as the same as for intermediate metabolisers; not checked against the 2023 table.",
    ),
    _dpwg(
        "CYP2D6", "PM", "venlafaxine",
        _DPWG_VENLAFAXINE_REDUCED, _DPWG_VENLAFAXINE_NOTE,
        citation="dpwg_venlafaxine",
    ),
    _dpwg(
        "CYP2D6", "IM", "venlafaxine",
        _DPWG_VENLAFAXINE_REDUCED, _DPWG_VENLAFAXINE_NOTE,
        citation="dpwg_venlafaxine",
    ),
    _dpwg(
        "CYP2D6", "UM", "venlafaxine",
        "Be alert to lower venlafaxine plus O-desmethylvenlafaxine concentrations; if needed, "
        "increase the dose to 150% of the standard dose. If that gives no efficacy without "
        "unacceptable side effects, or dosing by plasma concentration is not possible, avoid "
        "venlafaxine and choose an alternative.",
        citation="dpwg_venlafaxine",
    ),
)


def _check(gene: str, phenotype: object) -> str | None:
    if phenotype is None:
        return None
    allowed = _PHENOTYPES[gene]
    if not isinstance(phenotype, str) or phenotype not in allowed:
        raise ValueError(
            f"unknown {gene} phenotype {phenotype!r}; allowed: {', '.join(allowed)} "
            "(or None when genetic data are withheld)"
        )
    return phenotype


def _sort_key(rule: Guidance) -> tuple[int, str, int]:
    return ARMS.index(rule.arm), rule.drug, SOURCES.index(rule.source)


def pgx_guidance(cyp2c19_phenotype: str | None, cyp2d6_phenotype: str | None) -> list[Guidance]:
    """The rules of ``PGX_RULES`` that apply to a patient, ordered by arm, then drug, then source.

    A None phenotype (genetic data withheld) yields no guidance for that gene. A code outside the
    gene's phenotypes (CYP2C19: PM/IM/NM/RM/UM; CYP2D6: PM/IM/NM/UM) raises ValueError. The result
    depends on the two arguments only and is a new list on every call.
    """
    wanted = {
        "CYP2C19": _check("CYP2C19", cyp2c19_phenotype),
        "CYP2D6": _check("CYP2D6", cyp2d6_phenotype),
    }
    matches = [
        rule for rule in PGX_RULES
        if wanted[rule.gene] is not None and rule.phenotype == wanted[rule.gene]
    ]
    return sorted(matches, key=_sort_key)
