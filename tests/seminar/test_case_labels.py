"""Case labels a teacher can say aloud ("Case 14") beside the pseudonym on every page that names
a case: the patient page's header, the case packet (page and PDF) and the seminar pack pages."""

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from decision_support.accounts.roles import Role
from decision_support.seminar.models import SeminarPack, SeminarPackCase

pytestmark = pytest.mark.django_db

PAGES = {
    "patient_detail": (Role.STUDENT, lambda o: reverse("patient_detail", args=[o["patient"].pseudonym])),
    "case_packet": (Role.EDUCATOR, lambda o: reverse("case_packet", args=[o["patient"].pseudonym])),
    "seminar_pack_detail": (Role.STUDENT, lambda o: reverse("seminar_pack_detail", args=[o["pack"].pk])),
}
PDFS = {
    "case_packet_pdf": lambda o: reverse("case_packet_pdf", args=[o["patient"].pseudonym]),
    "seminar_pack_pdf": lambda o: reverse("seminar_pack_pdf", args=[o["pack"].pk]),
}


@pytest.fixture
def objects(trained):
    patients = trained["patients"]
    pack = SeminarPack.objects.create(name="Labels", created_by="fixture",
                                      course=trained["cohort"].course)
    SeminarPackCase.objects.bulk_create(SeminarPackCase(pack=pack, patient=p, position=i)
                                        for i, p in enumerate(patients, start=1))
    return {"patient": patients[0], "patients": patients, "pack": pack}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_naming_a_case_shows_its_label_beside_the_pseudonym(signed_in, objects, name):
    role, build = PAGES[name]
    page = signed_in(role).get(build(objects)).content.decode()
    shown = objects["patients"] if name == "seminar_pack_detail" else [objects["patient"]]
    text = re.sub(r"<[^>]+>", "", page)  # what a reader sees
    for patient in shown:
        assert re.search(rf"{patient.case_label} · (Patient )?{patient.pseudonym}", text)


@pytest.mark.parametrize("name", sorted(PDFS))
def test_each_pdf_naming_a_case_shows_its_label(signed_in, objects, name):
    response = signed_in(Role.EDUCATOR).get(PDFS[name](objects))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    shown = objects["patients"] if name == "seminar_pack_pdf" else [objects["patient"]]
    for patient in shown:
        assert f"{patient.case_label} · {patient.pseudonym}" in text
