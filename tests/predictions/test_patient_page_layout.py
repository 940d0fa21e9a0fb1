"""The patient page puts its summary first: the ranking, the decision form and, for the roles
that see them, the truth beside the prediction and the review rubric, before the observed values,
the explanations and the PGx guidance, which wait in closed sections a reader opens. The PGx
table cites each source once."""

import html
import re

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.consent.reads import consented_patient
from decision_support.lib.vocabulary import Purpose
from decision_support.predictions.selectors import patient_guidance

pytestmark = pytest.mark.django_db

# What each role sees at the top, in this order: the ranking, then what it may do or read.
SUMMARY = {
    Role.EDUCATOR: ('id="ranking-table"', 'id="decision-form"', 'id="truth-table"'),
    Role.STUDENT: ('id="ranking-table"', 'id="decision-form"'),
    Role.ETHICS_REVIEWER: ('id="ranking-table"', 'id="decision-section"', 'id="review-form"'),
}
THE_REST = ("values", "explanations", "pgx")  # the headings of the closed sections, in order


def _page(client, user, patient, query="") -> str:
    client.force_login(user)
    response = client.get(reverse("patient_detail", args=[patient.pseudonym]) + query)
    assert response.status_code == 200
    return response.content.decode()


def _section_opening(page: str, heading: str) -> str:
    """The ``<details>`` tag whose summary holds the heading ``heading``."""
    match = re.search(r'(<details[^>]*>)\s*<summary><h2 id="' + heading + '"', page)
    assert match, f"{heading} is not the summary of a <details>"
    return match.group(1)


@pytest.mark.parametrize("role", sorted(SUMMARY))
def test_the_summary_comes_before_the_sections_a_reader_opens(client, make_user, patient, role):
    page = _page(client, make_user(role), patient)
    summary = [page.index(marker) for marker in SUMMARY[role]]
    rest = [page.index(f'<h2 id="{heading}"') for heading in THE_REST]
    assert summary == sorted(summary) and rest == sorted(rest)
    assert max(summary) < min(rest)
    for heading in THE_REST:
        assert " open" not in _section_opening(page, heading), heading


def test_the_explanations_open_where_the_reader_chose_an_algorithm(client, make_user, patient):
    page = _page(client, make_user(Role.STUDENT), patient, "?algorithm=random_forest")
    assert " open" in _section_opening(page, "explanations")
    assert 'id="explain-form" action="#explanations"' in page


def test_the_pgx_table_cites_each_source_once(client, make_user, patient):
    guidance = patient_guidance(consented_patient(patient, purpose=Purpose.EDUCATION))
    citations = [rule.citation for rule in guidance]
    assert len(set(citations)) < len(citations), "the patient needs two rules citing one source"
    page = html.unescape(_page(client, make_user(Role.EDUCATOR), patient))
    table = page.split('id="pgx-table"', 1)[1].split("</table>", 1)[0]
    references = page.split('id="pgx-references"', 1)[1].split("</ol>", 1)[0]
    numbers = {citation: n for n, citation in enumerate(dict.fromkeys(citations), start=1)}
    for citation, n in numbers.items():
        assert page.count(citation) == 1
        assert f'<li id="pgx-reference-{n}">{citation}</li>' in references
        assert table.count(f'href="#pgx-reference-{n}"') == citations.count(citation)
