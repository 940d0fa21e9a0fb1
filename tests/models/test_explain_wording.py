"""The explanation's plain-language sentence reads as English for every model input: no label
glued on with its capital ("high Prior failed treatments"), no double negative ("no dexamethasone
non-suppression"), no abbreviation mangled at the start ("Hs-CRP", "RACC theta")."""

import re

import pandas as pd
import pytest

from models.explain import Explanation, describe, narrative
from models.features import variant_features
from synthetic_data import DATA_DICTIONARY

FEATURES = variant_features("full")
BINARY = [f for f in FEATURES if DATA_DICTIONARY[f].kind == "binary"]
NUMERIC = [f for f in FEATURES if DATA_DICTIONARY[f].kind in ("integer", "float")]
MEDIANS = dict.fromkeys(FEATURES, 1.0)


def _explained(feature, value) -> str:
    """The narrative of an explanation whose one driver is ``feature`` at ``value``."""
    contributions = pd.Series(0.0, index=FEATURES)
    contributions[feature] = -0.4
    values = pd.Series(1.0, index=FEATURES, dtype=object)
    values[feature] = value
    explanation = Explanation(base_value=0.0, contributions=contributions, model_output=-0.4,
                              probability=0.4, units="log-odds", feature_values=values)
    return narrative(explanation, arm_label="SSRI", medians=MEDIANS)


def _sentence_case(label: str) -> str:
    return label if label[:2].isupper() or label[:1].islower() else label[0].lower() + label[1:]


@pytest.mark.parametrize("feature", BINARY)
@pytest.mark.parametrize("value", [0, 1])
def test_a_yes_or_no_input_reads_without_a_double_negative(feature, value):
    text = _explained(feature, value)
    assert text.endswith("lowered the predicted SSRI response.")
    assert not re.search(r"\bno\b[^;]*\bnon-", text, re.IGNORECASE), text
    # "no BDNF Val66Met: Met carrier"
    assert not re.search(r"\bno [^;]*:", text, re.IGNORECASE), text


@pytest.mark.parametrize("feature", NUMERIC)
@pytest.mark.parametrize("value, level", [(3, "above the median"), (0, "below the median"),
                                          (1, "at the median")])
def test_a_number_reads_as_the_label_then_where_it_lies_against_the_median(feature, value, level):
    label = DATA_DICTIONARY[feature].label
    said = describe(feature, value, MEDIANS)
    assert said.startswith(f"{_sentence_case(label)} {level} ("), said
    assert not re.search(r"\b(high|low) [A-Z][a-z]", said), said


@pytest.mark.parametrize("feature", FEATURES)
def test_the_sentence_starts_with_a_capital_unless_an_abbreviation_opens_it(feature):
    value = 1 if DATA_DICTIONARY[feature].kind == "binary" else (
        DATA_DICTIONARY[feature].categories[0] if DATA_DICTIONARY[feature].categories else 3)
    text = _explained(feature, value)
    label = DATA_DICTIONARY[feature].label
    first_word = label.split(" ")[0]
    if first_word.islower() or first_word[:1].isupper() and first_word[1:].islower():
        assert text[0].isupper(), text
    else:  # hs-CRP, rACC theta, IL-6, CYP2C19 ...: as the dictionary spells them
        assert text.startswith(first_word), text


def test_the_examples_the_issue_names_read_naturally():
    assert _explained("prior_failures", 2).startswith(
        "Prior failed treatments above the median (2) lowered")
    assert _explained("dst_nonsuppression", 0).startswith(
        "Normal dexamethasone suppression lowered")
    assert _explained("crp_mg_l", 3).startswith("hs-CRP above the median (3 mg/L) lowered")
