"""Human oversight (GDPR 22, AI Act 14): a recorded decision is a person's, with a reason when it
departs from the recommendation; no bulk accept; an educator can pause every prediction."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient
from decision_support.lib.appendonly import AppendOnlyError
from decision_support.lib.vocabulary import Purpose
from decision_support.predictions.models import PredictionPause, TreatmentDecision
from decision_support.predictions.selectors import (patient_predictions, patient_ranking,
                                                    prediction_pause)
from decision_support.predictions.services import (PAUSE_REASON_REQUIRED, predictions_pause,
                                                    predictions_resume)
from models.ranking import RANKING_ALGORITHM

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


def _ranking(patient, run) -> list[str]:
    return list(patient_ranking(consented_patient(patient, purpose=Purpose.EDUCATION), run)["arm"])


def _decide(client, patient, **data):
    return client.post(reverse("decision_record", args=[patient.pseudonym]), data)


@pytest.fixture
def educator(make_user):
    return make_user("educator", username="test_educator")


@pytest.fixture
def educator_client(client, educator):
    client.force_login(educator)
    return client


# --- recorded decisions ---------------------------------------------------------------------


def test_recording_a_decision_needs_a_signed_in_person(client, patient, run):
    response = _decide(client, patient, arm=_ranking(patient, run)[0], reason="")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert not TreatmentDecision.objects.exists()


def test_the_top_recommendation_needs_no_reason(educator_client, educator, patient, run):
    top = _ranking(patient, run)[0]
    response = _decide(educator_client, patient, arm=top, reason="")
    assert response.status_code == 302
    assert response.url == reverse("patient_detail", args=[patient.pseudonym]) + "#decisions"
    decision = TreatmentDecision.objects.get()
    assert (decision.patient, decision.arm, decision.recommended_arm) == (patient, top, top)
    assert decision.run == run and decision.reason == ""
    assert (decision.decided_by, decision.actor_id) == ("test_educator", educator.pk)
    assert decision.follows_recommendation is True


def test_another_arm_than_the_top_one_needs_a_reason_naming_the_field(educator_client, patient,
                                                                      run):
    second = _ranking(patient, run)[1]
    response = _decide(educator_client, patient, arm=second, reason="   ")
    assert response.status_code == 400
    assert set(response.context["decision_form"].errors) == {"reason"}
    page = response.content.decode()
    assert 'id="error-reason"' in page and "A reason is required" in page
    assert not TreatmentDecision.objects.exists()
    assert not AuditEntry.objects.filter(action="decision.record").exists()


def test_another_arm_with_a_reason_is_recorded_by_a_student(client, make_user, patient, run):
    client.force_login(make_user("student"))
    second = _ranking(patient, run)[1]
    assert _decide(client, patient, arm=second, reason="Patient prefers it").status_code == 302
    decision = TreatmentDecision.objects.get()
    assert decision.arm == second and decision.reason == "Patient prefers it"
    assert decision.follows_recommendation is False


@pytest.mark.parametrize("arm", ["homeopathy", "", "placebo", "rtms", "ssri' OR 1=1"])
def test_an_unknown_or_ineligible_arm_is_refused_naming_the_field(educator_client, patient, run,
                                                                  arm):
    # ``patient`` has no two prior failures, so rTMS is not an arm they may receive.
    assert "rtms" not in _ranking(patient, run)
    response = _decide(educator_client, patient, arm=arm, reason="because")
    assert response.status_code == 400
    assert set(response.context["decision_form"].errors) == {"arm"}
    assert 'id="error-arm"' in response.content.decode()
    assert not TreatmentDecision.objects.exists()


def test_an_overlong_reason_is_refused_naming_the_field(educator_client, patient, run):
    response = _decide(educator_client, patient, arm=_ranking(patient, run)[1], reason="x" * 1001)
    assert response.status_code == 400
    assert set(response.context["decision_form"].errors) == {"reason"}
    assert not TreatmentDecision.objects.exists()


def test_script_and_line_breaks_in_the_reason_are_stored_and_shown_escaped(educator_client,
                                                                           patient, run):
    reason = f"{SCRIPT}\r\nSecond line"
    assert _decide(educator_client, patient, arm=_ranking(patient, run)[1],
                   reason=reason).status_code == 302
    assert TreatmentDecision.objects.get().reason == reason
    page = educator_client.get(reverse("patient_detail", args=[patient.pseudonym])).content.decode()
    cell = page.split('class="decision-reason">', 1)[1].split("</td>", 1)[0]
    assert cell == "&lt;script&gt;alert(1)&lt;/script&gt;<br>Second line"
    assert SCRIPT not in page
    # The free text stays out of the audit log, which outlives erasure.
    entry = AuditEntry.objects.get(action="decision.record")
    assert "alert" not in str(entry.detail) and entry.detail["reason_given"] is True


def test_each_decision_is_audited_once(educator_client, patient, run):
    top = _ranking(patient, run)[0]
    _decide(educator_client, patient, arm=top, reason="")
    entry = AuditEntry.objects.get(action="decision.record")
    assert (entry.actor, entry.role, entry.purpose, entry.outcome) == (
        "test_educator", "educator", Purpose.EDUCATION, "allowed")
    assert (entry.object_type, entry.object_ref) == ("patient", patient.pseudonym)
    assert entry.detail["arm"] == entry.detail["recommended_arm"] == top
    assert entry.detail["decision"] == TreatmentDecision.objects.get().pk


def test_decisions_are_listed_on_the_patient_page_newest_first(educator_client, patient, run):
    first, second = _ranking(patient, run)[:2]
    _decide(educator_client, patient, arm=first, reason="")
    _decide(educator_client, patient, arm=second, reason="Changed my mind")
    response = educator_client.get(reverse("patient_detail", args=[patient.pseudonym]))
    rows = [row["decision"].arm for row in response.context["decisions"]]
    assert rows == [second, first]
    page = response.content.decode()
    assert page.index("Changed my mind") < page.rindex('class="decision"')
    assert 'id="decision-form"' in page


def test_ethics_reviewers_get_no_decision_form(client, make_user, patient, run):
    client.force_login(make_user("ethics_reviewer"))
    response = client.get(reverse("patient_detail", args=[patient.pseudonym]))
    assert response.status_code == 200 and response.context["decision_form"] is None
    assert _decide(client, patient, arm=_ranking(patient, run)[0]).status_code == 404


def test_erasing_a_patient_removes_their_decisions(educator_client, patient, run):
    _decide(educator_client, patient, arm=_ranking(patient, run)[0], reason="")
    patient.delete()
    assert not TreatmentDecision.objects.exists()


# --- no bulk accept -----------------------------------------------------------------------------


def _patterns(resolvers=None, prefix=""):
    for pattern in get_resolver().url_patterns if resolvers is None else resolvers:
        if isinstance(pattern, URLResolver):
            if pattern.app_name != "admin":
                yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def test_no_url_accepts_several_patients():
    for route, pattern in _patterns():
        captured = set(pattern.pattern.converters)
        words = (route + (pattern.name or "")).lower()
        assert not any(w in words for w in ("bulk", "batch", "accept_all", "accept-all")), route
        patient_params = {name for name in captured if "patient" in name or "pseudonym" in name}
        assert len(patient_params) <= 1, route
    decision = get_resolver().reverse_dict.getlist("decision_record")[0][0][0][1]
    assert decision == ["pseudonym"]


def test_a_decision_post_naming_other_patients_records_only_its_own(educator_client, patient, run):
    others = list(Patient.objects.filter(cohort=run.cohort).exclude(pk=patient.pk)
                  .values_list("pseudonym", flat=True)[:3])
    top = _ranking(patient, run)[0]
    response = educator_client.post(reverse("decision_record", args=[patient.pseudonym]),
                                    {"arm": top, "reason": "", "pseudonym": others,
                                     "patients": others, "patient": others})
    assert response.status_code == 302
    assert list(TreatmentDecision.objects.values_list("patient", flat=True)) == [patient.pk]


# --- the pause switch ---------------------------------------------------------------------------


def _pause(client, **data):
    return client.post(reverse("predictions_pause"),
                       {"action": "pause", "reason": "Model under review", "confirm": "on", **data})


def test_an_educator_pauses_predictions_and_every_page_says_so(educator_client, patient, run):
    response = _pause(educator_client, reason="Model under review", next="/cohorts/")
    assert response.status_code == 302 and response.url == "/cohorts/"
    state = prediction_pause()
    assert (state.by, state.reason) == ("test_educator", "Model under review")
    cohort = run.cohort
    banner = "Predictions are paused by test_educator since"
    for url in [reverse("home"), reverse("cohort_overview", args=[cohort.pk]),
                reverse("cohort_list"), reverse("patient_list", args=[cohort.pk]),
                reverse("run_overview", args=[cohort.pk]),
                reverse("model_detail", args=[run.pk, _ranking_arm(run)]),
                reverse("patient_detail", args=[patient.pseudonym])]:
        response = educator_client.get(url, follow=True)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert 'id="pause-banner"' in page and banner in page, url
    # Model pages still show their metrics.
    page = educator_client.get(reverse("run_overview", args=[cohort.pk])).content.decode()
    assert 'id="model-table"' in page
    # The patient page shows no ranking, explanation or recommendation, and says why.
    response = educator_client.get(reverse("patient_detail", args=[patient.pseudonym]))
    page = response.content.decode()
    assert 'id="paused-note"' in page
    for absent in ('id="ranking-table"', 'id="explanations"', 'class="arm-explanation"',
                   "top recommendation", 'id="truth-table"'):
        assert absent not in page, absent
    assert response.context["chart_specs"] == []
    assert response.context["decision_options"].recommended is None
    assert 'id="decision-form"' in page  # the person can still decide
    entry = AuditEntry.objects.get(action="predictions.pause")
    assert (entry.actor, entry.role, entry.outcome) == ("test_educator", "educator", "allowed")


def _ranking_arm(run) -> str:
    return run.models.values_list("arm", flat=True).first()


def test_a_student_cannot_pause_predictions(client, make_user):
    client.force_login(make_user("student"))
    assert _pause(client).status_code == 404
    assert prediction_pause() is None and not PredictionPause.objects.exists()
    assert AuditEntry.objects.filter(action="access.denied",
                                     object_ref="predictions_pause").exists()
    assert 'id="pause-link"' not in client.get(reverse("cohort_list")).content.decode()


def test_anonymous_users_cannot_pause_predictions(client):
    assert _pause(client).status_code == 302
    assert not PredictionPause.objects.exists()


def test_patient_predictions_return_nothing_while_paused(educator, patient, run):
    consented = consented_patient(patient, purpose=Purpose.EDUCATION)
    assert patient_predictions(consented, run, algorithm=RANKING_ALGORITHM) is not None
    predictions_pause(actor=educator, reason="class check", purpose=Purpose.EDUCATION)
    assert patient_ranking(consented, run) is None
    assert patient_predictions(consented, run, algorithm=RANKING_ALGORITHM) is None
    predictions_resume(actor=educator, purpose=Purpose.EDUCATION)
    assert patient_predictions(consented, run, algorithm=RANKING_ALGORITHM) is not None


def test_resuming_restores_predictions(educator_client, patient, run):
    _pause(educator_client)
    response = educator_client.post(reverse("predictions_pause"), {"action": "resume"})
    assert response.status_code == 302
    assert prediction_pause() is None
    page = educator_client.get(reverse("patient_detail", args=[patient.pseudonym])).content.decode()
    assert 'id="ranking-table"' in page and 'id="pause-banner"' not in page
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="predictions.")
            .order_by("sequence")] == ["predictions.pause", "predictions.resume"]
    assert list(PredictionPause.objects.order_by("at", "id").values_list("paused", flat=True)) == [
        True, False]


def test_a_post_without_an_action_toggles_and_a_repeat_records_nothing(educator_client):
    educator_client.post(reverse("predictions_pause"), {"reason": "check", "confirm": "on"})
    assert prediction_pause() is not None
    _pause(educator_client)  # already paused: nothing new
    assert PredictionPause.objects.count() == 1
    assert AuditEntry.objects.filter(action="predictions.pause").count() == 1
    educator_client.post(reverse("predictions_pause"))
    assert prediction_pause() is None


def test_a_bad_pause_request_is_refused_naming_the_field(educator_client):
    response = educator_client.post(reverse("predictions_pause"), {"action": "explode"})
    assert response.status_code == 400
    assert 'id="error-action"' in response.content.decode()
    assert not PredictionPause.objects.exists()


@pytest.mark.parametrize("action", ["pause", ""])
@pytest.mark.parametrize("data, fields", [
    ({"confirm": "on"}, {"reason"}),
    ({"reason": "   ", "confirm": "on"}, {"reason"}),
    ({"reason": "Model under review"}, {"confirm"}),
    ({"reason": "Model under review", "confirm": ""}, {"confirm"}),
    ({}, {"reason", "confirm"}),
], ids=["no-reason", "blank-reason", "no-confirm", "empty-confirm", "neither"])
def test_a_pause_without_a_reason_or_a_confirmation_changes_nothing_and_names_the_field(
        educator_client, action, data, fields):
    response = educator_client.post(reverse("predictions_pause"), {"action": action, **data})
    assert response.status_code == 400
    page = response.content.decode()
    named = {name for name, _label, _message in response.context["errors"]}
    assert named == fields
    for name in fields:
        assert f'id="error-{name}"' in page
    assert 'id="pause-form"' in page  # the form again, to correct
    assert not PredictionPause.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="predictions.").exists()
    assert 'id="pause-banner"' not in educator_client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_the_pause_service_itself_refuses_a_pause_without_a_reason(educator, reason):
    """Every caller, not only the form: the reason is what every user reads in the banner."""
    with pytest.raises(ValidationError) as refused:
        predictions_pause(actor=educator, reason=reason, purpose=Purpose.EDUCATION)
    assert refused.value.message_dict == {"reason": [PAUSE_REASON_REQUIRED]}
    assert not PredictionPause.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="predictions.").exists()


def test_resuming_needs_no_reason_and_stays_one_click_in_the_banner(educator_client, educator):
    predictions_pause(actor=educator, reason="check", purpose=Purpose.EDUCATION)
    page = educator_client.get(reverse("cohort_list")).content.decode()
    banner = page[page.index('id="pause-banner"'):page.index("</div>", page.index('id="pause-banner"'))]
    assert 'method="post"' in banner and 'value="resume"' in banner
    assert educator_client.post(reverse("predictions_pause"), {"action": "resume"}).status_code == 302
    assert prediction_pause() is None


def test_no_page_pauses_in_one_click_and_the_one_pause_form_asks_a_reason_and_a_confirmation(
        educator_client, run):
    """The header and the Models page link to the pause page; its form is the only pause form."""
    pause = reverse("predictions_pause")
    for url in [reverse("cohort_list"), reverse("run_overview", args=[run.cohort.pk])]:
        page = educator_client.get(url).content.decode()
        assert 'value="pause"' not in page and f'action="{pause}"' not in page, url
        assert f'<a href="{pause}?next=' in page and "Pause predictions…</a>" in page, url
    response = educator_client.get(pause, {"next": "/cohorts/"})
    assert response.status_code == 200 and not PredictionPause.objects.exists()
    page = response.content.decode()
    assert page.count('value="pause"') == 1 and 'value="/cohorts/"' in page
    form = page[page.index('id="pause-form"'):page.index("</form>", page.index('id="pause-form"'))]
    for field in ('name="reason"', 'name="confirm"'):
        tag = form[form.rindex("<", 0, form.index(field)):form.index(">", form.index(field))]
        assert "required" in tag, field
    assert "I understand this pauses predictions for every user" in form


def test_an_offsite_next_is_ignored(educator_client):
    response = _pause(educator_client, next="https://evil.example/")
    assert response.status_code == 302 and response.url == reverse("models_home")


def test_a_decision_while_paused_records_no_recommendation(educator_client, educator, patient,
                                                           run):
    predictions_pause(actor=educator, reason="class check", purpose=Purpose.EDUCATION)
    second = _ranking_unpaused(patient, run)[1]
    assert _decide(educator_client, patient, arm=second, reason="").status_code == 302
    decision = TreatmentDecision.objects.get()
    assert (decision.arm, decision.recommended_arm, decision.run) == (second, "", None)
    assert decision.follows_recommendation is None


def _ranking_unpaused(patient, run) -> list[str]:
    """The ranking the page would show without the pause (read around the gate, for the test)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("decision_support.predictions.selectors.prediction_pause", lambda: None)
        return _ranking(patient, run)


def test_the_pause_history_is_append_only(educator):
    state, changed = predictions_pause(actor=educator, reason="class check", purpose=Purpose.EDUCATION)
    assert changed
    state.reason = "rewritten"
    with pytest.raises(AppendOnlyError, match="append-only"):
        state.save()
    with pytest.raises(AppendOnlyError, match="append-only"):
        state.delete()
