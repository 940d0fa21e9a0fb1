"""The case packet says where the models that ranked its patient were validated, and for a
patient of a multi-site cohort whether the models were developed at the patient's site or, if
not, how they did there (external ROC AUC per arm): on the page and in the PDF."""

import html
import io

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse
from pypdf import PdfReader

from decision_support.cohorts.models import Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.accounts.roles import Role
from decision_support.seminar.packets import AT_DEVELOPMENT_SITE, DEVELOPED_ELSEWHERE
from models.model_card import VALIDATED_AT, VALIDATED_AT_ONE_SITE, WHY_ONE_SITE
from models.ranking import RANKING_ALGORITHM
from synthetic_data import ARM_LABELS, SITE_SCENARIOS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

TRIAL, CLINIC = SITE_SCENARIOS["trial_to_clinic"].sites
CASES = ["one_site", "development_site", "other_site"]


def _consenting(run, site):
    """A patient of ``run``'s cohort at ``site`` whose education consent covers every class."""
    everything = set(CONSENT_CLASSES)
    for patient in Patient.objects.filter(cohort=run.cohort, site=site).order_by("pk"):
        if consent_permitted_classes(patient, purpose=Purpose.EDUCATION) == everything:
            return patient
    pytest.fail(f"no fully consented patient at {site}")


@pytest.fixture(scope="module")
def cases(django_db_setup, django_db_blocker, trained):
    with committed_run(django_db_blocker, n_patients=300, cohort_seed=5,
                       site_scenario="trial_to_clinic", algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        with django_db_blocker.unblock():
            yield {"one_site": (trained["patient"], trained["run"]),
                   "development_site": (_consenting(run, TRIAL.name), run),
                   "other_site": (_consenting(run, CLINIC.name), run)}


def _expected(case, run) -> tuple[list[str], list[str]]:
    """(what the packet must say, what it must not)."""
    if case == "one_site":
        return [VALIDATED_AT_ONE_SITE, WHY_ONE_SITE], [TRIAL.label, "developed at another site"]
    validated = VALIDATED_AT.format(development=TRIAL.label, external=CLINIC.label)
    if case == "development_site":
        return [validated, AT_DEVELOPMENT_SITE.format(site=TRIAL.label)], [VALIDATED_AT_ONE_SITE]
    return ([validated, DEVELOPED_ELSEWHERE.format(development=TRIAL.label, site=CLINIC.label)],
            [VALIDATED_AT_ONE_SITE, AT_DEVELOPMENT_SITE.format(site=TRIAL.label)])


def _packet(client, make_user, patient, name="case_packet"):
    client.force_login(make_user(Role.ETHICS_REVIEWER))
    response = client.get(reverse(name, args=[patient.pseudonym]))
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("case", CASES)
def test_the_packet_page_says_where_the_models_were_validated(client, make_user, cases, case):
    patient, run = cases[case]
    text = html.unescape(_packet(client, make_user, patient).content.decode())
    section = text.split(f'id="validation-{patient.pseudonym}"')[1].split("</section>")[0]
    said, unsaid = _expected(case, run)
    assert all(line in section for line in said) and not any(line in section for line in unsaid)


def test_a_patient_at_another_site_sees_each_ranked_arms_external_auc_there(client, make_user,
                                                                             cases):
    patient, run = cases["other_site"]
    text = _packet(client, make_user, patient).content.decode()
    listed = text.split(f'id="packet-{patient.pseudonym}-site-auc"')[1].split("</ul>")[0]
    ranked = text.split('<table class="ranking">')[1].split("</table>")[0]
    external = {m["arm"]: m["external"] for m in run.external_validations.get().results["models"]}
    arms = [arm for arm in ARM_LABELS if f"<th scope=\"row\">{ARM_LABELS[arm]}</th>" in ranked]
    assert arms and listed.count("<li ") == len(arms)
    for arm in arms:
        item = listed.split(f'<li data-arm="{arm}">')[1].split("</li>")[0]
        figures = external[arm]
        assert (f"external ROC AUC {floatformat(figures['roc_auc'], 3)} <small>("
                f"{floatformat(figures['roc_auc_low'], 3)}–"
                f"{floatformat(figures['roc_auc_high'], 3)})</small>") in item


@pytest.mark.parametrize("case", CASES)
def test_the_packet_pdf_says_where_the_models_were_validated(client, make_user, cases, case):
    patient, run = cases[case]
    response = _packet(client, make_user, patient, "case_packet_pdf")
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    said, unsaid = _expected(case, run)
    assert all(" ".join(line.split()) in text for line in said), text[-3000:]
    assert not any(line in text for line in unsaid)
