"""The API's patient payloads carry the case label ("Case 14") beside the pseudonym."""

import pytest

from decision_support.cohorts.models import Patient

pytestmark = pytest.mark.django_db


def test_every_patient_payload_has_the_case_label(client, run, educator):
    listing = client.get(f"/api/cohorts/{run.cohort_id}/patients/", **educator).json()
    numbers = dict(Patient.objects.filter(cohort=run.cohort).values_list("pseudonym", "number"))
    assert listing["patients"]
    for row in listing["patients"]:
        assert row["case_label"] == f"Case {numbers[row['pseudonym']]}"
    pseudonym = listing["patients"][0]["pseudonym"]
    for path in ("", "predictions/", "explanations/"):
        body = client.get(f"/api/patients/{pseudonym}/{path}", **educator).json()
        assert body["case_label"] == f"Case {numbers[pseudonym]}", path
