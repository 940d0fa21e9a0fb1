"""Every patient page and the API's patient endpoints read one patient the same way
(``predictions.patient``): the same consented data, withheld classes, hidden values and model
variant for the same patient and purpose, whatever the consent state; and the same 404 for a
pseudonym that was never stored and for an erased patient."""

from itertools import combinations

import pytest
from django.urls import reverse

from decision_support.accounts.access import GENOTYPE_FEATURES
from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.cohorts.selectors import OBSERVED_LOOKUPS
from decision_support.consent.erasure import patient_erase
from decision_support.consent.gate import model_variant_for
from decision_support.consent.reads import consented_patient
from decision_support.consent.services import consent_withdraw
from decision_support.lib.vocabulary import CONSENT_CLASS_OF, CONSENT_CLASSES, ConsentClass, Purpose
from decision_support.predictions.patient import PATIENT_NOT_FOUND
from synthetic_data import DATA_DICTIONARY

pytestmark = pytest.mark.django_db

WITHDRAWALS = [frozenset(c) for n in range(len(CONSENT_CLASSES) + 1)
               for c in combinations(CONSENT_CLASSES, n)]
PAGES = ("patient_detail", "patient_what_if", "patient_explanations")
API_ENDPOINTS = ("patients/{p}/", "patients/{p}/predictions/", "patients/{p}/explanations/")


@pytest.fixture
def patient(run):
    """A patient of the run's cohort whose education consent covers every class."""
    for candidate in Patient.objects.filter(cohort=run.cohort).order_by("pk"):
        if not consented_patient(candidate, purpose=Purpose.EDUCATION).withheld:
            return candidate
    pytest.fail("no fully consented patient")


def _last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _released(classes) -> set[str]:
    """The stored variables of a patient that consent ``classes`` cover."""
    return {n for n in OBSERVED_LOOKUPS
            if CONSENT_CLASS_OF.get(DATA_DICTIONARY[n].data_class) in classes}


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.STUDENT])
@pytest.mark.parametrize("withdrawn", WITHDRAWALS, ids=lambda w: "+".join(sorted(w)) or "none")
def test_pages_and_api_read_the_same_consented_data(client, run, patient, token_for, role,
                                                     withdrawn):
    user, headers = token_for(role)
    for data_class in withdrawn:
        consent_withdraw(patient=patient, data_class=data_class, purpose=Purpose.EDUCATION,
                         actor=user)
    permitted = frozenset(CONSENT_CLASSES) - withdrawn
    hidden = GENOTYPE_FEATURES if role == Role.STUDENT else frozenset()
    released = _released(permitted)
    start = _last_audit_pk()

    api = client.get(f"/api/patients/{patient.pseudonym}/", **headers).json()
    assert api["withheld"] == sorted(withdrawn)
    assert api["variant"] == model_variant_for(permitted)
    assert set(api["values"]) == released - hidden
    assert api["values_not_shown"] == sorted(released & hidden)
    for path in API_ENDPOINTS[1:]:
        other = client.get("/api/" + path.format(p=patient.pseudonym), **headers).json()
        assert other["variant"] == api["variant"]
        assert (other["status"] == "clinical_data_withheld") == (ConsentClass.CLINICAL in withdrawn)

    client.force_login(user)
    labels = [ConsentClass(c).label for c in sorted(withdrawn)]
    for name in PAGES:
        response = client.get(reverse(name, args=[patient.pseudonym]))
        assert response.status_code == 200, name
        consent = response.context["consent"]
        assert consent.withheld == withdrawn and consent.variant == api["variant"], name
        assert set(consent.values.index) - {"pseudonym"} == released, name
        assert response.context["withheld_labels"] == labels, name
    detail = client.get(reverse("patient_detail", args=[patient.pseudonym]))
    shown = {row["name"] for group in detail.context["groups"] for row in group["rows"]}
    assert shown == set(api["values"])
    assert detail.context["values_hidden"] == bool(released & hidden)

    entries = list(AuditEntry.objects.filter(pk__gt=start))
    assert len(entries) == len(API_ENDPOINTS) + len(PAGES) + 1
    assert {e.object_ref for e in entries} == {patient.pseudonym}
    assert all(e.detail["withheld"] == sorted(withdrawn) for e in entries)


@pytest.mark.parametrize("erased", [False, True], ids=["never-stored", "erased"])
def test_a_missing_or_erased_patient_is_404_on_every_page_and_endpoint(client, run, patient,
                                                                      token_for, make_user,
                                                                      erased):
    user, headers = token_for(Role.EDUCATOR)
    pseudonym = patient.pseudonym if erased else "0123456789abcdef01234567"
    if erased:
        patient_erase(patient, actor=make_user(Role.DATA_STEWARD, username="steward"))
    start = _last_audit_pk()
    for path in API_ENDPOINTS:
        response = client.get("/api/" + path.format(p=pseudonym), **headers)
        assert response.status_code == 404, path
        assert response.json() == {"detail": PATIENT_NOT_FOUND.format(pseudonym=pseudonym)}
    client.force_login(user)
    for name in PAGES:
        assert client.get(reverse(name, args=[pseudonym])).status_code == 404, name
    assert client.post(reverse("decision_record", args=[pseudonym]),
                       {"arm": "ssri", "reason": "x"}).status_code == 404
    assert not AuditEntry.objects.filter(pk__gt=start, outcome="allowed").exists()
