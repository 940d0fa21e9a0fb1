"""The CSV importer: a generated cohort reads back unchanged; any bad cell is named by row and
column. Spreadsheet rows: the header is row 1, the first patient row 2."""

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from synthetic_data import (
    DATA_DICTIONARY,
    PATIENT_COLUMNS,
    CohortImportError,
    make_cohort,
    read_patients_csv,
)
from synthetic_data import importer

LIMIT = 10_000_000
N_PATIENTS = 12


def _rows(n_patients=N_PATIENTS, seed=1) -> list[list[str]]:
    return list(csv.reader(io.StringIO(make_cohort(n_patients, random_state=seed).to_csv())))


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _with_cell(row: int, column: str, value: str, rows=None) -> bytes:
    """A valid file with the cell at spreadsheet ``row`` and ``column`` set to ``value``."""
    rows = rows or _rows()
    rows[row - 1][rows[0].index(column)] = value
    return _csv(rows)


def _rejection(data: bytes, max_bytes=LIMIT) -> CohortImportError:
    with pytest.raises(CohortImportError) as info:
        read_patients_csv(data, max_bytes=max_bytes)
    return info.value


def test_a_generated_cohort_reads_back_equal_with_the_generators_dtypes():
    cohort = make_cohort(500, random_state=11)
    pd.testing.assert_frame_equal(read_patients_csv(cohort.to_csv().encode(), max_bytes=LIMIT),
                                  cohort.patients)


def test_it_accepts_columns_in_any_order_a_byte_order_mark_and_blank_rows():
    cohort = make_cohort(30, random_state=3)
    shuffled = cohort.patients[list(reversed(PATIENT_COLUMNS))].to_csv(index=False)
    lines = shuffled.split("\n")
    data = ("\ufeff" + "\n".join(lines[:5] + ["", ",,,"] + lines[5:]) + "\n\n").encode()
    pd.testing.assert_frame_equal(read_patients_csv(data, max_bytes=LIMIT), cohort.patients)


def test_it_returns_a_fresh_zero_based_index():
    frame = read_patients_csv(_csv(_rows()), max_bytes=LIMIT)
    assert frame.index.equals(pd.RangeIndex(N_PATIENTS))


@pytest.mark.parametrize("column, value, message", [
    ("crp_mg_l", "abc", "'abc' is not a number"),
    ("age", "=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")' is not a number"),
    ("il6_pg_ml", "NaN", "'NaN' is not a finite number"),
    ("il6_pg_ml", "nan", "'nan' is not a finite number"),
    ("racc_theta_z", "inf", "'inf' is not a finite number"),
    ("racc_theta_z", "-Infinity", "'-Infinity' is not a finite number"),
    ("bdnf_serum_ng_ml", "1e999", "'1e999' is not a finite number"),
    ("age", "41.5", "'41.5' is not a whole number"),
    ("age", "17", "'17' is out of range (allowed: 18 to 100)"),
    ("crp_mg_l", "1e308", "'1e308' is out of range (allowed: 0.01 to 300)"),
    ("fkbp5_methylation", "-0.001", "'-0.001' is out of range (allowed: 0 to 1)"),
    ("response", "2", "'2' is out of range (allowed: 0 or 1)"),
    ("anxious_depression", "0.5", "'0.5' is not a whole number"),
    ("sex", "F", "'F' is not an allowed category (allowed: female, male)"),
    ("arm", "lithium", "'lithium' is not an allowed category (allowed: placebo, ssri, snri, "
                       "bupropion, cbt, rtms, esketamine)"),
    ("hamd17", "", "missing value"),
    ("ancestry", "", "missing value"),
])
def test_it_rejects_a_bad_cell_naming_its_row_and_column(column, value, message):
    error = _rejection(_with_cell(7, column, value))
    assert [(p.row, p.column, p.message) for p in error.problems] == [(7, column, message)]
    assert str(error) == f"row 7, column {column}: {message}"


def test_it_rejects_duplicate_patient_ids_naming_both_rows():
    rows = _rows()
    rows[8][0] = rows[2][0]  # spreadsheet row 9 repeats row 3
    error = _rejection(_csv(rows))
    assert str(error) == "row 9, column patient_id: duplicate patient_id, already in row 3"


def test_it_rejects_remission_without_response():
    rows = _rows()
    response, remission = rows[0].index("response"), rows[0].index("remission")
    rows[4][response], rows[4][remission] = "0", "1"
    error = _rejection(_csv(rows))
    assert str(error) == f"row 5, column remission: {importer.REMISSION_WITHOUT_RESPONSE}"


def _drop_column(rows, name):
    i = rows[0].index(name)
    return [r[:i] + r[i + 1:] for r in rows]


@pytest.mark.parametrize("edit, column, message", [
    (lambda rows: _drop_column(rows, "crp_mg_l"), "crp_mg_l", importer.MISSING_COLUMN),
    (lambda rows: [rows[0] + ["favourite_colour"]] + [r + ["blue"] for r in rows[1:]],
     "favourite_colour", "'favourite_colour' is not a column of the data dictionary"),
    (lambda rows: [r + [r[1]] for r in rows], "age", importer.DUPLICATE_COLUMN),
], ids=["missing", "unknown", "duplicate"])
def test_it_rejects_a_bad_header_naming_the_column(edit, column, message):
    error = _rejection(_csv(edit(_rows())))
    assert [(p.row, p.column, p.message) for p in error.problems] == [(1, column, message)]
    assert str(error) == f"row 1, column {column}: {message}"


@pytest.mark.parametrize("data", [
    b"",
    b"  \n\n",
    ",".join(PATIENT_COLUMNS).encode(),
    _csv(_rows()[:1] + [[""] * len(PATIENT_COLUMNS)]),
], ids=["zero bytes", "whitespace", "header only", "header and blank row"])
def test_it_rejects_a_file_without_patient_rows(data):
    assert str(_rejection(data)) == importer.NO_PATIENT_ROWS


def test_it_rejects_a_file_over_the_size_limit_before_reading_it():
    data = _csv(_rows()) + b"\xff"  # the size is checked before the bytes are decoded
    error = _rejection(data, max_bytes=len(data) - 1)
    assert str(error) == f"the file is over the size limit of {len(data) - 1:,} bytes"
    read_patients_csv(data[:-1], max_bytes=len(data) - 1)


def test_it_rejects_non_utf8_bytes_naming_the_row_and_column():
    data = _with_cell(5, "sex", "fem\xe4le").replace("ä".encode(), b"\xe4")  # Latin-1
    error = _rejection(data)
    assert [(p.row, p.column) for p in error.problems] == [(5, "sex")]
    assert str(error) == "row 5, column sex: byte 0xe4 is not UTF-8 text; save the file as CSV UTF-8"


def _raw_cell(row: int, column: str, raw: str, rows=None) -> bytes:
    """A valid file with the text at spreadsheet ``row`` and ``column`` replaced by ``raw``
    exactly as written (quotes and all)."""
    rows = rows or _rows()
    rows[row - 1][rows[0].index(column)] = "\x01"
    return _csv(rows).replace(b"\x01", raw.encode())


WIDTH = len(PATIENT_COLUMNS)
LAST = _rows()[0][-1]


@pytest.mark.parametrize("data, row, column, message", [
    (_raw_cell(4, "crp_mg_l", '"12'), 4, "crp_mg_l", importer.UNCLOSED_QUOTE),
    (_raw_cell(4, "crp_mg_l", '"1\n2'), 4, "crp_mg_l", importer.UNCLOSED_QUOTE),
    (_raw_cell(4, "crp_mg_l", '"12"x'), 4, "crp_mg_l",
     importer.NOT_CSV.format(error="',' expected after '\"'")),
    (_raw_cell(6, "sex", "f\x00emale"), 6, "sex", None),
    (_raw_cell(4, "crp_mg_l", "1,2"), 4, str(WIDTH + 1),
     importer.EXTRA_CELLS.format(n=WIDTH + 1, width=WIDTH)),
    (_csv([r[:-1] if i == 5 else r for i, r in enumerate(_rows())]), 6, LAST,
     importer.MISSING_CELLS.format(n=WIDTH - 1, width=WIDTH)),
    # A quoted line break earlier does not shift the rows: a row is a record, not a line.
    (_raw_cell(5, "crp_mg_l", '"12', rows=[r if i != 2 else [r[0], "a\nb", *r[2:]]
                                          for i, r in enumerate(_rows())]),
     5, "crp_mg_l", importer.UNCLOSED_QUOTE),
], ids=["unclosed quote", "unclosed quote over lines", "text after a closing quote", "NUL byte",
        "a cell too many", "a cell too few", "rows after a quoted line break"])
def test_a_file_that_is_not_csv_is_rejected_naming_row_and_column(data, row, column, message):
    error = _rejection(data)
    assert [(p.row, p.column) for p in error.problems][:1] == [(row, column)]
    if message:
        assert str(error).splitlines()[0] == f"row {row}, column {column}: {message}"


def test_it_reports_problems_in_row_order_up_to_a_cap():
    rows = _rows(60)
    for row in rows[1:]:
        row[rows[0].index("hamd17")] = "x"
        row[rows[0].index("age")] = "x"
    error = _rejection(_csv(rows))
    assert error.total == 120
    assert len(error.problems) == importer.MAX_REPORTED
    assert [(p.row, p.column) for p in error.problems[:3]] == [
        (2, "age"), (2, "hamd17"), (3, "age")]
    assert str(error).splitlines()[-1] == f"... and {120 - importer.MAX_REPORTED} more"


# Property tests

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_ ", min_size=1,
                 max_size=12)


def _bad_values(variable):
    """Values that are wrong for ``variable``, whatever the rest of its row."""
    fixed = st.sampled_from(["NaN", "nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "",
                             '=HYPERLINK("x")', "N/A"])
    if variable.categories:
        return st.one_of(fixed, _WORDS.filter(lambda s: s not in variable.categories),
                         st.integers().map(str))
    finite = {"allow_nan": False, "allow_infinity": False}
    out_of_range = st.one_of(
        st.floats(max_value=variable.minimum - 0.01, min_value=-1e300, **finite),
        st.floats(min_value=variable.maximum + 0.01, max_value=1e300, **finite),
    ).map(repr)
    return st.one_of(fixed, out_of_range, _WORDS)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_patients=st.integers(1, 8), data=st.data())
def test_any_single_bad_cell_is_named_by_row_and_column(seed, n_patients, data):
    rows = _rows(n_patients, seed)
    row = data.draw(st.integers(2, n_patients + 1), label="row")
    column = data.draw(st.sampled_from(PATIENT_COLUMNS), label="column")
    value = data.draw(_bad_values(DATA_DICTIONARY[column]), label="value")
    error = _rejection(_with_cell(row, column, value, rows))
    assert [(p.row, p.column) for p in error.problems] == [(row, column)]
    assert f"row {row}, column {column}: " in str(error)


_VALID = _csv(_rows(5))


@st.composite
def _spliced(draw):
    """A valid file with random bytes written over part of it."""
    start = draw(st.integers(0, len(_VALID)))
    end = draw(st.integers(start, min(len(_VALID), start + 20)))
    return _VALID[:start] + draw(st.binary(max_size=20)) + _VALID[end:]


@st.composite
def _corrupted(draw):
    """A valid file with a few bytes inserted, overwritten or removed at a random place, bytes
    that break CSV or UTF-8 likely among them."""
    at = draw(st.integers(0, len(_VALID)))
    removed = draw(st.integers(0, 3))
    inserted = draw(st.lists(st.one_of(st.sampled_from([b'"', b",", b"\n", b"\r", b"\x00",
                                                        b"\xe4", b"\xff", b"\xc3", b'""']),
                                       st.binary(max_size=3)), max_size=4))
    return _VALID[:at] + b"".join(inserted) + _VALID[at + removed:]


@settings(max_examples=300, deadline=None)
@given(payload=_corrupted())
def test_a_corrupted_file_is_imported_or_rejected_naming_row_and_column(payload):
    try:
        read_patients_csv(payload, max_bytes=LIMIT)
    except CohortImportError as error:
        assert error.problems
        assert all(p.row is not None and p.column is not None for p in error.problems), str(error)


@settings(max_examples=100, deadline=None)
@given(payload=st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.text(max_size=200).map(lambda text: _VALID.split(b"\n")[0] + b"\n" + text.encode()),
    _spliced(),
))
def test_arbitrary_bytes_are_imported_or_rejected_with_cohort_import_error(payload):
    try:
        frame = read_patients_csv(payload, max_bytes=LIMIT)
    except CohortImportError as error:
        assert error.problems and str(error)
    else:
        assert list(frame.columns) == list(PATIENT_COLUMNS)
