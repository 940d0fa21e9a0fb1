"""Reading a class roster: a CSV file with the columns ``username,display_name``.

The file is read whole before anything is written, and refused whole if any row is bad, each
problem named by its row (the header is row 1, as a spreadsheet shows it) and column:

- it must be UTF-8 (a byte-order mark is allowed), at most ``ROSTER_MAX_BYTES`` and
  ``ROSTER_MAX_ROWS`` rows;
- the header must name exactly the two columns, in any order;
- a username must pass Django's username validator and fit the user model's length; the same
  username twice (ignoring case) is refused at its second row;
- a display name must be given, at most ``DISPLAY_NAME_MAX_CHARS``, without control characters.

Blank lines are skipped. Whether a username may be used in this course (a new account, or a
member already) is the import service's rule (``services.course_roster_import``), which reports
its problems in the same form.
"""

import csv
import io
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from .models import Membership

COLUMNS = ("username", "display_name")
ROSTER_MAX_BYTES = 256 * 1024
ROSTER_MAX_ROWS = 500
DISPLAY_NAME_MAX_CHARS = Membership._meta.get_field("display_name").max_length
FILE = "file"  # the column named for problems of the whole file

TOO_LARGE = "The file is larger than the limit of {limit:,} bytes."
NOT_UTF8 = "The file is not UTF-8 text (save it as 'CSV UTF-8')."
NOT_CSV = "The file is not readable as CSV: {error}."
EMPTY = "The first row must be the header username,display_name."
MISSING_COLUMN = "The header has no column '{column}' (it must be username,display_name)."
UNKNOWN_COLUMN = "The header has a column '{column}' this roster does not use."
REPEATED_COLUMN = "The header names '{column}' twice."
WRONG_CELL_COUNT = "The row has {count} cells; the header has {expected}."
TOO_MANY_ROWS = "The roster has more than {limit} students."
NO_ROWS = "The roster lists nobody."
REQUIRED = "A {column} is required."
TOO_LONG = "At most {limit} characters; this one has {length}."
CONTROL_CHARACTERS = "Control characters (such as line breaks or tabs) are not allowed."
DUPLICATE = "'{username}' is listed twice (also in row {first}); usernames ignore case here."


@dataclass(frozen=True)
class RosterRow:
    row: int
    username: str
    display_name: str


@dataclass(frozen=True)
class RosterProblem:
    row: int | None  # None: the file as a whole
    column: str
    message: str

    def __str__(self):
        where = f"Row {self.row}, column {self.column}" if self.row else f"The {self.column}"
        return f"{where}: {self.message}"


class RosterRefused(Exception):
    """The roster was refused whole; ``problems`` names each bad row and column."""

    def __init__(self, problems: list[RosterProblem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def roster_parse(data: bytes) -> list[RosterRow]:
    """The roster's rows, or ``RosterRefused`` naming every problem found."""
    if len(data) > ROSTER_MAX_BYTES:
        raise RosterRefused([RosterProblem(None, FILE, TOO_LARGE.format(
            limit=ROSTER_MAX_BYTES))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[:error.start].count(b"\n") + 1
        raise RosterRefused([RosterProblem(row, FILE, NOT_UTF8)]) from None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise RosterRefused([RosterProblem(None, FILE, NOT_CSV.format(error=error))]) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise RosterRefused([RosterProblem(1, FILE, EMPTY)])
    positions = _header(records[0])
    problems, rows = [], []
    first_row = {}
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) == ROSTER_MAX_ROWS:
            raise RosterRefused([RosterProblem(number, FILE, TOO_MANY_ROWS.format(
                limit=ROSTER_MAX_ROWS))])
        if len(cells) != len(records[0]):
            problems.append(RosterProblem(number, FILE, WRONG_CELL_COUNT.format(
                count=len(cells), expected=len(records[0]))))
            continue
        row = RosterRow(number, cells[positions["username"]].strip(),
                        cells[positions["display_name"]].strip())
        row_problems = _username_problems(row) + _display_name_problems(row)
        key = row.username.casefold()
        if not row_problems and key in first_row:
            row_problems.append(RosterProblem(number, "username", DUPLICATE.format(
                username=row.username, first=first_row[key])))
        first_row.setdefault(key, number)
        problems += row_problems
        rows.append(row)
    if problems:
        raise RosterRefused(problems)
    if not rows:
        raise RosterRefused([RosterProblem(2, FILE, NO_ROWS)])
    return rows


def _header(cells: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in cells]
    problems = [RosterProblem(1, name, REPEATED_COLUMN.format(column=name))
                for i, name in enumerate(names) if name in names[:i]]
    problems += [RosterProblem(1, name or "(blank)", UNKNOWN_COLUMN.format(column=name))
                 for name in names if name not in COLUMNS]
    problems += [RosterProblem(1, column, MISSING_COLUMN.format(column=column))
                 for column in COLUMNS if column not in names]
    if problems:
        raise RosterRefused(problems)
    return {name: names.index(name) for name in COLUMNS}


def _username_problems(row: RosterRow) -> list[RosterProblem]:
    field = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD)
    if not row.username:
        return [RosterProblem(row.row, "username", REQUIRED.format(column="username"))]
    if len(row.username) > field.max_length:
        return [RosterProblem(row.row, "username", TOO_LONG.format(
            limit=field.max_length, length=len(row.username)))]
    try:
        for validator in field.validators:
            validator(row.username)
    except ValidationError as error:
        return [RosterProblem(row.row, "username", " ".join(error.messages))]
    return []


def _display_name_problems(row: RosterRow) -> list[RosterProblem]:
    name = row.display_name
    if not name:
        return [RosterProblem(row.row, "display_name", REQUIRED.format(column="display name"))]
    if len(name) > DISPLAY_NAME_MAX_CHARS:
        return [RosterProblem(row.row, "display_name", TOO_LONG.format(
            limit=DISPLAY_NAME_MAX_CHARS, length=len(name)))]
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return [RosterProblem(row.row, "display_name", CONTROL_CHARACTERS)]
    return []
