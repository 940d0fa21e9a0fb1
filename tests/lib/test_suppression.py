import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decision_support.lib.suppression import (SUPPRESSED, suppress_count, suppress_counts,
                                              suppress_statistic, suppress_table)


@pytest.mark.parametrize("count, shown", [(0, 0), (1, SUPPRESSED), (10, SUPPRESSED), (11, 11),
                                          (250, 250)])
def test_a_single_count_of_1_to_10_reads_less_than_11(count, shown):
    assert suppress_count(count) == shown


@pytest.mark.parametrize("bad", [-1, 2.5, float("nan"), True])
def test_it_refuses_what_is_not_a_count(bad):
    with pytest.raises(ValueError):
        suppress_count(bad)


def test_a_mean_over_fewer_than_11_patients_is_hidden():
    assert suppress_statistic(21.5, 10) == SUPPRESSED
    assert suppress_statistic(21.5, 11) == 21.5
    assert suppress_statistic(21.5, 0) is None


def test_a_row_with_one_small_cell_gets_a_second_one_hidden():
    table = suppress_counts([5, 40, 60])
    assert table.rows() == [[SUPPRESSED, SUPPRESSED, 60]]  # the next-smallest, 40, goes too
    assert table.row_total(0) == 105


@pytest.mark.parametrize("counts, protecting", [
    ([5, 40, 60], [(0, 1)]),             # 40 hides 5 from the total
    ([0, 3, 25, 40], [(0, 2)]),
    ([3, 4, 30], []),                    # two small cells protect each other
    ([60, 12, 1, 70], [(0, 1)]),
    ([[50, 60], [5, 70], [40, 80]], [(1, 1), (2, 0), (2, 1)]),  # its row and column
])
def test_a_count_hidden_only_to_protect_another_is_told_apart_from_a_small_one(counts, protecting):
    """Pages must not call a complementary cell "<11": ``protecting`` marks exactly the hidden
    cells that are not 1-10 themselves."""
    table = suppress_table(counts)
    marked = [(i, j) for i, j in np.ndindex(table.counts.shape) if table.protecting(i, j)]
    assert marked == protecting
    assert all(table.cell(i, j) == SUPPRESSED and table.counts[i, j] >= 11 for i, j in marked)


def test_zero_shows_and_is_not_chosen_to_hide_a_small_cell_when_a_count_is():
    assert suppress_counts([0, 3, 25, 40]).rows() == [[0, SUPPRESSED, SUPPRESSED, 40]]


def test_a_small_total_is_hidden_too():
    table = suppress_counts([0, 4, 0])
    assert table.row_total(0) == SUPPRESSED and table.total == SUPPRESSED


def test_columns_are_protected_as_well_as_rows():
    table = suppress_table([[50, 60], [5, 70], [40, 80]])
    hidden = table.hidden
    assert hidden[1, 0]
    assert hidden[:, 0].sum() >= 2 and hidden[1].sum() >= 2


def test_two_hidden_blocks_linked_by_one_cell_are_caught():
    # Each row and column has two hidden cells, yet cell (1, 2) links two 2x2 blocks and would be
    # determined by the row and column totals; the rank check hides more.
    counts = [[3, 4, 50, 60], [5, 6, 7, 70], [80, 90, 2, 3], [85, 95, 4, 5]]
    table = suppress_table(counts)
    assert _peel(table) == set()


def test_shares_hide_when_the_cell_or_the_row_is_small():
    table = suppress_table([[5, 40, 60], [30, 30, 30]], column_totals=False)
    assert table.share(0, 0) == SUPPRESSED
    assert table.share(1, 0) == pytest.approx(1 / 3)
    assert suppress_counts([0, 0]).share(0, 0) is None


def _peel(table) -> set:
    """An attacker's substitution: while some shown total's equation has exactly one unknown,
    solve it. Returns the hidden values recovered (cells as (i, j), totals as names)."""
    n_rows, n_cols = table.counts.shape
    known = {("cell", i, j): not table.hidden[i, j] for i in range(n_rows) for j in range(n_cols)}
    equations = []
    if table.row_totals is not None:
        for i in range(n_rows):
            known[("row", i)] = not table.row_total_hidden[i]
            equations.append([("cell", i, j) for j in range(n_cols)] + [("row", i)])
    if table.column_totals is not None:
        for j in range(n_cols):
            known[("col", j)] = not table.column_total_hidden[j]
            equations.append([("cell", i, j) for i in range(n_rows)] + [("col", j)])
    if table.row_totals is not None or table.column_totals is not None:
        known[("grand",)] = not table.grand_total_hidden
        equations.append([("cell", i, j) for i in range(n_rows) for j in range(n_cols)]
                         + [("grand",)])
        if table.row_totals is not None:
            equations.append([("row", i) for i in range(n_rows)] + [("grand",)])
        if table.column_totals is not None:
            equations.append([("col", j) for j in range(n_cols)] + [("grand",)])
    hidden_at_start = {k for k, v in known.items() if not v}
    changed = True
    while changed:
        changed = False
        for equation in equations:
            unknown = [k for k in equation if not known[k]]
            if len(unknown) == 1:
                known[unknown[0]] = True
                changed = True
    return {k for k in hidden_at_start if known[k]}


count_values = st.one_of(st.just(0), st.integers(1, 10), st.integers(11, 300))
tables = st.integers(1, 5).flatmap(lambda rows: st.integers(1, 5).flatmap(
    lambda cols: st.lists(st.lists(count_values, min_size=cols, max_size=cols),
                          min_size=rows, max_size=rows)))


@settings(max_examples=300, deadline=None)
@given(counts=tables, row_totals=st.booleans(), column_totals=st.booleans())
def test_no_shown_count_is_1_to_10_and_no_hidden_one_can_be_recovered(counts, row_totals,
                                                                      column_totals):
    table = suppress_table(counts, row_totals=row_totals, column_totals=column_totals)
    counts = np.array(counts)
    shown = [int(v) for v, h in zip(counts.ravel(), table.hidden.ravel()) if not h]
    if table.row_totals is not None:
        shown += [int(v) for v, h in zip(table.row_totals, table.row_total_hidden) if not h]
    if table.column_totals is not None:
        shown += [int(v) for v, h in zip(table.column_totals, table.column_total_hidden) if not h]
    if not table.grand_total_hidden:
        shown.append(int(table.grand_total))
    assert not [v for v in shown if 1 <= v <= 10]
    # The rule as stated: a line whose total is shown never has exactly one hidden cell.
    if row_totals:
        for i in range(counts.shape[0]):
            if not table.row_total_hidden[i]:
                assert table.hidden[i].sum() != 1
    if column_totals:
        for j in range(counts.shape[1]):
            if not table.column_total_hidden[j]:
                assert table.hidden[:, j].sum() != 1
    # And no chain of such substitutions recovers anything hidden.
    assert _peel(table) == set()
    # Shown cells are the true counts; hidden ones read "<11".
    for (i, j), value in np.ndenumerate(counts):
        assert table.cell(i, j) == (SUPPRESSED if table.hidden[i, j] else value)
