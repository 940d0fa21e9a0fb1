"""Case packets: the printable page and the PDF of one case, and a seminar pack as one PDF."""

import html
import io
import socket
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from decision_support.accounts.access import GENOTYPE_FEATURES
from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.consent.services import consent_withdraw
from decision_support.lib import printing
from decision_support.lib.vocabulary import ConsentClass, Purpose
from decision_support.predictions.services import predictions_pause
from decision_support.seminar import packets
from decision_support.seminar.services import seminar_pack_create
from models.model_card import INTENDED_USE, OUT_OF_SCOPE_USE
from models.pgx import GUIDANCE_DISCLAIMER
from synthetic_data import DATA_DICTIONARY, SCENARIOS, biology_of

pytestmark = pytest.mark.django_db

BANNER = "Synthetic data, not for clinical use"


def _audited(action):
    return list(AuditEntry.objects.filter(action=action))


def _pdf(response) -> PdfReader:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(response.content))


def _top_titles(reader) -> list[str]:
    return [item.title for item in reader.outline if not isinstance(item, list)]


def test_the_packet_page_shows_the_case_as_consent_and_role_allow(trained, signed_in):
    client = signed_in(Role.ETHICS_REVIEWER)
    patient = trained["patient"]
    response = client.get(reverse("case_packet", args=[patient.pseudonym]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert f"{patient.case_label} · <code>{patient.pseudonym}</code>" in body and BANNER in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="waterfall"' in body
    assert "90% interval" in body and html.escape(GUIDANCE_DISCLAIMER) in body
    assert "Model card (excerpt)" in body
    for use in INTENDED_USE + OUT_OF_SCOPE_USE:  # the generated card's, not typed here
        assert html.escape(use) in body
    for question in getattr(SCENARIOS[trained["cohort"].scenario], "questions", ()):
        assert html.escape(question) in body
    assert "CYP2C19 metaboliser phenotype" in body  # reviewers see genetic values
    assert "Educator's key" not in body
    assert reverse("case_packet_pdf", args=[patient.pseudonym]) in body
    [entry] = _audited("patient.packet")
    assert (entry.object_type, entry.object_ref) == ("patient", patient.pseudonym)


def test_only_educators_may_add_the_key_with_the_truth(trained, signed_in):
    path = reverse("case_packet", args=[trained["patient"].pseudonym])
    educator = signed_in(Role.EDUCATOR)
    assert "Educator's key" not in educator.get(path).content.decode()
    assert "True response probability" in educator.get(path, {"key": "on"}).content.decode()
    reviewer = signed_in(Role.ETHICS_REVIEWER)
    assert "Educator's key" not in reviewer.get(path, {"key": "on"}).content.decode()


def test_withheld_data_is_absent_and_the_packet_says_why(trained, signed_in, make_user):
    patient = trained["patient"]
    consent_withdraw(patient=patient, data_class=ConsentClass.GENETIC, purpose=Purpose.EDUCATION,
                     actor=make_user(Role.DATA_STEWARD, username="seminar_steward"))
    body = signed_in(Role.EDUCATOR).get(reverse("case_packet", args=[patient.pseudonym])).content.decode()
    assert html.escape(packets.WITHHELD_BY_CONSENT) in body
    assert "CYP2C19 metaboliser phenotype" not in body
    assert "<strong>no_genetic</strong>" in body
    assert "None: genetic data withheld by consent." in body


def test_roles_that_may_not_see_genetic_values_get_none(trained):
    packet = packets.case_packet(trained["patient"], purpose=Purpose.EDUCATION,
                                 roles=frozenset({Role.STUDENT}), with_key=True)
    shown = {row["name"] for group in packet["groups"] for row in group["rows"]}
    assert shown and not shown & GENOTYPE_FEATURES
    assert any(row["why"] == packets.HIDDEN_FROM_ROLE for row in packet["withheld"])
    assert not packet["show_truth"]
    genetic_labels = {DATA_DICTIONARY[name].label for name in GENOTYPE_FEATURES}
    for label, _ in packet["waterfall_rows"]:
        if any(label.startswith(f"{genetic} (") for genetic in genetic_labels):
            assert label.endswith("(value not shown)"), label


def test_a_paused_prediction_prints_no_ranking_and_no_chart(trained, signed_in, make_user):
    predictions_pause(actor=make_user(Role.EDUCATOR, username="seminar_pauser"), reason="check",
                      purpose=Purpose.EDUCATION)
    body = signed_in(Role.ETHICS_REVIEWER).get(
        reverse("case_packet", args=[trained["patient"].pseudonym])).content.decode()
    assert "Predictions are paused" in body and "<svg" not in body and "90% interval" not in body


@pytest.mark.parametrize("withdrawn", [None, ConsentClass.GENETIC, ConsentClass.BIOMARKER])
def test_the_packet_says_why_each_variable_it_shows_could_matter(trained, signed_in, make_user,
                                                                 withdrawn):
    patient = trained["patient"]
    if withdrawn:
        consent_withdraw(patient=patient, data_class=withdrawn, purpose=Purpose.EDUCATION,
                         actor=make_user(Role.DATA_STEWARD, username="seminar_steward"))
    response = signed_in(Role.EDUCATOR).get(reverse("case_packet", args=[patient.pseudonym]))
    body = html.unescape(response.content.decode())
    shown = {row["name"] for group in response.context["packet"]["groups"] for row in group["rows"]}
    assert "Variables in this packet" in body
    glossary = body.split("Variables in this packet", 1)[1].split("</section>", 1)[0]
    assert shown and (not withdrawn or not any(DATA_DICTIONARY[n].data_class == withdrawn
                                               for n in shown))
    for name in DATA_DICTIONARY:
        entry = f'id="glossary-{patient.pseudonym}-{name}"'
        if name in shown:  # printed whole: no closed <details> that would print nothing
            assert entry in glossary and biology_of(name).biology in glossary, name
            assert biology_of(name).caveat in glossary, name
        else:
            assert entry not in glossary, name
    assert "<details" not in glossary


def test_the_pdf_opens_and_holds_the_case_pseudonym_and_chart(trained, signed_in):
    patient = trained["patient"]
    response = signed_in(Role.ETHICS_REVIEWER).get(reverse("case_packet_pdf", args=[patient.pseudonym]))
    assert response["Content-Disposition"] == f'attachment; filename="case-{patient.pseudonym}.pdf"'
    reader = _pdf(response)
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    assert patient.pseudonym in text and _top_titles(reader) == [f"{patient.case_label} · {patient.pseudonym}"]
    assert all(BANNER in page for page in pages)
    # The chart: the SVG's axis note and its bar labels, which only the chart prints (the table
    # beside it has five decimals, the bars three, signed).
    packet = packets.case_packet(patient, purpose=Purpose.EDUCATION,
                                 roles=frozenset({Role.ETHICS_REVIEWER}))
    assert "dotted line at zero" in text
    assert packet["card"]["roc_auc"] == packet["top"]["model"].metrics["roc_auc"]
    contributions = [row[1] for row in packet["waterfall_rows"][1:-1]]
    assert f"{contributions[0]:+.3f}" in text
    assert "Variables in this packet" in text
    [entry] = _audited("patient.packet_pdf")
    assert entry.object_ref == patient.pseudonym


def test_the_seminar_pack_pdf_has_one_packet_per_case(trained, signed_in):
    client = signed_in(Role.EDUCATOR)
    cases = trained["patients"][:2]
    pack = seminar_pack_create(actor=client.user, purpose=Purpose.EDUCATION, name="Two cases",
                               patients=cases, questions="What would you tell the patient?")
    response = client.get(reverse("seminar_pack_pdf", args=[pack.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="seminar-pack-{pack.pk}.pdf"'
    reader = _pdf(response)
    assert _top_titles(reader) == ["Seminar pack: Two cases", *(f"{p.case_label} · {p.pseudonym}" for p in cases)]
    pages = [page.extract_text() for page in reader.pages]
    assert all(BANNER in page for page in pages)
    assert "What would you tell the patient?" in pages[0]
    for patient in cases:
        assert sum(f"{patient.case_label} · {patient.pseudonym}" in page for page in pages) >= 1
    [entry] = _audited("seminar_pack.pdf")
    assert entry.detail["cases"] == [p.pseudonym for p in cases]


def test_rendering_a_pdf_opens_no_network_connection(monkeypatch):
    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: attempts.append(address))
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kw: attempts.append(args))
    pdf = printing.pdf_from_html(
        '<html><head><link rel="stylesheet" href="http://192.0.2.7/evil.css">'
        '<link rel="stylesheet" href="/static/seminar/packet.css"></head>'
        '<body><img src="https://example.org/pixel.png"><p>offline</p></body></html>')
    assert pdf.startswith(b"%PDF-") and attempts == []
    assert printing.static_path("http://localhost/static/seminar/packet.css").name == "packet.css"
    assert printing.static_path("http://192.0.2.7/evil.css") is None


# --- PDFs in production: static files collected under hashed names ----------------------------


@pytest.fixture
def production_static(settings, tmp_path):
    """Static files as production serves them: collected into STATIC_ROOT under hashed names
    (a manifest storage), DEBUG off. Returns the stylesheet's URL as ``{% static %}`` writes it."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    call_command("collectstatic", interactive=False, verbosity=0)
    url = staticfiles_storage.url("seminar/packet.css")
    assert url.startswith("/static/seminar/packet.") and url != "/static/seminar/packet.css"
    return url


@pytest.mark.parametrize("name", ["case_packet_pdf", "seminar_pack_pdf"])
def test_production_pdfs_have_their_stylesheet(trained, signed_in, production_static, name):
    client = signed_in(Role.EDUCATOR)
    if name == "case_packet_pdf":
        url = reverse(name, args=[trained["patient"].pseudonym])
    else:
        pack = seminar_pack_create(actor=client.user, purpose=Purpose.EDUCATION, name="Styled",
                                   patients=trained["patients"][:2], questions="")
        url = reverse(name, args=[pack.pk])
    pages = [page.extract_text() for page in _pdf(client.get(url)).pages]
    # Only the stylesheet prints this, in its page margin (@page @bottom-right).
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))


def test_the_pdf_fetcher_reads_static_files_hashed_or_not_and_nothing_else(production_static):
    stylesheet = Path(finders.find("seminar/packet.css")).read_bytes()
    for url in (production_static, "/static/seminar/packet.css"):
        assert printing.static_path(f"http://localhost{url}").read_bytes() == stylesheet
    for refused in ("http://192.0.2.7/static/seminar/packet.css",
                    "https://localhost/static/seminar/packet.css",
                    "http://localhost/seminar/packet.css",
                    "http://localhost/static/../settings.py",
                    "http://localhost/static/%2e%2e/%2e%2e/decision_support/settings.py",
                    "http://localhost/static/seminar/missing.css",
                    "file:///etc/passwd", "data:text/css,body{}"):
        assert printing.static_path(refused) is None, refused
