"""Small-cell suppression (the CMS cell-size rule): the one place that decides which aggregate
counts a page may show.

The rule
--------
1. **Primary suppression.** A count of 1 to 10 patients is never shown; it reads ``"<11"``.
   Zero may show as 0. Row, column and grand totals are counts too and follow the same rule.
2. **Complementary suppression.** A hidden count must not be derivable from what is shown. A
   table is read as a set of equations (each row sums to its row total, each column to its
   column total, the row totals to the grand total). While any hidden value is determined by the
   shown ones, the next-smallest shown count in its row (else its column) is hidden as well,
   preferring a non-zero count (a hidden 0 that is known to be 0 protects nothing). So a row or
   column whose total is shown never has exactly one hidden cell, and linked patterns (two
   blocks of hidden cells joined by one cell) are caught too, because "determined" is decided by
   linear algebra over all the equations, not line by line.
3. **Rates and means.** A share or mean over fewer than 11 patients is hidden; a share whose
   numerator cell is hidden is hidden too (``SuppressedTable.share``), since a shown share times
   a shown total would give the count back.

Plain Python and numpy, no Django: every function here is testable on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_CELL = 11  # counts 1..MIN_CELL-1 are hidden
SUPPRESSED = "<11"
_TOLERANCE = 1e-9

NEGATIVE_COUNT = "counts must be whole numbers of at least 0; got {value!r}"
NOT_A_TABLE = "counts must be a non-empty two-dimensional table; got shape {shape}"


def is_small(count) -> bool:
    """Whether a count is one the rule hides on its own (1 to 10)."""
    return 0 < count < MIN_CELL


def suppress_count(count: int) -> int | str:
    """A single count as it may be shown: ``"<11"`` for 1 to 10, else the count.

    Use it only for a count that no shown total or other count complements; otherwise use
    ``suppress_table``.
    """
    count = _check_count(count)
    return SUPPRESSED if is_small(count) else count


def suppress_statistic(value, n: int):
    """A mean or rate computed over ``n`` patients: ``None`` for no patients, ``"<11"`` for 1 to
    10 patients, else ``value``."""
    n = _check_count(n)
    if n == 0:
        return None
    return SUPPRESSED if n < MIN_CELL else value


def _check_count(value) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or value < 0:
        raise ValueError(NEGATIVE_COUNT.format(value=value))
    return int(value)


@dataclass(frozen=True)
class SuppressedTable:
    """A count table with its totals and which of them are hidden.

    ``row_totals`` / ``column_totals`` are ``None`` when the table has no such margin (a plain
    histogram is one row with a row total and no column totals).
    """

    counts: np.ndarray
    hidden: np.ndarray
    row_totals: np.ndarray | None
    row_total_hidden: np.ndarray | None
    column_totals: np.ndarray | None
    column_total_hidden: np.ndarray | None
    grand_total: int
    grand_total_hidden: bool

    def cell(self, i: int, j: int) -> int | str:
        return SUPPRESSED if self.hidden[i, j] else int(self.counts[i, j])

    def protecting(self, i: int, j: int) -> bool:
        """Whether cell ``(i, j)`` is hidden only so that another hidden count cannot be derived
        (complementary suppression): its own count is not 1 to 10, so a page must not call it
        ``"<11"``."""
        return bool(self.hidden[i, j]) and not is_small(int(self.counts[i, j]))

    def rows(self) -> list[list[int | str]]:
        """Every cell as it may be shown."""
        return [[self.cell(i, j) for j in range(self.counts.shape[1])]
                for i in range(self.counts.shape[0])]

    def plotted(self) -> list[list[int | None]]:
        """Every cell as a chart may plot it: hidden cells are ``None`` (not drawn)."""
        return [[None if self.hidden[i, j] else int(self.counts[i, j])
                 for j in range(self.counts.shape[1])] for i in range(self.counts.shape[0])]

    def row_total(self, i: int) -> int | str:
        if self.row_totals is None:
            raise ValueError("this table has no row totals")
        return SUPPRESSED if self.row_total_hidden[i] else int(self.row_totals[i])

    def column_total(self, j: int) -> int | str:
        if self.column_totals is None:
            raise ValueError("this table has no column totals")
        return SUPPRESSED if self.column_total_hidden[j] else int(self.column_totals[j])

    @property
    def total(self) -> int | str:
        return SUPPRESSED if self.grand_total_hidden else int(self.grand_total)

    def share(self, i: int, j: int):
        """Cell ``(i, j)`` as a share of its row total: ``None`` for an empty row, ``"<11"`` when
        the row has fewer than 11 patients or the cell or the row total is hidden."""
        row_total = int(self.counts[i].sum())
        if row_total == 0:
            return None
        row_hidden = self.row_total_hidden is not None and self.row_total_hidden[i]
        if row_total < MIN_CELL or self.hidden[i, j] or row_hidden:
            return SUPPRESSED
        return float(self.counts[i, j]) / row_total


def suppress_table(counts, *, row_totals: bool = True,
                   column_totals: bool = True) -> SuppressedTable:
    """Primary and complementary suppression of a table of patient counts.

    Parameters
    ----------
    counts : array-like of int, shape (rows, columns)
        Whole counts of at least 0. A one-dimensional array is read as one row.
    row_totals, column_totals : bool
        Whether the page shows (or lets a reader work out) each row's / column's total. Say
        ``True`` when in doubt: it only hides more.

    Returns
    -------
    SuppressedTable

    Examples
    --------
    >>> suppress_table([[5, 40, 60]], column_totals=False).rows()
    [['<11', '<11', 60]]
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim == 1:
        table = table[np.newaxis, :]
    if table.ndim != 2 or table.size == 0:
        raise ValueError(NOT_A_TABLE.format(shape=table.shape))
    if not np.all(np.isfinite(table)) or np.any(table < 0) or np.any(table != np.round(table)):
        bad = table[~(np.isfinite(table) & (table >= 0) & (table == np.round(table)))][0]
        raise ValueError(NEGATIVE_COUNT.format(value=bad))
    table = table.astype(np.int64)
    layout = _Layout(table, row_totals=row_totals, column_totals=column_totals)
    hidden = np.array([is_small(v) for v in layout.values])
    while True:
        determined = layout.determined(hidden)
        if not determined.any():
            break
        hidden[layout.complement(int(np.flatnonzero(determined)[0]), hidden)] = True
    return layout.result(hidden)


class _Layout:
    """The values of a table with its margins, flattened, and the equations linking them:
    cells first (row-major), then row totals, column totals and the grand total."""

    def __init__(self, table: np.ndarray, *, row_totals: bool, column_totals: bool):
        self.table = table
        n_rows, n_cols = table.shape
        self.n_rows, self.n_cols = n_rows, n_cols
        self.has_rows, self.has_cols = row_totals, column_totals
        values = list(table.ravel())
        self.row_index = self.col_index = None
        if row_totals:
            self.row_index = len(values)
            values += list(table.sum(axis=1))
        if column_totals:
            self.col_index = len(values)
            values += list(table.sum(axis=0))
        self.grand_index = len(values) if (row_totals or column_totals) else None
        if self.grand_index is not None:
            values.append(table.sum())
        self.values = np.array(values, dtype=np.int64)
        equations = []
        for i in range(n_rows) if row_totals else ():
            eq = np.zeros(len(values))
            eq[i * n_cols:(i + 1) * n_cols] = 1
            eq[self.row_index + i] = -1
            equations.append(eq)
        for j in range(n_cols) if column_totals else ():
            eq = np.zeros(len(values))
            eq[j:n_rows * n_cols:n_cols] = 1
            eq[self.col_index + j] = -1
            equations.append(eq)
        if self.grand_index is not None:
            eq = np.zeros(len(values))
            eq[:n_rows * n_cols] = 1
            eq[self.grand_index] = -1
            equations.append(eq)
        self.equations = np.array(equations).reshape(len(equations), len(values))

    def determined(self, hidden: np.ndarray) -> np.ndarray:
        """Which hidden values the shown ones determine: those whose unit vector lies in the row
        space of the equations restricted to the hidden values (every solution agrees on them)."""
        result = np.zeros(len(hidden), dtype=bool)
        unknown = np.flatnonzero(hidden)
        if unknown.size == 0 or self.equations.shape[0] == 0:
            return result
        a = self.equations[:, unknown]
        _, singular, vt = np.linalg.svd(a)
        rank = int((singular > _TOLERANCE).sum())
        null_space = vt[rank:]  # rows: a basis of the solutions' freedom
        free = (np.abs(null_space) > _TOLERANCE).any(axis=0) if len(null_space) else \
            np.zeros(unknown.size, dtype=bool)
        result[unknown[~free]] = True
        return result

    def _cells_of_row(self, i):
        return [i * self.n_cols + j for j in range(self.n_cols)]

    def _cells_of_col(self, j):
        return [i * self.n_cols + j for i in range(self.n_rows)]

    def complement(self, index: int, hidden: np.ndarray) -> int:
        """The value to hide next so that hidden value ``index`` is no longer determined: the
        smallest shown count (non-zero first) in its row, else in its column, else a total."""
        n_cells = self.n_rows * self.n_cols
        groups: list[list[int]] = []
        if index < n_cells:
            i, j = divmod(index, self.n_cols)
            if self.has_rows:
                groups.append(self._cells_of_row(i))
            if self.has_cols:
                groups.append(self._cells_of_col(j))
            groups.append([t for t in (self._row_total(i), self._col_total(j)) if t is not None])
        elif self.row_index is not None and self.row_index <= index < self.row_index + self.n_rows:
            # A row total is determined by the other row totals and the grand total (or by its
            # own cells, but those are handled first: cells come first in the order).
            groups += [self._totals("row"), [self.grand_index],
                       self._cells_of_row(index - self.row_index)]
        elif self.col_index is not None and self.col_index <= index < self.col_index + self.n_cols:
            groups += [self._totals("col"), [self.grand_index],
                       self._cells_of_col(index - self.col_index)]
        else:  # the grand total
            groups += [self._totals("row"), self._totals("col")]
        groups.append(list(range(len(self.values))))  # anything shown, as a last resort
        candidates = list(dict.fromkeys(
            k for group in groups for k in self._by_size([k for k in group if k is not None],
                                                         hidden)))
        if not candidates:
            raise AssertionError("a determined value remains although everything is hidden")
        # The first candidate that on its own makes the value undetermined; if none does, the
        # first candidate (the loop then adds more).
        for k in candidates:
            trial = hidden.copy()
            trial[k] = True
            if not self.determined(trial)[index]:
                return k
        return candidates[0]

    def _by_size(self, group: list[int], hidden: np.ndarray) -> list[int]:
        """The shown values of ``group``, smallest first, non-zero before zero."""
        shown = [k for k in group if not hidden[k]]
        return sorted(shown, key=lambda k: (self.values[k] == 0, self.values[k], k))

    def _totals(self, kind: str) -> list[int]:
        start, size = (self.row_index, self.n_rows) if kind == "row" else (self.col_index, self.n_cols)
        return [] if start is None else list(range(start, start + size))

    def _row_total(self, i):
        return None if self.row_index is None else self.row_index + i

    def _col_total(self, j):
        return None if self.col_index is None else self.col_index + j

    def result(self, hidden: np.ndarray) -> SuppressedTable:
        n_cells = self.n_rows * self.n_cols
        rows = cols = None
        if self.row_index is not None:
            rows = slice(self.row_index, self.row_index + self.n_rows)
        if self.col_index is not None:
            cols = slice(self.col_index, self.col_index + self.n_cols)
        return SuppressedTable(
            counts=self.table,
            hidden=hidden[:n_cells].reshape(self.table.shape),
            row_totals=None if rows is None else self.values[rows],
            row_total_hidden=None if rows is None else hidden[rows],
            column_totals=None if cols is None else self.values[cols],
            column_total_hidden=None if cols is None else hidden[cols],
            grand_total=int(self.table.sum()),
            grand_total_hidden=bool(hidden[self.grand_index]) if self.grand_index is not None
            else is_small(int(self.table.sum())),
        )


def suppress_counts(counts: Sequence[int], *, total_shown: bool = True) -> SuppressedTable:
    """One row of counts (a histogram, a breakdown) whose total the page shows or implies."""
    return suppress_table([list(counts)], row_totals=total_shown, column_totals=False)
