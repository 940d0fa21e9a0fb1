"""Decisions are private to their author and the course's educators: two students and an educator
record a decision on one patient; every surface that shows a patient shows each reader exactly the
decisions they may see (``predictions.selectors.patient_decisions``)."""

import html
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_create
from decision_support.consent.reads import consented_patient
from decision_support.lib.vocabulary import Purpose
from decision_support.predictions.selectors import patient_ranking
from decision_support.predictions.services import decision_record

pytestmark = pytest.mark.django_db

AUTHORS = {"student_a": Role.STUDENT, "student_b": Role.STUDENT, "teacher": Role.EDUCATOR}
READERS = {**AUTHORS, "reviewer": Role.ETHICS_REVIEWER}
# Reader -> the authors whose decisions they see.
SEES = {"student_a": {"student_a"}, "student_b": {"student_b"},
        "teacher": set(AUTHORS), "reviewer": set()}


def _reason(author: str) -> str:
    return f"Chosen on purpose by {author}"


@pytest.fixture
def people(make_user, patient, run):
    """The four readers; each author has recorded one decision (another arm than the top one, with
    a reason that names them) on ``patient``."""
    users = {name: make_user(role, username=name) for name, role in READERS.items()}
    consented = consented_patient(patient, purpose=Purpose.EDUCATION)
    arm = list(patient_ranking(consented, run)["arm"])[1]
    for name in AUTHORS:
        decision_record(patient=patient, actor=users[name], arm=arm, reason=_reason(name),
                        purpose=Purpose.EDUCATION)
    return users


def _shown(text: str) -> set[str]:
    return {author for author in AUTHORS if _reason(author) in text}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_the_patient_page_shows_each_reader_only_the_decisions_they_may_see(client, people,
                                                                             patient, reader):
    client.force_login(people[reader])
    response = client.get(reverse("patient_detail", args=[patient.pseudonym]))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    start = page.index('id="decision-table"')
    table = page[start:page.index("</table>", start)]
    assert _shown(page) == SEES[reader]
    assert {d["decision"].decided_by for d in response.context["decisions"]} == SEES[reader]
    for author in set(AUTHORS) - SEES[reader] - {reader}:
        assert author not in table  # not even who decided


@pytest.mark.parametrize("reader", ["student_a", "teacher"])
def test_the_caption_says_whose_decisions_are_listed(client, people, patient, reader):
    client.force_login(people[reader])
    page = html.unescape(client.get(reverse("patient_detail", args=[patient.pseudonym]))
                         .content.decode())
    expected = ("by everyone in the course" if reader == "teacher"
                else "only you and the course's educators see them")
    assert expected in page


@pytest.mark.parametrize("reader", ["teacher", "reviewer"])
def test_case_packets_and_their_pdf_show_no_other_persons_decision(client, people, patient,
                                                                   reader):
    client.force_login(people[reader])
    packet = client.get(reverse("case_packet", args=[patient.pseudonym]))
    assert packet.status_code == 200
    assert not _shown(html.unescape(packet.content.decode())) - {reader}
    pdf = client.get(reverse("case_packet_pdf", args=[patient.pseudonym]))
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert not _shown(text) - {reader}


@pytest.mark.parametrize("reader", ["student_a", "student_b", "teacher"])
@pytest.mark.parametrize("endpoint", ["api_patient", "api_patient_predictions",
                                      "api_patient_explanations"])
def test_the_api_shows_no_other_persons_decision(client, people, patient, reader, endpoint):
    token = api_token_create(user=people[reader], name="privacy")[1]
    response = client.get(reverse(f"api:{endpoint}", args=[patient.pseudonym]),
                          HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert not _shown(response.content.decode()) - {reader}
