"""Pages naming what a patient's consent withholds use the consent classes' own labels, which
already say "data": never "Genetic and epigenetic data data" or "Biomarkers data"."""

import html
import re

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.consent.services import consent_withdraw
from decision_support.lib.vocabulary import ConsentClass, Purpose
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

PAGES = ("patient_detail", "patient_what_if", "patient_explanations", "case_packet")
WITHHELD = {"genetic": [ConsentClass.GENETIC], "biomarker": [ConsentClass.BIOMARKER],
            "both": [ConsentClass.BIOMARKER, ConsentClass.GENETIC]}
DOUBLED = re.compile(r"\b(data|Biomarkers) data\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    """Every algorithm (the explanation comparison sets them side by side) in every variant (a
    patient withholding biomarkers is served by the clinical-only one); few resamples."""
    with committed_run(django_db_blocker, n_patients=300, n_refits=10) as run:
        yield run


@pytest.mark.parametrize("withheld", WITHHELD)
@pytest.mark.parametrize("page", PAGES)
def test_the_withheld_classes_are_named_once_each_without_a_doubled_word(
        signed_in_client, make_user, patient, page, withheld):
    steward = make_user(Role.DATA_STEWARD, username="wording_steward")
    for consent_class in WITHHELD[withheld]:
        consent_withdraw(patient=patient, data_class=consent_class, purpose=Purpose.EDUCATION,
                         actor=steward)
    response = signed_in_client.get(reverse(page, args=[patient.pseudonym]))
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))
    assert not DOUBLED.search(text), DOUBLED.search(text).group(0)
    for consent_class in WITHHELD[withheld]:
        assert consent_class.label in text
