"""The JSON API: token authentication, the same roles, consent and audit as the pages, and clear
errors for bad input."""

import json

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_revoke
from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient
from decision_support.consent.services import consent_withdraw
from decision_support.lib.vocabulary import ConsentClass, Purpose
from decision_support.predictions.services import predictions_pause
from synthetic_data import DATA_DICTIONARY

pytestmark = pytest.mark.django_db

GENETIC = frozenset(v.name for v in DATA_DICTIONARY.values() if v.data_class in ("genetic", "epigenetic"))


@pytest.fixture
def patient(run):
    """A fully consented patient of the run's cohort."""
    for candidate in Patient.objects.filter(cohort=run.cohort).order_by("pk"):
        if not consented_patient(candidate, purpose=Purpose.EDUCATION).withheld:
            return candidate
    pytest.fail("no fully consented patient")


def _api(client, path, headers, **query):
    return client.get(f"/api/{path}", query, **headers)


def test_without_a_token_the_api_answers_401_not_the_sign_in_page(client, run, signed_in_user):
    assert _api(client, "cohorts/", {}).status_code == 401
    client.force_login(signed_in_user)  # a session cookie is not a token
    response = _api(client, "cohorts/", {})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["detail"]


def test_a_revoked_or_unknown_token_is_refused(client, run, token_for):
    user, headers = token_for(Role.EDUCATOR)
    assert _api(client, "cohorts/", headers).status_code == 200
    api_token_revoke(user=user, token_id=user.api_tokens.get().pk)
    assert _api(client, "cohorts/", headers).status_code == 401
    assert _api(client, "cohorts/", {"HTTP_AUTHORIZATION": "Bearer ppds_guess"}).status_code == 401


def test_cohorts_list_and_aggregates_match_the_overview(client, run, educator):
    cohorts = _api(client, "cohorts/", educator).json()
    mine = next(c for c in cohorts if c["id"] == run.cohort_id)
    assert mine["latest_run_id"] == run.pk and mine["n_patients"] == 300
    detail = _api(client, f"cohorts/{run.cohort_id}/", educator).json()
    page = client.get(reverse("cohort_overview", args=[run.cohort_id]), **educator)
    assert page.status_code == 302  # the pages need a session: tokens are for the API only
    assert detail["summary"]["n_patients"] == 300
    assert {a["arm"] for a in detail["summary"]["arms"]} >= {"ssri", "placebo"}


def test_patient_list_pages_and_a_page_out_of_range(client, run, educator):
    first = _api(client, f"cohorts/{run.cohort_id}/patients/", educator).json()
    assert first["count"] == 300 and first["pages"] == 6 and len(first["patients"]) == 50
    assert any(p["clinical"] and p["clinical"]["arm"] for p in first["patients"])
    missing = _api(client, f"cohorts/{run.cohort_id}/patients/", educator, page=7)
    assert missing.status_code == 404 and "page" in missing.json()["detail"]


def test_predictions_and_explanations_match_the_patient_page(client, run, educator, patient):
    predictions = _api(client, f"patients/{patient.pseudonym}/predictions/", educator).json()
    assert predictions["status"] == "ok" and predictions["variant"] == "full"
    ranking = predictions["ranking"]
    assert [r["rank"] for r in ranking] == list(range(1, len(ranking) + 1))
    assert ranking == sorted(ranking, key=lambda r: -r["probability"])
    assert set(predictions["true_probability"]) >= {r["arm"] for r in ranking}
    page = client.get(reverse("patient_detail", args=[patient.pseudonym]))
    assert page.status_code == 302
    explained = _api(client, f"patients/{patient.pseudonym}/explanations/", educator).json()
    assert [e["arm"] for e in explained["explanations"]] == [r["arm"] for r in ranking]
    for item in explained["explanations"]:
        # SHAP is additive: the base value and the contributions add up to the output.
        total = item["base_value"] + sum(c["shap"] for c in item["contributions"])
        assert total == pytest.approx(item["model_output"], abs=1e-6)
    forest = _api(client, f"patients/{patient.pseudonym}/explanations/", educator,
                  algorithm="random_forest").json()
    assert {e["units"] for e in forest["explanations"]} == {"probability"}


def test_students_see_no_truth_and_no_genotype_values(client, run, student, patient):
    predictions = _api(client, f"patients/{patient.pseudonym}/predictions/", student).json()
    assert predictions["true_probability"] is None and predictions["ranking"]
    data = _api(client, f"patients/{patient.pseudonym}/", student).json()
    assert not GENETIC & set(data["values"]) and set(data["values_not_shown"]) <= GENETIC
    assert data["values_not_shown"]
    explained = _api(client, f"patients/{patient.pseudonym}/explanations/", student).json()
    shown = {c["feature"]: c["value"] for e in explained["explanations"] for c in e["contributions"]}
    assert all(shown[f] is None for f in GENETIC & set(shown))


def test_without_genetic_consent_the_api_returns_no_genetic_data_and_audits_like_the_page(
        client, run, educator, patient, make_user):
    steward = make_user(Role.DATA_STEWARD, username="api_steward")
    consent_withdraw(patient=patient, data_class=ConsentClass.GENETIC, purpose=Purpose.EDUCATION,
                     actor=steward)
    bodies = []
    for path in ("", "predictions/", "explanations/"):
        before = AuditEntry.objects.count()
        response = _api(client, f"patients/{patient.pseudonym}/{path}", educator)
        assert response.status_code == 200
        bodies.append(response.json())
        entry = AuditEntry.objects.order_by("-sequence").first()
        assert AuditEntry.objects.count() == before + 1
        assert (entry.action, entry.object_ref, entry.outcome) == ("patient.view", patient.pseudonym,
                                                                   "allowed")
        assert entry.detail["withheld"] == ["genetic"] and entry.actor == "api_educator"
    text = json.dumps(bodies)
    assert not [name for name in GENETIC if name in text]
    assert bodies[0]["withheld"] == ["genetic"] and bodies[1]["variant"] == "no_genetic"
    assert bodies[0]["pgx_guidance"] == []
    # The page writes the same entry.
    client.force_login(make_user(Role.EDUCATOR, username="page_educator"))
    client.get(reverse("patient_detail", args=[patient.pseudonym]))
    page_entry = AuditEntry.objects.order_by("-sequence").first()
    assert (page_entry.action, page_entry.detail["withheld"]) == ("patient.view", ["genetic"])


def test_a_role_outside_the_pages_policy_gets_an_audited_404(client, run, token_for, patient):
    _, steward = token_for(Role.DATA_STEWARD)
    response = _api(client, f"patients/{patient.pseudonym}/predictions/", steward)
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert (entry.action, entry.outcome, entry.object_ref) == (
        "access.denied", "denied", "api_patient_predictions")


def test_while_paused_nothing_is_predicted(client, run, educator, patient, make_user):
    predictions_pause(actor=make_user(Role.EDUCATOR, username="pauser"), reason="class check",
                      purpose=Purpose.EDUCATION)
    for path in ("predictions/", "explanations/"):
        body = _api(client, f"patients/{patient.pseudonym}/{path}", educator).json()
        assert body["status"] == "paused"
        assert not body.get("ranking") and not body.get("explanations")


@pytest.mark.parametrize("path, query, field", [
    ("patients/{p}/explanations/", {"algorithm": "svm"}, "algorithm"),
    ("cohorts/{c}/patients/", {"page": "0"}, "page"),
    ("cohorts/{c}/patients/", {"page": "one"}, "page"),
    ("cohorts/{c}/patients/", {"page": "1.0"}, "page"),
    ("cohorts/{c}/patients/", {"page": "+1"}, "page"),
    ("patients/{p}%20x/", {}, "pseudonym"),
    ("cohorts/0/", {}, "cohort_id"),
    ("patients/{p}/explanations/", {"algoritm": "random_forest"}, "algoritm"),
])
def test_bad_input_answers_422_naming_the_field(client, run, educator, patient, path, query, field):
    response = _api(client, path.format(p=patient.pseudonym, c=run.cohort_id), educator, **query)
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


def test_unknown_objects_answer_404(client, run, educator):
    for path in ("patients/0123456789abcdef01234567/", "cohorts/999999/", "runs/999999/models/"):
        response = _api(client, path, educator)
        assert response.status_code == 404 and response.json()["detail"]


def test_run_models_lists_held_out_metrics(client, run, student):
    body = _api(client, f"runs/{run.pk}/models/", student).json()
    stored = {(m.arm, m.algorithm, m.variant): m.metrics["roc_auc"] for m in run.models.all()}
    assert {(m["arm"], m["algorithm"], m["variant"]): m["roc_auc"] for m in body["models"]} == stored


def test_the_schema_and_its_documentation_page_need_no_token_and_use_no_cdn(client):
    schema = client.get("/api/openapi.json").json()
    assert {"/api/patients/{pseudonym}/explanations/", "/api/runs/{run_id}/models/"} <= set(schema["paths"])
    assert "not for clinical use" in schema["info"]["description"]
    page = client.get("/api/docs").content.decode()
    assert "Synthetic data, not for clinical use." in page
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
