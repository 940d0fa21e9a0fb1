"""Pharmacogenomic guidance rules (models.pgx): shape, coverage, lookup and purity."""

import dataclasses
import itertools
import re
from pathlib import Path

import pytest

from models import pgx
from models.pgx import (
    CYP2C19_PHENOTYPES,
    CYP2D6_PHENOTYPES,
    DRUG_ARMS,
    GENE_DRUGS,
    GUIDANCE_DISCLAIMER,
    PGX_RULES,
    SOURCES,
    STRENGTHS,
    Guidance,
    pgx_guidance,
)
from synthetic_data import ARMS
from synthetic_data import parameters

PHENOTYPES = {"CYP2C19": CYP2C19_PHENOTYPES, "CYP2D6": CYP2D6_PHENOTYPES}
ALL_PAIRS = [(c, d) for c in (None, *CYP2C19_PHENOTYPES) for d in (None, *CYP2D6_PHENOTYPES)]


def _for_gene(gene, phenotype):
    return pgx_guidance(phenotype, None) if gene == "CYP2C19" else pgx_guidance(None, phenotype)


def _assert_well_formed(item, gene, phenotype):
    assert isinstance(item, Guidance)
    assert item.gene == gene and item.phenotype == phenotype
    assert item.drug in GENE_DRUGS[gene]
    assert item.arm == DRUG_ARMS[item.drug] and item.arm in ARMS
    assert item.source in SOURCES
    assert item.strength is None or item.strength in STRENGTHS
    if item.source == "DPWG":
        assert item.strength is None  # DPWG does not use CPIC's grades
    assert len(item.action.strip()) > 20 and item.action.rstrip().endswith(".")
    assert re.search(r"\b(19|20)\d{2}\b", item.citation), item.citation
    assert re.search(r"Clin Pharmacol Ther|Eur J Hum Genet", item.citation), item.citation
    assert isinstance(item.note, str)


def test_phenotype_codes_match_the_generator():
    assert CYP2C19_PHENOTYPES == parameters.CYP2C19_PHENOTYPES
    assert CYP2D6_PHENOTYPES == parameters.CYP2D6_PHENOTYPES


@pytest.mark.parametrize(
    ("gene", "phenotype"),
    [(g, p) for g, codes in PHENOTYPES.items() for p in codes],
)
def test_every_gene_and_phenotype_gives_well_formed_cited_guidance(gene, phenotype):
    result = _for_gene(gene, phenotype)
    assert result, f"no guidance for {gene} {phenotype}"
    for item in result:
        _assert_well_formed(item, gene, phenotype)
    # Every drug of the gene gets at least the CPIC row, and no (drug, source) appears twice.
    assert {(i.drug, i.source) for i in result} >= {(d, "CPIC 2023") for d in GENE_DRUGS[gene]}
    assert len({(i.drug, i.source) for i in result}) == len(result)


def test_rule_table_is_well_formed_and_unique():
    for rule in PGX_RULES:
        assert rule.phenotype in PHENOTYPES[rule.gene]
        _assert_well_formed(rule, rule.gene, rule.phenotype)
    keys = [(r.gene, r.phenotype, r.drug, r.source) for r in PGX_RULES]
    assert len(keys) == len(set(keys))
    # Uncertain CPIC grades are flagged in the note rather than guessed.
    for rule in PGX_RULES:
        if rule.source == "CPIC 2023" and rule.strength is None:
            assert rule.note, rule


def test_every_drug_and_phenotype_pair_is_covered_by_a_rule():
    assert set(DRUG_ARMS) == {"escitalopram", "citalopram", "sertraline", "venlafaxine", "paroxetine"}
    covered = {(r.drug, r.phenotype) for r in PGX_RULES}
    for gene, drugs in GENE_DRUGS.items():
        for drug, phenotype in itertools.product(drugs, PHENOTYPES[gene]):
            assert (drug, phenotype) in covered, (gene, drug, phenotype)


def test_arms_of_the_drugs():
    assert DRUG_ARMS == {
        "escitalopram": "ssri", "citalopram": "ssri", "sertraline": "ssri",
        "paroxetine": "ssri", "venlafaxine": "snri",
    }


def test_cyp2c19_ultrarapid_escitalopram_says_alternative_or_avoid():
    escitalopram = [g for g in pgx_guidance("UM", None) if g.drug == "escitalopram"]
    assert {g.source for g in escitalopram} == {"CPIC 2023", "DPWG"}
    for item in escitalopram:
        assert re.search(r"alternative|avoid", item.action, re.IGNORECASE), item
    dpwg = next(g for g in escitalopram if g.source == "DPWG")
    assert dpwg.action.startswith("Avoid escitalopram")


@pytest.mark.parametrize(("cyp2c19", "cyp2d6"), [("NM", None), (None, "NM"), ("NM", "NM")])
def test_normal_metabolisers_get_standard_dosing(cyp2c19, cyp2d6):
    result = pgx_guidance(cyp2c19, cyp2d6)
    assert result
    for item in result:
        assert item.source == "CPIC 2023"  # DPWG publishes no NM rows
        assert "standard dosing" in item.action.lower()
        assert "recommended starting dose" in item.action
        assert not re.search(r"avoid|alternative|lower|reduc", item.action, re.IGNORECASE)


def test_selected_published_points():
    by_key = {(r.gene, r.phenotype, r.drug, r.source): r for r in PGX_RULES}
    assert "50%" in by_key["CYP2C19", "PM", "citalopram", "CPIC 2023"].action
    assert "20 mg/day" in by_key["CYP2C19", "PM", "citalopram", "CPIC 2023"].note
    assert by_key["CYP2C19", "NM", "escitalopram", "CPIC 2023"].strength == "strong"
    assert "Avoid paroxetine" in by_key["CYP2D6", "UM", "paroxetine", "DPWG"].action
    assert by_key["CYP2D6", "IM", "venlafaxine", "CPIC 2023"].strength == "no recommendation"
    assert by_key["CYP2D6", "PM", "venlafaxine", "CPIC 2023"].strength == "optional"
    assert "O-desmethylvenlafaxine" in by_key["CYP2D6", "PM", "venlafaxine", "DPWG"].action
    assert "150%" in by_key["CYP2D6", "UM", "venlafaxine", "DPWG"].action
    # CPIC gives venlafaxine nothing stronger than optional.
    assert {r.strength for r in PGX_RULES if r.drug == "venlafaxine" and r.source == "CPIC 2023"} <= {
        "optional", "no recommendation", None,
    }


@pytest.mark.parametrize("phenotype", [*CYP2C19_PHENOTYPES])
def test_withheld_cyp2d6_gives_no_cyp2d6_guidance(phenotype):
    result = pgx_guidance(phenotype, None)
    assert result and all(g.gene == "CYP2C19" for g in result)


@pytest.mark.parametrize("phenotype", [*CYP2D6_PHENOTYPES])
def test_withheld_cyp2c19_gives_no_cyp2c19_guidance(phenotype):
    result = pgx_guidance(None, phenotype)
    assert result and all(g.gene == "CYP2D6" for g in result)


def test_both_withheld_gives_nothing():
    assert pgx_guidance(None, None) == []


@pytest.mark.parametrize(
    ("cyp2c19", "cyp2d6", "bad", "gene"),
    [
        ("XX", None, "'XX'", "CYP2C19"),
        ("pm", "NM", "'pm'", "CYP2C19"),
        ("", None, "''", "CYP2C19"),
        (None, "RM", "'RM'", "CYP2D6"),  # CYP2D6 has no rapid-metaboliser category
        ("NM", "EM", "'EM'", "CYP2D6"),
        (None, 2, "2", "CYP2D6"),
    ],
)
def test_unknown_codes_raise_naming_the_code_and_the_allowed_ones(cyp2c19, cyp2d6, bad, gene):
    with pytest.raises(ValueError) as excinfo:
        pgx_guidance(cyp2c19, cyp2d6)
    message = str(excinfo.value)
    assert bad in message and gene in message
    assert ", ".join(PHENOTYPES[gene]) in message


def test_result_order_is_arm_then_drug_then_source():
    result = pgx_guidance("PM", "PM")
    keys = [(ARMS.index(g.arm), g.drug, SOURCES.index(g.source)) for g in result]
    assert keys == sorted(keys)
    assert [g.arm for g in result][-1] == "snri"
    assert [(g.drug, g.source) for g in result][:2] == [("citalopram", "CPIC 2023"), ("citalopram", "DPWG")]


def test_pure_function_of_its_inputs():
    snapshot = tuple(PGX_RULES)
    first = {pair: pgx_guidance(*pair) for pair in ALL_PAIRS}
    # A caller mutating a returned list changes nothing for the next caller.
    first[("UM", "UM")].clear()
    second = {pair: pgx_guidance(*pair) for pair in reversed(ALL_PAIRS)}
    assert PGX_RULES == snapshot
    for pair in ALL_PAIRS:
        if pair != ("UM", "UM"):
            assert second[pair] == first[pair]
    assert second[("UM", "UM")] and pgx_guidance("UM", "UM") is not pgx_guidance("UM", "UM")
    # Each gene is looked up on its own: the joint answer is the union of the two single ones.
    for c, d in ALL_PAIRS:
        joint = pgx_guidance(c, d)
        assert sorted(joint, key=repr) == sorted(pgx_guidance(c, None) + pgx_guidance(None, d), key=repr)


def test_guidance_is_frozen():
    item = pgx_guidance("PM", None)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.action = "something else"  # type: ignore[misc]


def test_disclaimer_says_rules_not_prediction_and_not_clinical():
    text = GUIDANCE_DISCLAIMER.lower()
    assert "not a model prediction" in text
    assert "not for clinical use" in text
    assert "cpic" in text and "dpwg" in text


def test_module_stays_plain_python():
    source = Path(pgx.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+(django|sklearn|numpy|pandas)", source, re.MULTILINE)
    assert "not dosing advice" in (pgx.__doc__ or "").lower()
