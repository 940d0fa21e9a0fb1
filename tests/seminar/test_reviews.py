"""Reviews: ethics reviewers annotate a model or a case with the rubric; listed and audited."""

import html

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.consent.erasure import patient_erase
from decision_support.seminar.models import Annotation

pytestmark = pytest.mark.django_db

GOOD = {"plausibility": "4", "actionability": "2", "fairness_concern": "5", "comment": "fine"}
HOSTILE = "<script>alert(1)</script>\r\nSecond line"


def _case_url(patient):
    return reverse("case_review", args=[patient.pseudonym])


def _model_url(model):
    return reverse("model_review", args=[model.run_id, model.arm])


def _model_post(model, **changes):
    return {**GOOD, "algorithm": model.algorithm, "variant": model.variant, **changes}


def test_a_reviewer_annotates_a_case_and_it_is_audited(trained, signed_in):
    client = signed_in(Role.ETHICS_REVIEWER)
    patient = trained["patient"]
    response = client.post(_case_url(patient), GOOD)
    assert response.status_code == 302
    assert response["Location"].endswith(reverse("patient_detail", args=[patient.pseudonym]) + "#reviews")
    annotation = Annotation.objects.get(patient=patient)
    assert (annotation.plausibility, annotation.actionability, annotation.fairness_concern) == (4, 2, 5)
    assert annotation.reviewer == client.user.username and annotation.model is None
    entry = AuditEntry.objects.filter(action="review.case").last()
    assert (entry.object_ref, entry.outcome, entry.role) == (patient.pseudonym, "allowed", "ethics_reviewer")
    assert entry.detail["annotation"] == annotation.pk and "fine" not in str(entry.detail)


def test_a_reviewer_annotates_a_model_and_it_is_audited(trained, signed_in):
    client = signed_in(Role.ETHICS_REVIEWER)
    model = trained["model"]
    response = client.post(_model_url(model), _model_post(model))
    assert response.status_code == 302
    assert f"algorithm={model.algorithm}" in response["Location"]
    annotation = Annotation.objects.get(model=model)
    assert annotation.patient is None
    entry = AuditEntry.objects.filter(action="review.model").last()
    assert entry.object_ref == str(model.pk)


@pytest.mark.parametrize("changes, field", [
    ({"plausibility": None}, "plausibility"),
    ({"plausibility": "6"}, "plausibility"),
    ({"actionability": "0"}, "actionability"),
    ({"fairness_concern": "high"}, "fairness_concern"),
    ({"comment": "x" * 2001}, "comment"),
])
def test_bad_rubric_input_is_refused_naming_the_field(trained, signed_in, changes, field):
    client = signed_in(Role.ETHICS_REVIEWER)
    data = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    before = AuditEntry.objects.count()
    response = client.post(_case_url(trained["patient"]), data)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert not Annotation.objects.exists()
    assert AuditEntry.objects.count() == before


def test_a_model_review_must_name_a_model_of_the_run(trained, signed_in):
    client = signed_in(Role.ETHICS_REVIEWER)
    model = trained["model"]
    for changes, field in [({"algorithm": "svm"}, "algorithm"), ({"variant": ""}, "variant"),
                           ({"plausibility": "6"}, "plausibility")]:
        response = client.post(_model_url(model), _model_post(model, **changes))
        assert response.status_code == 400
        assert f'data-field="{field}"' in response.content.decode()
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.STUDENT, Role.DATA_STEWARD])
def test_only_ethics_reviewers_may_annotate(trained, signed_in, role):
    client = signed_in(role)
    model = trained["model"]
    assert client.post(_case_url(trained["patient"]), GOOD).status_code == 404
    assert client.post(_model_url(model), _model_post(model)).status_code == 404
    assert not Annotation.objects.exists()
    assert AuditEntry.objects.filter(action="access.denied", object_ref="case_review").exists()


def test_a_hostile_comment_is_stored_as_written_and_shown_escaped(trained, signed_in):
    client = signed_in(Role.ETHICS_REVIEWER)
    patient, model = trained["patient"], trained["model"]
    client.post(_case_url(patient), {**GOOD, "comment": HOSTILE})
    client.post(_model_url(model), _model_post(model, comment=HOSTILE))
    assert set(Annotation.objects.values_list("comment", flat=True)) == {HOSTILE}
    pages = [client.get(reverse("patient_detail", args=[patient.pseudonym])),
             client.get(reverse("model_detail", args=[model.run_id, model.arm]),
                        {"algorithm": model.algorithm, "variant": model.variant}),
             client.get(reverse("review_list"))]
    for page in pages:
        body = page.content.decode()
        assert page.status_code == 200
        assert "<script>alert(1)" not in body
        assert html.escape("<script>alert(1)</script>", quote=False) + "<br>" in body


def test_annotations_are_listed_per_model_and_per_case_newest_first(trained, signed_in):
    client = signed_in(Role.ETHICS_REVIEWER)
    patient, other = trained["patients"][:2]
    model, other_model = trained["model"], trained["other_model"]
    client.post(_case_url(patient), {**GOOD, "comment": "first case note"})
    client.post(_case_url(patient), {**GOOD, "comment": "second case note"})
    client.post(_case_url(other), {**GOOD, "comment": "another patient"})
    client.post(_model_url(model), _model_post(model, comment="model note"))
    client.post(_model_url(other_model), _model_post(other_model, comment="other model note"))

    case_page = client.get(reverse("patient_detail", args=[patient.pseudonym])).content.decode()
    assert case_page.index("second case note") < case_page.index("first case note")
    assert "another patient" not in case_page and "model note" not in case_page
    model_page = client.get(reverse("model_detail", args=[model.run_id, model.arm]),
                            {"algorithm": model.algorithm, "variant": model.variant}).content.decode()
    assert "model note" in model_page and "other model note" not in model_page
    assert 'id="review-form"' in model_page and 'value="%s"' % model.algorithm in model_page

    everything = client.get(reverse("review_list")).content.decode()
    for text in ("first case note", "another patient", "model note", "other model note"):
        assert text in everything
    cases = client.get(reverse("review_list"), {"kind": "case"}).content.decode()
    assert "model note" not in cases and "another patient" in cases
    one_case = client.get(reverse("review_list"), {"patient": patient.pseudonym}).content.decode()
    assert "first case note" in one_case and "another patient" not in one_case
    one_model = client.get(reverse("review_list"), {"model": model.pk}).content.decode()
    assert "model note" in one_model and "other model note" not in one_model


@pytest.mark.parametrize("query, field", [({"model": "abc"}, "model"), ({"kind": "all"}, "kind"),
                                          ({"patient": "<script>"}, "patient")])
def test_a_bad_review_filter_is_refused_naming_the_field(trained, signed_in, query, field):
    response = signed_in(Role.EDUCATOR).get(reverse("review_list"), query)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-field="{field}"' in body and "<script>" not in body


def test_educators_read_reviews_without_the_form_and_students_see_none(trained, signed_in, make_user):
    patient = trained["patient"]
    signed_in(Role.ETHICS_REVIEWER).post(_case_url(patient), {**GOOD, "comment": "visible note"})
    path = reverse("patient_detail", args=[patient.pseudonym])
    educator = signed_in(Role.EDUCATOR).get(path).content.decode()
    assert "visible note" in educator and 'id="review-form"' not in educator
    assert reverse("case_packet", args=[patient.pseudonym]) in educator
    student = signed_in(Role.STUDENT).get(path).content.decode()
    assert "visible note" not in student and 'id="reviews-section"' not in student
    assert reverse("case_packet", args=[patient.pseudonym]) not in student


def test_erasing_a_patient_removes_the_annotations_of_their_case(trained, signed_in, make_user):
    client = signed_in(Role.ETHICS_REVIEWER)
    patient, model = trained["patients"][2], trained["model"]
    client.post(_case_url(patient), GOOD)
    client.post(_model_url(model), _model_post(model))
    steward = make_user(Role.DATA_STEWARD, username="seminar_eraser")
    patient_erase(patient, actor=steward)
    assert not Annotation.objects.filter(patient_id=patient.pk).exists()
    assert Annotation.objects.filter(model=model).count() == 1
    assert AuditEntry.objects.filter(action="review.case", object_ref=patient.pseudonym).exists()
