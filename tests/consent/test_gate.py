"""The consent gate's one pure rule, table by table. No database."""

import datetime as dt
import itertools
from dataclasses import asdict, fields

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from decision_support.consent.constants import Provision, Status
from decision_support.consent.gate import (ConsentEntry, model_variant_for, permitted_classes,
                                           permitted_table)
from decision_support.consent.models import ConsentRecord
from decision_support.lib.vocabulary import CONSENT_CLASS_OF, CONSENT_CLASSES, PURPOSES, Purpose
from models.features import VARIANT_DATA_CLASSES

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
EDU, ML, RES = Purpose.EDUCATION, Purpose.MODEL_TRAINING, Purpose.RESEARCH_EXPORT


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def entry(data_class="genetic", purpose=EDU, status="active", provision="permit", start=0,
          end=None, recorded=0) -> ConsentEntry:
    return ConsentEntry(data_class=data_class, purpose=purpose, status=status, provision=provision,
                        period_start=at(start), period_end=None if end is None else at(end),
                        recorded_at=at(recorded))


PERMIT_ALL_PURPOSES = [entry(purpose=p) for p in PURPOSES]

CASES = [
    # (name, records, purpose, now in minutes, expected classes)
    ("no record denies", [], EDU, 5, set()),
    ("an active permit in its period permits", [entry()], EDU, 5, {"genetic"}),
    ("an inactive permit denies", [entry(status="inactive")], EDU, 5, set()),
    ("a deny provision denies", [entry(provision="deny")], EDU, 5, set()),
    ("a consent not yet started denies", [entry(start=10)], EDU, 5, set()),
    ("a consent starts at its period_start", [entry(start=5)], EDU, 5, {"genetic"}),
    ("an expired consent denies", [entry(end=3)], EDU, 5, set()),
    ("the period end is exclusive", [entry(end=5)], EDU, 5, set()),
    ("a consent permits until just before its end", [entry(end=6)], EDU, 5, {"genetic"}),
    ("a permit for another purpose does not count", [entry(purpose=RES)], EDU, 5, set()),
    ("a deny for model training blocks model training",
     [*PERMIT_ALL_PURPOSES, entry(purpose=ML, provision="deny", recorded=1)], ML, 5, set()),
    ("a deny for model training leaves education alone",
     [*PERMIT_ALL_PURPOSES, entry(purpose=ML, provision="deny", recorded=1)], EDU, 5, {"genetic"}),
    ("a deny for model training leaves research alone",
     [*PERMIT_ALL_PURPOSES, entry(purpose=ML, provision="deny", recorded=1)], RES, 5, {"genetic"}),
    ("newest wins: permit then deny denies",
     [entry(recorded=0), entry(provision="deny", recorded=1)], EDU, 5, set()),
    ("newest wins: deny then permit permits",
     [entry(provision="deny", recorded=0), entry(recorded=1)], EDU, 5, {"genetic"}),
    ("newest wins whatever the input order",
     [entry(recorded=1), entry(provision="deny", recorded=0)], EDU, 5, {"genetic"}),
    ("newest wins: a later inactive record ends an active permit",
     [entry(recorded=0), entry(status="inactive", recorded=1)], EDU, 5, set()),
    ("newest wins: a newer expired permit is not rescued by an older open one",
     [entry(recorded=0), entry(end=4, recorded=1)], EDU, 5, set()),
    ("records at the same instant resolve to deny",
     [entry(recorded=2), entry(provision="deny", recorded=2)], EDU, 5, set()),
    ("records at the same instant that all permit permit",
     [entry(recorded=2), entry(recorded=2)], EDU, 5, {"genetic"}),
    ("classes are decided one by one",
     [entry("clinical"), entry("biomarker", provision="deny"), entry("genetic", status="inactive")],
     EDU, 5, {"clinical"}),
    ("a withdrawn class leaves the others permitted",
     [entry(c) for c in CONSENT_CLASSES] + [entry("biomarker", provision="deny", recorded=1)],
     EDU, 5, {"clinical", "genetic"}),
]


@pytest.mark.parametrize(("records", "purpose", "now", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_permitted_classes(records, purpose, now, expected):
    assert permitted_classes(records, purpose=purpose, now=at(now)) == frozenset(expected)


def test_it_reads_stored_rows_as_well_as_entries():
    rows = [ConsentRecord(patient_id=1, data_class="clinical", purpose=EDU, status=Status.ACTIVE,
                          provision=Provision.PERMIT, period_start=at(0), recorded_at=at(0))]
    assert permitted_classes(rows, purpose=EDU, now=at(1)) == {"clinical"}


def test_it_accepts_any_iterable_once():
    assert permitted_classes(iter([entry()]), purpose=EDU, now=at(1)) == {"genetic"}


@pytest.mark.parametrize("purpose", ["train", "treatment", "", None, "HRESCH "])
def test_an_unknown_purpose_raises_naming_the_field(purpose):
    with pytest.raises(ValueError, match=r"^purpose must be one of TRAIN, MLTRAIN, HRESCH"):
        permitted_classes([entry()], purpose=purpose, now=at(1))


def test_an_unknown_purpose_raises_even_without_records():
    with pytest.raises(ValueError, match="purpose"):
        permitted_classes([], purpose="TREAT", now=at(1))


def test_a_record_of_an_unknown_data_class_raises():
    with pytest.raises(ValueError,
                       match=r"^data_class must be one of clinical, biomarker, genetic"):
        permitted_classes([entry("epigenetic")], purpose=EDU, now=at(1))


@pytest.mark.parametrize("now", [dt.datetime(2026, 11, 1, 9, 5), "2026-11-01T09:05Z", None])
def test_now_must_be_an_aware_datetime(now):
    with pytest.raises(ValueError, match="^now must be a timezone-aware datetime"):
        permitted_classes([entry()], purpose=EDU, now=now)


def test_now_may_be_in_any_time_zone():
    cet = dt.timezone(dt.timedelta(hours=1))
    assert permitted_classes([entry(start=60)], purpose=EDU,
                             now=dt.datetime(2026, 11, 1, 10, 59, tzinfo=cet)) == set()
    assert permitted_classes([entry(start=60)], purpose=EDU,
                             now=dt.datetime(2026, 11, 1, 11, 0, tzinfo=cet)) == {"genetic"}


# Model variants: the richest that reads only permitted classes.

VARIANT_CASES = [
    ({"clinical", "biomarker", "genetic"}, "full"),
    ({"clinical", "biomarker"}, "no_genetic"),
    ({"clinical", "genetic"}, "clinical_only"),
    ({"clinical"}, "clinical_only"),
    ({"biomarker", "genetic"}, None),
    ({"biomarker"}, None),
    ({"genetic"}, None),
    (set(), None),
]


@pytest.mark.parametrize(("classes", "variant"), VARIANT_CASES)
def test_model_variant_for(classes, variant):
    assert model_variant_for(classes) == variant


def test_every_subset_of_classes_has_a_variant_case():
    subsets = {frozenset(s) for n in range(4) for s in itertools.combinations(CONSENT_CLASSES, n)}
    assert {frozenset(c) for c, _ in VARIANT_CASES} == subsets


@pytest.mark.parametrize(("classes", "variant"), VARIANT_CASES)
def test_the_chosen_variant_reads_no_class_that_is_not_permitted(classes, variant):
    if variant is not None:
        assert {CONSENT_CLASS_OF[d] for d in VARIANT_DATA_CLASSES[variant]} <= classes


def test_model_variant_for_refuses_an_unknown_class():
    with pytest.raises(ValueError, match="^data_class must be one of"):
        model_variant_for({"clinical", "epigenetic"})


# Property: the gate agrees with a second, independently written statement of the rule.

def reference_permitted(records, purpose, now):
    """A class is permitted when some record grants it and every record at least as new grants
    it too."""
    def grants(r):
        return (r.status == "active" and r.provision == "permit" and r.period_start <= now
                and (r.period_end is None or now < r.period_end))

    allowed = set()
    for data_class in CONSENT_CLASSES:
        mine = [r for r in records if r.data_class == data_class and r.purpose == purpose]
        if any(grants(r) and all(grants(o) for o in mine if o.recorded_at >= r.recorded_at)
               for r in mine):
            allowed.add(data_class)
    return allowed


@st.composite
def entries(draw):
    start = draw(st.integers(0, 8))
    end = draw(st.one_of(st.none(), st.integers(start + 1, 12)))
    return entry(
        data_class=draw(st.sampled_from(CONSENT_CLASSES)),
        purpose=draw(st.sampled_from(PURPOSES)),
        status=draw(st.sampled_from(Status.values)),
        provision=draw(st.sampled_from(Provision.values)),
        start=start, end=end,
        recorded=draw(st.integers(0, 6)),  # few instants, so ties happen
    )


@settings(max_examples=400, deadline=None)
@given(history=st.lists(entries(), max_size=14), purpose=st.sampled_from(PURPOSES),
       now=st.integers(0, 13), data=st.data())
def test_the_gate_matches_the_reference_rule_for_any_history(history, purpose, now, data):
    got = permitted_classes(history, purpose=purpose, now=at(now))
    assert got == reference_permitted(history, purpose, at(now))
    shuffled = data.draw(st.permutations(history))
    assert permitted_classes(shuffled, purpose=purpose, now=at(now)) == got


@settings(max_examples=200, deadline=None)
@given(history=st.lists(entries(), max_size=14), purpose=st.sampled_from(PURPOSES),
       now=st.integers(0, 13), data_class=st.sampled_from(CONSENT_CLASSES))
def test_a_newer_deny_always_removes_its_class_and_only_it(history, purpose, now, data_class):
    before = permitted_classes(history, purpose=purpose, now=at(now))
    deny = entry(data_class, purpose, provision="deny", recorded=7)  # newer than any in history
    after = permitted_classes([*history, deny], purpose=purpose, now=at(now))
    assert after == before - {data_class}


# The table form: many patients' histories at once, the same answers patient by patient.

def records_table(histories: dict[int, list[ConsentEntry]]) -> pd.DataFrame:
    """Histories as ``permitted_table`` reads them, every patient's records interleaved."""
    rows = [{"patient": pk, **asdict(r)} for pk, history in histories.items() for r in history]
    table = pd.DataFrame(rows, columns=["patient", *(f.name for f in fields(ConsentEntry))])
    for name in ("period_start", "period_end", "recorded_at"):
        table[name] = pd.to_datetime(table[name], utc=True)
    return table.sample(frac=1, random_state=len(rows))


@settings(max_examples=300, deadline=None)
@given(histories=st.dictionaries(st.integers(1, 50), st.lists(entries(), max_size=10),
                                 max_size=6),
       purpose=st.sampled_from(PURPOSES), now=st.integers(0, 13))
def test_the_table_answers_as_the_gate_does_patient_by_patient(histories, purpose, now):
    table = permitted_table(records_table(histories), purpose=purpose, now=at(now))
    assert list(table.columns) == list(CONSENT_CLASSES)
    got = {pk: frozenset(c for c in CONSENT_CLASSES if row[c]) for pk, row in table.iterrows()}
    expected = {pk: permitted_classes(history, purpose=purpose, now=at(now))
                for pk, history in histories.items()}
    # A patient without a record for the purpose has no row: denied every class.
    assert {pk: got.get(pk, frozenset()) for pk in histories} == expected
    assert set(got) <= set(histories)


def test_the_table_refuses_what_the_gate_refuses():
    histories = {1: [entry()], 2: [entry("epigenetic")]}
    with pytest.raises(ValueError, match=r"^data_class must be one of"):
        permitted_table(records_table(histories), purpose=EDU, now=at(1))
    with pytest.raises(ValueError, match=r"^purpose must be one of"):
        permitted_table(records_table({1: [entry()]}), purpose="TREAT", now=at(1))
    with pytest.raises(ValueError, match="^now must be a timezone-aware datetime"):
        permitted_table(records_table({1: [entry()]}), purpose=EDU,
                        now=dt.datetime(2026, 11, 1, 9, 5))
