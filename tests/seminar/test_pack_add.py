"""Adding cases to a seminar pack from the patient list and the patient page: educators only,
audited, and refused with the field named (nothing written) for a full pack, a case already in
the pack, a case of another course, or a new pack without a name."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.cohorts.models import Patient
from decision_support.cohorts.services import cohort_generate
from decision_support.courses.models import Course
from decision_support.lib.vocabulary import Purpose
from decision_support.seminar.models import SeminarPack, SeminarPackCase
from decision_support.seminar.services import seminar_pack_add_cases

pytestmark = pytest.mark.django_db


def _url(cohort) -> str:
    return reverse("seminar_pack_add", args=[cohort.pk])


def _pack(cohort, patients=(), name="Week 3") -> SeminarPack:
    pack = SeminarPack.objects.create(name=name, created_by="fixture", course=cohort.course)
    SeminarPackCase.objects.bulk_create(SeminarPackCase(pack=pack, patient=p, position=i)
                                        for i, p in enumerate(patients, start=1))
    return pack


def _cases(cohort, n, start=0) -> list[Patient]:
    return list(Patient.objects.filter(cohort=cohort).order_by("number")[start:start + n])


def _written() -> tuple[int, int, int]:
    return SeminarPack.objects.count(), SeminarPackCase.objects.count(), AuditEntry.objects.filter(
        action__startswith="seminar_pack.").count()


def test_ticked_cases_are_added_to_the_end_of_a_pack_in_order_and_audited(trained, signed_in):
    cohort = trained["cohort"]
    first, *added = _cases(cohort, 4)
    pack = _pack(cohort, [first])
    client = signed_in(Role.EDUCATOR)
    response = client.post(_url(cohort), {"patients": [p.pseudonym for p in added],
                                          "pack": pack.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("seminar_pack_detail", args=[pack.pk]) + "#cases"
    assert [c.patient for c in pack.ordered_cases()] == [first, *added]
    entry = AuditEntry.objects.filter(action="seminar_pack.add_cases").get()
    assert (entry.actor, entry.object_ref) == (client.user.username, str(pack.pk))
    assert entry.detail["cases"] == [p.pseudonym for p in added]
    page = client.get(reverse("seminar_pack_detail", args=[pack.pk])).content.decode()
    for patient in [first, *added]:
        assert f"{patient.case_label} · <code>{patient.pseudonym}</code>" in page


def test_a_new_pack_is_compiled_from_the_ticked_cases(trained, signed_in):
    cohort = trained["cohort"]
    cases = _cases(cohort, 3)
    response = signed_in(Role.EDUCATOR).post(_url(cohort), {
        "patients": [p.pseudonym for p in cases], "pack": "new", "name": "Disagreements"})
    pack = SeminarPack.objects.get(name="Disagreements")
    assert response.status_code == 302 and pack.course == cohort.course
    assert [c.patient for c in pack.ordered_cases()] == cases
    assert AuditEntry.objects.filter(action="seminar_pack.create", object_ref=str(pack.pk)).exists()


def _refusals(cohort):
    """(name, post data from the existing packs, field named) for every kind of bad input."""
    full = SeminarPack.MAX_CASES
    return {
        "full": (lambda packs: {"patients": [p.pseudonym for p in _cases(cohort, 2, full)],
                                "pack": packs["nearly full"].pk}, "pack"),
        "already in the pack": (lambda packs: {"patients": [p.pseudonym for p in _cases(cohort, 2)],
                                               "pack": packs["nearly full"].pk}, "patients"),
        "another cohort's case": (lambda packs: {"patients": [packs["other"].pseudonym],
                                                 "pack": packs["empty"].pk}, "patients"),
        "another course's pack": (lambda packs: {"patients": [_cases(cohort, 1)[0].pseudonym],
                                                 "pack": packs["other course"].pk}, "pack"),
        "no case": (lambda packs: {"pack": packs["empty"].pk}, "patients"),
        "not a pseudonym": (lambda packs: {"patients": ["<script>x</script>"],
                                           "pack": packs["empty"].pk}, "patients"),
        "too many cases": (lambda packs: {"patients": [p.pseudonym for p in _cases(cohort, full + 1)],
                                          "pack": "new", "name": "Big"}, "patients"),
        "new pack without a name": (lambda packs: {"patients": [_cases(cohort, 1)[0].pseudonym],
                                                   "pack": "new", "name": "  "}, "name"),
        "no such pack": (lambda packs: {"patients": [_cases(cohort, 1)[0].pseudonym],
                                        "pack": "999999"}, "pack"),
    }


@pytest.mark.parametrize("kind", ["full", "already in the pack", "another cohort's case",
                                  "another course's pack", "no case", "not a pseudonym",
                                  "too many cases", "new pack without a name", "no such pack"])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(trained, signed_in, kind):
    cohort = trained["cohort"]
    other_course = Course.objects.create(name="Another class")
    other = cohort_generate(n_patients=30, seed=5, name="Other cohort")
    packs = {"nearly full": _pack(cohort, _cases(cohort, SeminarPack.MAX_CASES - 1)),
             "empty": _pack(cohort, name="Empty"),
             "other course": SeminarPack.objects.create(name="Theirs", created_by="fixture",
                                                        course=other_course),
             "other": Patient.objects.filter(cohort=other).first()}
    build, field = _refusals(cohort)[kind]
    client = signed_in(Role.EDUCATOR)
    before = _written()
    response = client.post(_url(cohort), build(packs))
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-field="{field}"' in body and "Nothing was written." in body
    assert "<script>x" not in body
    assert _written() == before


def test_the_service_refuses_a_case_of_another_course_than_the_packs(trained, make_user):
    cohort = trained["cohort"]
    other_course = Course.objects.create(name="Another class")
    pack = SeminarPack.objects.create(name="Theirs", created_by="fixture", course=other_course)
    with pytest.raises(ValidationError) as refused:
        seminar_pack_add_cases(actor=make_user(Role.EDUCATOR), purpose=Purpose.EDUCATION,
                               pack=pack, patients=_cases(cohort, 1))
    assert set(refused.value.message_dict) == {"patients"}
    assert not pack.cases.exists()


@pytest.mark.parametrize("role, shown", [(Role.EDUCATOR, True), (Role.STUDENT, False),
                                         (Role.ETHICS_REVIEWER, False), (Role.DATA_STEWARD, False)])
def test_only_educators_get_the_add_forms_on_the_list_and_the_patient_page(trained, signed_in,
                                                                          role, shown):
    client = signed_in(role)
    cohort, patient = trained["cohort"], trained["patient"]
    pages = [client.get(reverse("patient_list", args=[cohort.pk])).content.decode()]
    if role != Role.DATA_STEWARD:
        pages.append(client.get(reverse("patient_detail", args=[patient.pseudonym])).content.decode())
    for page in pages:
        assert ('id="pack-add"' in page) == shown
        assert (f'name="patients" value="{patient.pseudonym}"' in page) == shown


def test_the_patient_page_form_adds_that_patient(trained, signed_in):
    cohort, patient = trained["cohort"], trained["patient"]
    pack = _pack(cohort)
    client = signed_in(Role.EDUCATOR)
    page = client.get(reverse("patient_detail", args=[patient.pseudonym])).content.decode()
    form = page[page.index('id="pack-add"'):page.index("</form>", page.index('id="pack-add"'))]
    assert f'action="{_url(cohort)}"' in page
    assert f'<input type="hidden" name="patients" value="{patient.pseudonym}"' in form
    assert f'<option value="{pack.pk}">{pack.name}</option>' in form
    client.post(_url(cohort), {"patients": [patient.pseudonym], "pack": pack.pk})
    assert [c.patient for c in pack.ordered_cases()] == [patient]
