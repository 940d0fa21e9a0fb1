import csv
import io

import pytest

from decision_support.lib.csv_safety import csv_download, csv_text, safe_cell


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1:A2)",
                                   "\t=1", "\r=1", -1])
def test_a_cell_that_could_start_a_formula_gets_a_quote(value):
    assert safe_cell(value) == "'" + str(value)


@pytest.mark.parametrize("value, text", [("EUR", "EUR"), (12, "12"), (None, ""), ("a=b", "a=b"),
                                         ("<11", "<11")])
def test_other_cells_are_unchanged(value, text):
    assert safe_cell(value) == text


def test_every_cell_of_a_download_is_neutralised():
    response = csv_download("x.csv", [["name", "n"], ['=HYPERLINK("x")', "+1"], ["@SUM", -1]])
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["name", "n"], ['\'=HYPERLINK("x")', "'+1"], ["'@SUM", "'-1"]]


def test_it_refuses_a_filename_that_could_break_the_header():
    with pytest.raises(ValueError):
        csv_download('a"; b.csv', [])


def test_text_quotes_embedded_separators():
    assert csv_text([["a,b", 'say "hi"']]) == '"a,b","say ""hi"""\r\n'
