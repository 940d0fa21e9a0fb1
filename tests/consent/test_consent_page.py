"""The data steward's consent page: one form to give or withdraw; audited reads and writes."""

import pytest
from django.urls import reverse

from decision_support.audit.models import AuditEntry
from decision_support.audit.verify import verify_chain
from decision_support.cohorts.models import Patient
from decision_support.consent.models import ConsentRecord
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.lib.vocabulary import CONSENT_CLASSES, PURPOSES, Purpose
from models.features import VARIANT_LABELS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db
EDU = Purpose.EDUCATION


def _fully_consented(cohort) -> Patient:
    return next(p for p in cohort.patients.order_by("pk")
                if consent_permitted_classes(p, purpose=EDU) == set(CONSENT_CLASSES))


@pytest.fixture
def patient(demo_cohort):
    return _fully_consented(demo_cohort)


def _url(patient) -> str:
    return reverse("patient_consent", args=[patient.pseudonym])


def _decide(client, patient, decision: str, data_class: str = "genetic", purpose: str = EDU):
    return client.post(_url(patient), {"data_class": data_class, "purpose": purpose,
                                       "decision": decision})


def test_the_page_shows_every_class_and_purpose_with_one_button_and_no_preselection(
        steward_client, patient):
    response = steward_client.get(_url(patient))
    page = response.content.decode()
    assert response.status_code == 200
    for data_class in CONSENT_CLASSES:
        for purpose in PURPOSES:
            cell = page.split(f'id="cell-{data_class}-{purpose}"')[1].split("</td>")[0]
            assert "permitted" in cell and "demo seed" in cell and ">Withdraw</button>" in cell
    assert "checked" not in page and 'type="checkbox"' not in page
    assert page.count("<tr><td>") == patient.consent_records.count()  # the full history
    assert response["Cache-Control"].startswith("max-age=0")


def test_giving_and_withdrawing_are_the_same_step_and_change_what_the_gate_permits(
        steward_client, steward, patient):
    withdrawn = _decide(steward_client, patient, "withdraw")
    assert withdrawn.status_code == 302 and withdrawn["Location"] == _url(patient)
    assert "genetic" not in consent_permitted_classes(patient, purpose=EDU)
    page = steward_client.get(_url(patient)).content.decode()
    cell = page.split(f'id="cell-genetic-{EDU}"')[1].split("</td>")[0]
    assert "denied" in cell and steward.username in cell and ">Give</button>" in cell

    given = _decide(steward_client, patient, "give")
    assert given.status_code == 302
    assert "genetic" in consent_permitted_classes(patient, purpose=EDU)
    newest = list(patient.consent_records.order_by("-recorded_at")[:2])
    assert [r.provision for r in newest] == ["permit", "deny"]
    assert {r.recorded_by for r in newest} == {steward.username}


def test_withdrawing_for_one_purpose_leaves_the_other_purposes(steward_client, patient):
    before = {p: consent_permitted_classes(patient, purpose=p) for p in PURPOSES}
    _decide(steward_client, patient, "withdraw", purpose=Purpose.RESEARCH_EXPORT)
    assert consent_permitted_classes(patient, purpose=Purpose.RESEARCH_EXPORT) == (
        before[Purpose.RESEARCH_EXPORT] - {"genetic"})
    for purpose in (EDU, Purpose.MODEL_TRAINING):
        assert consent_permitted_classes(patient, purpose=purpose) == before[purpose]


def test_each_decision_writes_one_audit_entry_in_its_transaction(steward_client, steward, patient):
    before = AuditEntry.objects.count()
    _decide(steward_client, patient, "withdraw", data_class="biomarker")
    _decide(steward_client, patient, "give", data_class="biomarker")
    entries = list(AuditEntry.objects.order_by("sequence")[before:])
    assert [(e.action, e.actor, e.role, e.purpose, e.object_type, e.object_ref, e.outcome)
            for e in entries] == [
        (action, steward.username, "data_steward", EDU, "patient", patient.pseudonym, "allowed")
        for action in ("consent.withdraw", "consent.give")]
    assert all(e.detail == {"data_class": "biomarker", "purpose": EDU} for e in entries)
    assert verify_chain().ok


def test_a_decision_redirects_with_a_message(steward_client, patient):
    response = steward_client.post(_url(patient), {"data_class": "genetic", "purpose": EDU,
                                                   "decision": "withdraw"}, follow=True)
    assert response.redirect_chain == [(_url(patient), 302)]
    assert "Consent withdrawn: Genetic and epigenetic data for Education and demonstration." in (
        response.content.decode())


@pytest.mark.parametrize("data, field", [
    ({"data_class": "genomic", "purpose": EDU, "decision": "give"}, "data_class"),
    ({"data_class": "genetic", "purpose": "TREAT", "decision": "give"}, "purpose"),
    ({"data_class": "genetic", "purpose": EDU, "decision": "delete"}, "decision"),
    ({"purpose": EDU, "decision": "withdraw"}, "data_class"),
    ({"data_class": "genetic", "decision": "withdraw"}, "purpose"),
    ({"data_class": "genetic", "purpose": EDU}, "decision"),
    ({"data_class": "<script>alert(1)</script>", "purpose": EDU, "decision": "give"}, "data_class"),
    ({"data_class": "genetic\r\n", "purpose": EDU, "decision": "give"}, "data_class"),
])
def test_a_bad_decision_is_a_400_naming_the_field_and_writes_nothing(steward_client, patient,
                                                                    data, field):
    records, entries = ConsentRecord.objects.count(), AuditEntry.objects.count()
    response = steward_client.post(_url(patient), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert f'<li data-field="{field}">{field} ' in page
    assert "<script>alert" not in page
    assert (ConsentRecord.objects.count(), AuditEntry.objects.count()) == (records, entries)


def test_each_view_of_the_page_writes_exactly_one_audit_entry(steward_client, steward, patient):
    before = AuditEntry.objects.count()
    steward_client.get(_url(patient))
    entries = list(AuditEntry.objects.order_by("sequence")[before:])
    assert [(e.action, e.actor, e.role, e.object_type, e.object_ref) for e in entries] == [
        ("consent.view", steward.username, "data_steward", "patient", patient.pseudonym)]


def test_an_unknown_pseudonym_is_404_and_writes_nothing(steward_client):
    records = ConsentRecord.objects.count()
    url = reverse("patient_consent", args=["0123456789abcdef01234567"])
    assert steward_client.get(url).status_code == 404
    assert steward_client.post(url, {"data_class": "genetic", "purpose": EDU,
                                     "decision": "give"}).status_code == 404
    assert ConsentRecord.objects.count() == records


def test_an_educator_cannot_record_consent(signed_in_client, patient):
    records = ConsentRecord.objects.count()
    assert _decide(signed_in_client, patient, "withdraw").status_code == 404
    assert ConsentRecord.objects.count() == records


@pytest.fixture(scope="module")
def trained_cohort(django_db_setup, django_db_blocker):
    """A 300-patient cohort and its training run, committed for the module (training is slow)."""
    with committed_run(django_db_blocker, n_patients=300) as run:
        yield run.cohort


def test_withdrawing_genetic_consent_serves_the_patient_with_the_no_genetic_model(
        client, make_user, trained_cohort):
    patient = _fully_consented(trained_cohort)
    client.force_login(make_user("data_steward"))
    assert _decide(client, patient, "withdraw").status_code == 302
    client.force_login(make_user("educator"))
    page = client.get(reverse("patient_detail", args=[patient.pseudonym])).content.decode()
    note = page.split('id="consent-note"')[1].split("</p>")[0]
    assert "Genetic and epigenetic data" in note and "<strong>no_genetic</strong>" in note
    caption = page.split('id="ranking-table"')[1].split("</caption>")[0]
    assert VARIANT_LABELS["no_genetic"].lower() in caption
    assert 'id="pgx-withheld"' in page
