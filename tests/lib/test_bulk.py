"""``lib.bulk.prepared_ahead``: every item prepared once, in order, a failure raised where it
happened; on a database server the next item is prepared while the caller inserts this one."""

import threading

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from decision_support.cohorts.models import Patient
from decision_support.lib.bulk import prepared_ahead

# Long enough never to be reached while the preparation runs; reached only if it never starts.
NEVER = 120


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers()))
def test_each_item_is_prepared_once_and_given_back_in_order(items):
    prepared = []

    def prepare(item):
        prepared.append(item)
        return item * 2

    assert list(prepared_ahead(Patient, prepare, items)) == [item * 2 for item in items]
    assert prepared == items


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(), min_size=1), st.data())
def test_a_failing_preparation_is_raised_after_the_items_before_it(items, data):
    failing = data.draw(st.integers(0, len(items) - 1))

    def prepare(position):
        if position == failing:
            raise ValueError(f"item {position}")
        return position

    given_back = []
    with pytest.raises(ValueError, match=f"item {failing}"):
        for position in prepared_ahead(Patient, prepare, range(len(items))):
            given_back.append(position)
    assert given_back == list(range(failing))


def test_the_next_item_is_prepared_while_the_caller_inserts_on_a_server_only():
    started = [threading.Event() for _ in range(3)]

    def prepare(item):
        started[item].set()
        return item

    batches = prepared_ahead(Patient, prepare, range(3))
    assert next(batches) == 0
    if connection.vendor == "sqlite":  # the database works in this process: nothing ahead
        assert not started[1].is_set()
    else:
        assert started[1].wait(NEVER)
    assert list(batches) == [1, 2]
