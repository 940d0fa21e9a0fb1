"""The CSV cohort importer: validates every cell against the data dictionary. Plain Python.

A file is accepted whole or rejected whole: ``read_patients_csv`` either returns a frame like
the generator's ``Cohort.patients`` or raises ``CohortImportError`` listing every problem found
(up to ``MAX_REPORTED``), each naming its spreadsheet row (the header is row 1) and column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .dictionary import DATA_DICTIONARY, PATIENT_COLUMNS, Variable

MAX_REPORTED = 20

# File-level problems
TOO_LARGE = "the file is over the size limit of {limit:,} bytes"
NO_PATIENT_ROWS = "no patient rows: the file is empty or has only a header"
NOT_UTF8 = "byte 0x{byte:02x} is not UTF-8 text; save the file as CSV UTF-8"
# Parser problems: at the row and cell where the file stops being CSV
UNCLOSED_QUOTE = 'a quoted cell opens here and is never closed (a " is missing)'
NOT_CSV = "not valid CSV here: {error}"
# Row problems: a row with more or fewer cells than the header (the column is the first without
# a header, or the first without a cell)
EXTRA_CELLS = "the row has {n} cells, the header {width}; this cell has no column"
MISSING_CELLS = "the row has {n} cells, the header {width}; this column has no cell"
# Header problems (row 1)
MISSING_COLUMN = "missing column"
UNKNOWN_COLUMN = "{name!r} is not a column of the data dictionary"
DUPLICATE_COLUMN = "column appears more than once"
# Cell problems
MISSING_VALUE = "missing value"
NOT_A_NUMBER = "{value!r} is not a number"
NOT_FINITE = "{value!r} is not a finite number"
NOT_WHOLE = "{value!r} is not a whole number"
OUT_OF_RANGE = "{value!r} is out of range (allowed: {allowed})"
UNKNOWN_CATEGORY = "{value!r} is not an allowed category (allowed: {allowed})"
DUPLICATE_ID = "duplicate patient_id, already in row {value}"
REMISSION_WITHOUT_RESPONSE = "remission is 1 but response is 0 (remission implies response)"

_NON_FINITE_WORDS = ("nan", "inf", "infinity")
_DTYPES = {"identifier": np.int64, "integer": np.int64, "binary": np.int8, "float": np.float64}
_COLUMN_ORDER = {name: i for i, name in enumerate(PATIENT_COLUMNS)}
# What the csv module treats specially: quotes, the delimiter and line breaks.
_CSV_TOKEN = re.compile(r'"|,|\r\n?|\n')


@dataclass(frozen=True)
class Problem:
    """One reason to reject a file. ``row`` and ``column`` are None where they do not apply."""

    row: int | None
    column: str | None
    message: str

    def __str__(self):
        where = [f"row {self.row}"] if self.row is not None else []
        where += [f"column {self.column}"] if self.column is not None else []
        return f"{', '.join(where)}: {self.message}" if where else self.message


class CohortImportError(ValueError):
    """The file was rejected: ``problems`` are the first ``MAX_REPORTED``, ``total`` counts all."""

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = problems[:MAX_REPORTED]
        self.total = len(problems) if total is None else total
        lines = [str(p) for p in self.problems]
        if self.total > len(lines):
            lines.append(f"... and {self.total - len(lines):,} more")
        super().__init__("\n".join(lines))


class _Problems:
    """Collects invalid cells a column at a time; formats only those it will report."""

    def __init__(self):
        self.total = 0
        self.reported: list[Problem] = []

    def flag(self, failing: pd.Series, column: str, template: str, values: pd.Series, **fields):
        rows = failing.index[failing.to_numpy()]
        self.total += len(rows)
        self.reported += [Problem(int(row), column, template.format(value=values[row], **fields))
                          for row in rows[:MAX_REPORTED]]

    def raise_if_any(self):
        if self.total:
            self.reported.sort(key=lambda p: (p.row, _COLUMN_ORDER[p.column]))
            raise CohortImportError(self.reported, self.total)


def read_patients_csv(data: bytes, *, max_bytes: int) -> pd.DataFrame:
    """Validate a CSV file of patients against the data dictionary and return it as a frame.

    Parameters
    ----------
    data : bytes
        The file's contents: UTF-8 (a byte-order mark is allowed), a header row naming every
        column of ``PATIENT_COLUMNS`` in any order, then one row per patient. Blank rows are
        ignored.
    max_bytes : int
        Files larger than this are rejected before anything else is looked at.

    Returns
    -------
    pandas.DataFrame
        The columns ``PATIENT_COLUMNS`` in that order, with the generator's dtypes: int64 for
        identifiers and integers, int8 for binaries, float64 for floats and categoricals with
        the dictionary's categories, so a generated cohort's ``to_csv()`` reads back equal to
        its ``patients``.

    Raises
    ------
    CohortImportError
        With ``problems`` naming row and column of each (the column by its number where the
        header does not name it): a file over ``max_bytes`` and no patient rows (these two
        without row and column), bytes that are not UTF-8, malformed CSV (a quote never closed,
        text after a closing quote), rows with more or fewer cells than the header, missing,
        unknown or repeated columns, and cells that are empty, not numbers, not finite, not whole
        (integers), out of range, unknown categories, repeated patient ids, or remission without
        response.

    Examples
    --------
    >>> from synthetic_data import make_cohort
    >>> cohort = make_cohort(3, random_state=1)
    >>> read_patients_csv(cohort.to_csv().encode(), max_bytes=10_000).equals(cohort.patients)
    True
    """
    if len(data) > max_bytes:
        raise CohortImportError([Problem(None, None, TOO_LARGE.format(limit=max_bytes))])
    records = _parse(_decode(data))
    header = [name.strip() for name in records[0]] if records else []
    # Spreadsheet row numbers: the header is row 1; blank rows are left out.
    records = {row: cells for row, cells in enumerate(records[1:], start=2) if any(cells)}
    if not records:
        raise CohortImportError([Problem(None, None, NO_PATIENT_ROWS)])
    _check_header(header)
    _check_widths(records, header)
    rows = pd.DataFrame.from_dict(records, orient="index", columns=header, dtype=str)
    problems = _Problems()
    columns = {name: _column(DATA_DICTIONARY[name], rows[name], problems)
               for name in PATIENT_COLUMNS}
    _check_patients(columns, problems)
    problems.raise_if_any()
    return pd.DataFrame(columns).reset_index(drop=True).astype(
        {name: _DTYPES[DATA_DICTIONARY[name].kind] for name in PATIENT_COLUMNS
         if not DATA_DICTIONARY[name].categories})


def _decode(data: bytes) -> str:
    body = data.removeprefix(codecs.BOM_UTF8)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        before = body[:error.start].decode("utf-8")
        raise CohortImportError(
            [_located(before, NOT_UTF8.format(byte=body[error.start]))]) from None


def _parse(text: str) -> list[list[str]]:
    """Every record's cells as text; the header is the first record."""
    try:
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise CohortImportError([_located(text, NOT_CSV.format(error=error))]) from None


def _located(text: str, message: str) -> Problem:
    """A parser problem at the end of ``text`` (or where its quoting breaks), named by row and
    column; a quote still open at the end is named as such, whatever the parser said."""
    row, cell, still_quoted = _position(text)
    header = next(csv.reader(io.StringIO(text, newline="")), []) if row > 1 else []
    column = header[cell].strip() if cell < len(header) else str(cell + 1)
    return Problem(row, column, UNCLOSED_QUOTE if still_quoted else message)


def _position(text: str) -> tuple[int, int, bool]:
    """The spreadsheet row and 0-based cell of the first text after a closing quote (where the
    csv module's strict mode stops), else of the end of ``text``, and whether a quoted cell is
    still open there. Counts as the csv module does: a line break inside quotes stays in its
    cell, a doubled quote inside quotes is one quote, a quote inside an unquoted cell is text."""
    row, cell, quoted, closed, plain, end = 1, 0, False, False, False, 0
    for token in _CSV_TOKEN.finditer(text):
        if token.start() > end and not quoted:  # text outside quotes
            if closed:
                return row, cell, False
            plain = True
        end, char = token.end(), token.group()
        if quoted:
            quoted, closed = char != '"', char == '"'
        elif char == '"':
            if not plain:  # a cell's opening quote, or the second of a doubled one
                quoted, closed = True, False
        elif char == ",":
            cell, closed, plain = cell + 1, False, False
        else:  # a line break ends the row
            row, cell, closed, plain = row + 1, 0, False, False
    return row, cell, quoted


def _check_header(names: list[str]) -> None:
    counts = Counter(names)
    problems = [Problem(1, name, UNKNOWN_COLUMN.format(name=name))
                for name in counts if name not in _COLUMN_ORDER]
    problems += [Problem(1, name, DUPLICATE_COLUMN) for name, count in counts.items() if count > 1]
    problems += [Problem(1, name, MISSING_COLUMN) for name in PATIENT_COLUMNS if name not in names]
    if problems:
        raise CohortImportError(problems)


def _check_widths(records: dict[int, list[str]], header: list[str]) -> None:
    """Every row has as many cells as the header has columns."""
    width = len(header)
    problems = [Problem(row, header[len(cells)] if len(cells) < width else str(width + 1),
                        (MISSING_CELLS if len(cells) < width else EXTRA_CELLS)
                        .format(n=len(cells), width=width))
                for row, cells in records.items() if len(cells) != width]
    if problems:
        raise CohortImportError(problems)


def _column(variable: Variable, text: pd.Series, problems: _Problems) -> pd.Series:
    """One column parsed, with NaN where a cell is invalid; each invalid cell is flagged with
    the first check it fails."""
    if variable.categories:
        known = text.isin(variable.categories)
        values = text.where(known).astype(pd.CategoricalDtype(variable.categories))
        checks = [(~known, UNKNOWN_CATEGORY)]
    else:
        values = pd.to_numeric(text, errors="coerce").astype(np.float64)
        unparsed = text[values.isna()].str.strip().str.lower().str.lstrip("+-")
        non_finite = np.isinf(values) | unparsed.isin(_NON_FINITE_WORDS).reindex(
            text.index, fill_value=False)
        checks = [(non_finite, NOT_FINITE), (values.isna(), NOT_A_NUMBER)]
        if variable.kind != "float":
            checks.append((values % 1 != 0, NOT_WHOLE))
        checks.append(((values < variable.minimum) | (values > variable.maximum), OUT_OF_RANGE))
    invalid = text == ""
    problems.flag(invalid, variable.name, MISSING_VALUE, text)
    for condition, template in checks:
        failing = condition & ~invalid
        problems.flag(failing, variable.name, template, text, allowed=variable.allowed)
        invalid |= failing
    return values.where(~invalid)


def _check_patients(columns: dict[str, pd.Series], problems: _Problems) -> None:
    """Checks across cells: unique patient ids, and remission only with response."""
    ids = columns["patient_id"]
    repeated = ids.duplicated() & ids.notna()
    first = ids[~ids.duplicated()]
    first_row = ids.map(pd.Series(first.index, index=first.to_numpy()))
    problems.flag(repeated, "patient_id", DUPLICATE_ID, first_row)
    problems.flag((columns["remission"] == 1) & (columns["response"] == 0), "remission",
                  REMISSION_WITHOUT_RESPONSE, columns["remission"])
