"""The one CSV writer for web downloads: no cell can start a spreadsheet formula.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading
tab or carriage return can hide such a start), so a value like ``=HYPERLINK("http://x")`` in a
downloaded file could run when opened (OWASP "CSV injection"). Every such cell gets a single
quote in front, which spreadsheets show as text. Numbers are written as text too, so a negative
number becomes ``'-1``: exports here have no negative values; if one ever has, it stays readable.

Plain Python and Django's ``HttpResponse``; ``synthetic_data``'s own ``to_csv`` (a notebook file,
not a web download) does not use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BAD_FILENAME = "filename must be letters, digits, dots, dashes and underscores ending in .csv; got {value!r}"


def safe_cell(value) -> str:
    """``value`` as CSV text that no spreadsheet runs as a formula.

    Examples
    --------
    >>> safe_cell('=HYPERLINK("x")')
    '\\'=HYPERLINK("x")'
    >>> safe_cell(12)
    '12'
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[Sequence]) -> str:
    """Rows (the header first) as CSV text, every cell through ``safe_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def csv_download(filename: str, rows: Iterable[Sequence]) -> HttpResponse:
    """An attachment response with ``rows`` as safe CSV (UTF-8), never cached."""
    if not filename.endswith(".csv") or not all(c.isalnum() or c in "._-" for c in filename):
        raise ValueError(BAD_FILENAME.format(value=filename))
    response = HttpResponse(csv_text(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
