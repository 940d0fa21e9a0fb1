"""Seminar packs: an educator compiles named cases with questions; everyone but stewards reads them."""

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.consent.erasure import patient_erase
from decision_support.seminar.models import SeminarPack, SeminarPackCase

pytestmark = pytest.mark.django_db


def _form(patients, **changes):
    return {"name": "Decoys and doubt", "questions": "Which feature is a decoy?\nWhy?",
            "pseudonyms": "\r\n".join(p.pseudonym for p in patients), **changes}


def test_an_educator_compiles_a_pack_in_order_and_it_is_audited(trained, signed_in):
    client = signed_in(Role.EDUCATOR)
    assert client.get(reverse("seminar_pack_create")).status_code == 200
    patients = list(reversed(trained["patients"]))
    listed = _form(patients, pseudonyms=f"  {patients[0].pseudonym}  \n\n" + "\n".join(
        p.pseudonym for p in patients))  # blank lines, spaces and a repeat are tidied
    response = client.post(reverse("seminar_pack_create"), listed)
    pack = SeminarPack.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("seminar_pack_detail", args=[pack.pk])
    assert [c.patient for c in pack.ordered_cases()] == patients
    assert (pack.name, pack.created_by) == ("Decoys and doubt", client.user.username)
    entry = AuditEntry.objects.filter(action="seminar_pack.create").last()
    assert entry.object_ref == str(pack.pk)
    assert entry.detail["cases"] == [p.pseudonym for p in patients]


def test_an_unknown_pseudonym_is_named_and_nothing_is_written(trained, signed_in):
    client = signed_in(Role.EDUCATOR)
    before = AuditEntry.objects.count()
    data = _form(trained["patients"], pseudonyms=f"{trained['patient'].pseudonym}\nnosuchpatient42")
    response = client.post(reverse("seminar_pack_create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Unknown pseudonym: nosuchpatient42." in body and 'data-field="pseudonyms"' in body
    assert not SeminarPack.objects.exists() and not SeminarPackCase.objects.exists()
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("changes, field", [({"name": ""}, "name"), ({"pseudonyms": "\n \n"}, "pseudonyms"),
                                            ({"pseudonyms": "<script>x</script>"}, "pseudonyms"),
                                            ({"pseudonyms": "\n".join(f"p{i}" for i in range(13))},
                                             "pseudonyms")])
def test_bad_pack_input_is_refused_naming_the_field(trained, signed_in, changes, field):
    response = signed_in(Role.EDUCATOR).post(reverse("seminar_pack_create"),
                                            _form(trained["patients"], **changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-field="{field}"' in body and "<script>x" not in body
    assert not SeminarPack.objects.exists()


def test_students_read_packs_and_open_their_cases_but_not_their_packets(trained, signed_in):
    signed_in(Role.EDUCATOR).post(reverse("seminar_pack_create"), _form(trained["patients"]))
    pack = SeminarPack.objects.get()
    client = signed_in(Role.STUDENT)
    listing = client.get(reverse("seminar_pack_list")).content.decode()
    assert "Decoys and doubt" in listing and reverse("seminar_pack_create") not in listing
    detail = client.get(reverse("seminar_pack_detail", args=[pack.pk])).content.decode()
    for patient in trained["patients"]:
        assert reverse("patient_detail", args=[patient.pseudonym]) in detail
        assert reverse("case_packet", args=[patient.pseudonym]) not in detail
    assert "Which feature is a decoy?<br>Why?" in detail
    assert reverse("seminar_pack_pdf", args=[pack.pk]) not in detail
    assert client.post(reverse("seminar_pack_create"), _form(trained["patients"])).status_code == 404


def test_erasing_a_patient_removes_the_case_from_every_pack(trained, signed_in, make_user):
    signed_in(Role.EDUCATOR).post(reverse("seminar_pack_create"), _form(trained["patients"]))
    pack = SeminarPack.objects.get()
    erased = trained["patients"][1]
    patient_erase(erased, actor=make_user(Role.DATA_STEWARD, username="seminar_eraser"))
    assert [c.patient for c in pack.ordered_cases()] == [trained["patients"][0], trained["patients"][2]]
