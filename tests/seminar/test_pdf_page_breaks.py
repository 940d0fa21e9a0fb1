"""Printed pages break where a reader expects (``tests.pdf_pages``): no heading, caption or
table header left at the foot of a page, and no page left mostly blank before one that does not
begin a new case. One render per document, on the seminar tests' small trained cohort: the model
card (printed from its page through the packets' weasyprint path), an educator's case packet
with the key (the longest), and a seminar pack of three cases. Lesson plans: tests/lessons;
the exercise summary: tests/exercises/test_reveal.py."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from decision_support.accounts.roles import Role
from decision_support.lib.vocabulary import Purpose
from decision_support.lib.printing import pdf_from_html
from decision_support.seminar.services import seminar_pack_create
from tests.pdf_pages import page_break_faults, printed

pytestmark = pytest.mark.django_db


def _model_card(client, _monkeypatch, trained):
    """No PDF of its own: the page as a browser prints it, through the app's PDF path."""
    model = trained["model"]
    html = client.get(reverse("model_card", args=[model.run_id, model.arm])).content.decode()
    return pdf_from_html(html), html


def _case_packet(client, monkeypatch, trained):
    return printed(client, monkeypatch, reverse("case_packet_pdf",
                                                 args=[trained["patient"].pseudonym]), {"key": "on"})


def _seminar_pack(client, monkeypatch, trained):
    pack = seminar_pack_create(actor=client.user, purpose=Purpose.EDUCATION, name="Three cases",
                               patients=trained["patients"], questions="What would you ask?")
    return printed(client, monkeypatch, reverse("seminar_pack_pdf", args=[pack.pk]))


@pytest.mark.parametrize("document", [_model_card, _case_packet, _seminar_pack],
                         ids=["model-card", "case-packet", "seminar-pack"])
def test_no_page_ends_with_a_heading_or_caption_or_is_left_mostly_blank(trained, signed_in,
                                                                        monkeypatch, document):
    content, html = document(signed_in(Role.EDUCATOR), monkeypatch, trained)
    faults = page_break_faults(content, html)
    assert faults == [], "\n".join(faults)


def test_every_printed_page_of_the_model_card_says_synthetic_and_its_number(trained, signed_in):
    content, _html = _model_card(signed_in(Role.EDUCATOR), None, trained)
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]
    assert len(pages) > 1
    for number, text in enumerate(pages, start=1):
        assert "Synthetic data, not for clinical use" in text, number
        assert f"Page {number} of {len(pages)}" in text
