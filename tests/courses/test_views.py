"""Course pages as their users meet them: my courses, a course's people and codes, joining with a
code or link (signed in or with a new account), refusals, the join throttle, roster links."""

import base64
import csv
import html
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.courses.models import Course, JoinCode, Membership
from decision_support.courses.selectors import ARCHIVED_COURSE, REVOKED_CODE, UNKNOWN_CODE
from decision_support.courses.services import LAST_EDUCATOR, join_code_create

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-pass-phrase-77"


def _signed_in(client, user):
    client.force_login(user)
    return client


def _written() -> tuple[int, int, int, int]:
    """Rows a refused request must not add (the audit log may record the refusal)."""
    return (get_user_model().objects.count(), Membership.objects.count(), Course.objects.count(),
            JoinCode.objects.count())


# --- my courses, a new course ---------------------------------------------------------------


def test_my_courses_lists_mine_with_my_role_and_no_other(client, make_user, course, other_course):
    user = make_user(Role.STUDENT, username="s1", course=course)
    Membership.objects.create(user=user, course=other_course, role=Role.ETHICS_REVIEWER)
    Course.objects.create(name="Somebody else's course")
    body = _signed_in(client, user).get(reverse("course_list")).content.decode()
    assert "Psychiatry 101" in body and "Pharmacology 202" in body and "Ethics reviewer" in body
    assert "Somebody else" not in body
    assert 'id="course-form"' not in body  # only educators create courses
    assert f'href="{reverse("course_list")}"' in body  # in the header navigation


def test_an_educator_creates_a_course_and_teaches_it(client, educator):
    body = _signed_in(client, educator).get(reverse("course_list")).content.decode()
    assert 'id="course-form"' in body
    response = client.post(reverse("course_create"), {"name": "Evening seminar"})
    course = Course.objects.get(name="Evening seminar")
    assert response.status_code == 302 and response["Location"] == reverse("course_detail",
                                                                           args=[course.pk])
    assert Membership.objects.get(course=course).user == educator
    assert AuditEntry.objects.filter(action="course.create", object_ref=str(course.pk)).exists()


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_bad_course_name_is_refused_naming_the_field(client, educator, name):
    before = _written()
    response = _signed_in(client, educator).post(reverse("course_create"), {"name": name})
    assert response.status_code == 400 and 'data-field="name"' in response.content.decode()
    assert _written() == before


# --- a course's page ------------------------------------------------------------------------


def test_a_student_sees_the_educators_and_themself_not_the_class(client, make_user, educator,
                                                                 course):
    Membership.objects.filter(user=educator).update(display_name="Dr Rivera")
    me = make_user(Role.STUDENT, username="s_me", course=course)
    make_user(Role.STUDENT, username="s_classmate", course=course)
    make_user(Role.ETHICS_REVIEWER, username="r_reviewer", course=course)
    body = _signed_in(client, me).get(reverse("course_detail", args=[course.pk])).content.decode()
    assert "Dr Rivera" in body and "s_me (you)" in body
    assert "s_classmate" not in body and "r_reviewer" not in body
    assert "join-codes" not in body and 'name="role"' not in body


def test_an_educator_sees_everyone_and_the_codes_with_their_links(client, make_user, educator,
                                                                  course, join_code):
    make_user(Role.STUDENT, username="s_classmate", course=course)
    body = _signed_in(client, educator).get(reverse("course_detail", args=[course.pk])).content.decode()
    assert "s_classmate" in body and join_code.display in body
    assert f"http://testserver/join/{join_code.code}/" in body


def test_a_course_is_not_found_for_a_non_member(client, make_user, course, other_course):
    user = make_user(Role.EDUCATOR, username="elsewhere", course=other_course)
    assert _signed_in(client, user).get(reverse("course_detail", args=[course.pk])).status_code == 404
    assert client.post(reverse("course_join_codes", args=[course.pk]),
                       {"role": "student", "days": 7}).status_code == 404
    assert not JoinCode.objects.filter(course=course).exists()


def test_an_educator_elsewhere_cannot_manage_a_course_they_study_in(client, make_user, course,
                                                                    other_course, educator):
    user = make_user(Role.EDUCATOR, username="teaches_elsewhere", course=other_course)
    Membership.objects.create(user=user, course=course, role=Role.STUDENT)
    response = _signed_in(client, user).post(reverse("course_join_codes", args=[course.pk]),
                                             {"role": "student", "days": 7})
    assert response.status_code == 404 and not JoinCode.objects.filter(course=course).exists()


def test_an_educator_changes_a_role_and_removes_a_member(client, make_user, educator, course):
    student = make_user(Role.STUDENT, username="s1", course=course)
    membership = Membership.objects.get(user=student)
    _signed_in(client, educator)
    path = reverse("course_members", args=[course.pk])
    assert client.post(path, {"member": membership.pk, "role": "ethics_reviewer"}).status_code == 302
    assert Membership.objects.get(pk=membership.pk).role == Role.ETHICS_REVIEWER
    assert client.post(path, {"member": membership.pk, "remove": "on"}).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert get_user_model().objects.filter(pk=student.pk).exists()  # the account stays
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="membership.")] == [
        "membership.change", "membership.remove"]


@pytest.mark.parametrize("elsewhere", [True, False])
def test_an_educator_who_leaves_lands_on_a_page_they_can_open(client, make_user, educator, course,
                                                               other_course, elsewhere):
    make_user(Role.EDUCATOR, username="co_teacher", course=course)
    if elsewhere:
        Membership.objects.create(user=educator, course=other_course, role=Role.STUDENT)
    response = _signed_in(client, educator).post(reverse("course_members", args=[course.pk]), {
        "member": Membership.objects.filter(user=educator, course=course).get().pk,
        "remove": "on"})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("course_detail", args=[course.pk])).status_code == 404


@pytest.mark.parametrize("data, field, message", [
    ({"member": "", "role": "student"}, "member", "member must name a member"),
    ({"member": "abc", "role": "student"}, "member", "member must name a member"),
    ({"member": "999999", "role": "student"}, "member", "member must name a member"),
    ({"member": "OTHER", "role": "student"}, "member", "member must name a member"),
    ({"member": "SELF", "role": "data_steward"}, "role", "Select a valid choice"),
    ({"member": "SELF", "role": ""}, "role", "role is required"),
    ({"member": "SELF", "role": "student"}, "role", LAST_EDUCATOR),
    ({"member": "SELF", "remove": "on"}, "member", LAST_EDUCATOR),
])
def test_bad_member_changes_are_refused_naming_the_field(client, make_user, educator, course,
                                                         other_course, data, field, message):
    other = make_user(Role.STUDENT, username="s_other", course=other_course)
    ids = {"SELF": Membership.objects.get(user=educator).pk,
           "OTHER": Membership.objects.get(user=other).pk}
    data = {k: str(ids.get(v, v)) for k, v in data.items()}
    roles = list(Membership.objects.values_list("pk", "role"))
    response = _signed_in(client, educator).post(reverse("course_members", args=[course.pk]), data)
    body = response.content.decode()
    assert response.status_code == 400 and f'data-field="{field}"' in body
    assert html.escape(message) in body
    assert list(Membership.objects.values_list("pk", "role")) == roles


def test_an_educator_creates_and_revokes_a_code(client, educator, course):
    _signed_in(client, educator)
    path = reverse("course_join_codes", args=[course.pk])
    assert client.post(path, {"role": "ethics_reviewer", "days": "90"}).status_code == 302
    code = JoinCode.objects.get(course=course)
    assert code.role == Role.ETHICS_REVIEWER and (code.expires_at - code.created_at).days == 90
    assert client.post(path, {"revoke": code.pk}).status_code == 302
    assert JoinCode.objects.get(pk=code.pk).revoked_at is not None
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="join_code.")] == [
        "join_code.create", "join_code.revoke"]
    body = client.get(reverse("course_detail", args=[course.pk])).content.decode()
    assert "revoked" in body


@pytest.mark.parametrize("data, field", [
    ({"role": "student", "days": "0"}, "days"), ({"role": "student", "days": "91"}, "days"),
    ({"role": "student", "days": "NaN"}, "days"), ({"role": "student", "days": ""}, "days"),
    ({"role": "educator", "days": "7"}, "role"), ({"role": "data_steward", "days": "7"}, "role"),
    ({"revoke": "abc"}, "revoke"), ({"revoke": "999999"}, "revoke"), ({"revoke": "OTHER"}, "revoke"),
    ({"revoke": "REVOKED"}, "revoke"),
])
def test_bad_code_requests_are_refused_naming_the_field(client, make_user, educator, course,
                                                        other_course, dead_code, data, field):
    other_educator = make_user(Role.EDUCATOR, username="t2", course=other_course)
    other = join_code_create(actor=other_educator, purpose="TRAIN", course=other_course,
                             role="student", days=7)
    ids = {"OTHER": other.pk, "REVOKED": dead_code("revoked").pk}
    data = {k: str(ids.get(v, v)) for k, v in data.items()}
    before = list(JoinCode.objects.values_list("pk", "revoked_at"))
    response = _signed_in(client, educator).post(reverse("course_join_codes", args=[course.pk]), data)
    assert response.status_code == 400 and f'data-field="{field}"' in response.content.decode()
    assert list(JoinCode.objects.values_list("pk", "revoked_at")) == before


# --- joining --------------------------------------------------------------------------------


def test_the_code_form_leads_to_the_codes_page_whatever_the_case_spaces_and_dashes(client,
                                                                                   join_code):
    response = client.get(reverse("course_join_start"), {"code": f" {join_code.display.lower()} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("course_join", args=[join_code.code])


def test_a_signed_in_user_joins_in_the_codes_role(client, make_user, course, other_course,
                                                  join_code):
    user = make_user(Role.STUDENT, username="s_elsewhere", course=other_course)
    path = reverse("course_join", args=[join_code.code])
    body = _signed_in(client, user).get(path).content.decode()
    assert "Psychiatry 101" in body and "student" in body
    response = client.post(path, {"display_name": "Sam"})
    assert response.status_code == 302
    assert response["Location"] == reverse("course_detail", args=[course.pk])
    membership = Membership.objects.get(user=user, course=course)
    assert (membership.role, membership.display_name) == (Role.STUDENT, "Sam")
    entry = AuditEntry.objects.filter(action="course.join").get()
    assert entry.actor == "s_elsewhere" and entry.detail["new_account"] is False
    # A second time: says so, changes nothing.
    before = AuditEntry.objects.count()
    for response in (client.get(path), client.post(path, {"display_name": "Other"})):
        assert response.status_code == 200 and 'id="already-member"' in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).display_name == "Sam"
    assert AuditEntry.objects.count() == before


def test_an_anonymous_person_makes_an_account_joins_and_is_signed_in(client, course, join_code):
    path = reverse("course_join", args=[join_code.code])
    assert 'name="password2"' in client.get(path).content.decode()
    response = client.post(path, {"username": "newcomer", "display_name": "New Comer",
                                  "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newcomer")
    assert user.check_password(PASSWORD)
    membership = Membership.objects.get(user=user)
    assert (membership.course, membership.role, membership.display_name) == (
        course, Role.STUDENT, "New Comer")
    assert client.get(reverse("course_detail", args=[course.pk])).status_code == 200
    entry = AuditEntry.objects.filter(action="course.join").get()
    assert entry.actor == "newcomer" and entry.detail["new_account"] is True


@pytest.mark.parametrize("changes, field", [
    ({"username": ""}, "username"), ({"username": "bad name!"}, "username"),
    ({"username": "teacher"}, "username"), ({"username": "TEACHER"}, "username"),
    ({"username": "x" * 151}, "username"), ({"display_name": ""}, "display_name"),
    ({"display_name": "x" * 151}, "display_name"), ({"password2": "something-else-99"}, "password2"),
    ({"password1": "password", "password2": "password"}, "password2"),
    ({"password1": "12345678901", "password2": "12345678901"}, "password2"),
    ({"password1": "newcomer1", "password2": "newcomer1"}, "password2"),
])
def test_bad_sign_up_input_is_refused_naming_the_field(client, join_code, changes, field):
    before = _written()
    data = {"username": "newcomer", "display_name": "New Comer", "password1": PASSWORD,
            "password2": PASSWORD, **changes}
    response = client.post(reverse("course_join", args=[join_code.code]), data)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert _written() == before


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("reason, message", [
    ("unknown", UNKNOWN_CODE), ("expired", "This code expired on"), ("revoked", REVOKED_CODE),
    ("archived", ARCHIVED_COURSE)])
def test_a_code_that_cannot_be_used_says_why_with_400_and_creates_nothing(
        client, make_user, other_course, dead_code, reason, message, signed_in):
    code = "ZZZZ9999" if reason == "unknown" else dead_code(reason).code
    if signed_in:
        _signed_in(client, make_user(Role.STUDENT, username="s_elsewhere", course=other_course))
    before = _written()
    path = reverse("course_join", args=[code])
    responses = [client.get(path), client.post(path, {
        "username": "newcomer", "display_name": "New Comer", "password1": PASSWORD,
        "password2": PASSWORD})]
    for response in responses:
        assert response.status_code == 400
        assert message in response.content.decode()
    assert _written() == before
    refusals = AuditEntry.objects.filter(action="course.join_refused")
    assert [(e.detail["reason"], e.outcome) for e in refusals] == [(reason, "denied")] * 2
    assert all(code not in str(e.detail) + e.object_ref for e in refusals)  # no code in clear


@pytest.mark.parametrize("typed", ["", "short", "ABCD-23450", "O0I1-ABCD", "<script>x</script>"])
def test_a_malformed_code_on_the_form_is_refused_naming_the_field(client, typed):
    response = client.get(reverse("course_join_start"), {"code": typed})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-field="code"' in body and "<script>x" not in body


def test_guessing_is_throttled_per_address_and_right_codes_wait_too(client, settings, join_code):
    settings.JOIN_FAILURE_LIMIT = 3
    for guess in ("AAAA2222", "BBBB3333", "CCCC4444"):
        assert client.get(reverse("course_join", args=[guess]),
                          REMOTE_ADDR="203.0.113.9").status_code == 400
    right = reverse("course_join", args=[join_code.code])
    response = client.get(right, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and "Too many wrong codes" in response.content.decode()
    assert client.get(right, REMOTE_ADDR="198.51.100.4").status_code == 200
    reasons = [e.detail["reason"] for e in AuditEntry.objects.filter(action="course.join_refused")]
    assert reasons == ["unknown"] * 3 + ["throttled"]


@pytest.mark.parametrize("reason", ["expired", "revoked", "archived"])
def test_a_class_clicking_a_dead_link_is_not_throttled(client, settings, dead_code, join_code,
                                                       reason):
    settings.JOIN_FAILURE_LIMIT = 3
    dead = reverse("course_join", args=[dead_code(reason).code])
    for _ in range(5):
        assert client.get(dead, REMOTE_ADDR="203.0.113.9").status_code == 400
    if reason != "archived":
        assert client.get(reverse("course_join", args=[join_code.code]),
                          REMOTE_ADDR="203.0.113.9").status_code == 200


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "TRACE"])
@pytest.mark.parametrize("name", ["course_join_start", "course_join", "account_set_password"])
def test_the_public_pages_answer_only_their_methods(client, join_code, name, method):
    args = {"course_join_start": [], "course_join": [join_code.code],
            "account_set_password": ["MQ", "no-token"]}[name]
    before = _written()
    assert client.generic(method, reverse(name, args=args)).status_code == 405
    assert _written() == before


# --- the roster and its set-password links --------------------------------------------------


def _file(data: bytes):
    roster = io.BytesIO(data)
    roster.name = "roster.csv"
    return roster


def _upload(client, course, text: str):
    return client.post(reverse("course_roster", args=[course.pk]), {"roster": _file(text.encode())})


def _links(response) -> dict[str, str]:
    data = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"',
                     response.content.decode()).group(1)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(data).decode())))
    return {row["username"]: row["set_password_link"] for row in rows}


def test_a_roster_enrols_students_and_gives_one_time_links(client, educator, course):
    response = _upload(_signed_in(client, educator), course,
                       "username,display_name\r\nada,Ada Lovelace\r\nalan,=HYPERLINK(\"x\")\r\n")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    links = _links(response)
    assert set(links) == {"ada", "alan"}
    assert all(link.startswith("http://testserver/set-password/") for link in links.values())
    assert "'=HYPERLINK" in base64.b64decode(re.search(
        r"base64,([^\"]+)", response.content.decode()).group(1)).decode()  # safe for spreadsheets
    for username in links:
        user = get_user_model().objects.get(username=username)
        assert not user.has_usable_password()
        assert Membership.objects.get(user=user, course=course).role == Role.STUDENT
    entry = AuditEntry.objects.filter(action="course.roster").get()
    assert (entry.detail["created"], entry.detail["links"]) == (2, 2)

    # Ada sets her password through her link, once.
    client.logout()
    response = client.get(links["ada"].removeprefix("http://testserver"))
    assert response.status_code == 302  # the token moves out of the address
    form_path = response["Location"]
    response = client.post(form_path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("course_list")
    assert get_user_model().objects.get(username="ada").check_password(PASSWORD)
    assert client.get(reverse("course_list")).status_code == 200  # signed in
    assert AuditEntry.objects.filter(action="account.set_password", actor="ada").count() == 1
    client.logout()
    response = client.get(links["ada"].removeprefix("http://testserver"))
    assert response.status_code == 400 and 'id="dead-link"' in response.content.decode()


def test_uploading_again_skips_members_and_renews_only_unused_links(client, make_user, educator,
                                                                    course):
    make_user(Role.STUDENT, username="grace", course=course)  # has a password
    _signed_in(client, educator)
    first = _links(_upload(client, course, "username,display_name\nada,Ada\n"))
    again = _links(_upload(client, course, "display_name,username\nAda,ada\nGrace,grace\n"))
    assert set(again) == {"ada", "grace"} and again["grace"] == ""
    assert again["ada"] and first["ada"]
    assert get_user_model().objects.filter(username="ada").count() == 1


@pytest.mark.parametrize("text, row, column", [
    ("username\nada\n", 1, "display_name"),
    ("username,display_name,email\nada,Ada,a@x\n", 1, "email"),
    ("username,display_name\nada,Ada\nbad name,Bad\n", 3, "username"),
    ("username,display_name\nada,Ada\nADA,Ada again\n", 3, "username"),
    ("username,display_name\nada,\n", 2, "display_name"),
    ("username,display_name\nada," + "x" * 151 + "\n", 2, "display_name"),
    ("username,display_name\nada,Ada,extra\n", 2, "file"),
    ("username,display_name\nteacher,Teacher\n", 2, "username"),  # a member: fine; see below
    ("username,display_name\noutsider,Out Sider\n", 2, "username"),  # an account elsewhere
    ("username,display_name\n", 2, "file"),
    ("\n\n", 1, "file"),
])
def test_a_bad_roster_is_refused_whole_naming_the_row_and_column(client, make_user, educator,
                                                                  course, other_course, text, row,
                                                                  column):
    make_user(Role.STUDENT, username="outsider", course=other_course)
    before = _written()
    response = _upload(_signed_in(client, educator), course, text)
    if text.startswith("username,display_name\nteacher"):  # a member already: left as they are
        assert response.status_code == 200 and _links(response) == {"teacher": ""}
        return
    body = response.content.decode()
    assert response.status_code == 400
    assert f'data-row="{row}" data-column="{column}"' in body, body[body.find("form-errors"):][:600]
    assert _written() == before and not AuditEntry.objects.filter(action="course.roster").exists()


def test_a_roster_that_is_not_utf8_or_too_large_is_refused(client, educator, course):
    _signed_in(client, educator)
    roster = _file("username,display_name\nada,Ad\xe9\n".encode("latin-1"))
    response = client.post(reverse("course_roster", args=[course.pk]), {"roster": roster})
    assert response.status_code == 400 and 'data-row="2" data-column="file"' in response.content.decode()
    big = _file(b"username,display_name\n" + b"a,b\n" * 70_000)
    response = client.post(reverse("course_roster", args=[course.pk]), {"roster": big})
    assert response.status_code == 400 and "larger than the limit" in response.content.decode()
    for upload in ({}, {"roster": _file(b"")}):
        response = client.post(reverse("course_roster", args=[course.pk]), upload)
        assert response.status_code == 400 and 'data-field="roster"' in response.content.decode()


@pytest.mark.parametrize("changes, field", [
    ({"new_password2": "something-else-99"}, "new_password2"),
    ({"new_password1": "password", "new_password2": "password"}, "new_password2"),
    ({"new_password1": "", "new_password2": ""}, "new_password1"),
])
def test_a_bad_new_password_is_refused_naming_the_field(client, educator, course, changes, field):
    link = _links(_upload(_signed_in(client, educator), course, "username,display_name\nada,Ada\n"))
    client.logout()
    form_path = client.get(link["ada"].removeprefix("http://testserver"))["Location"]
    data = {"new_password1": PASSWORD, "new_password2": PASSWORD, **changes}
    response = client.post(form_path, data)
    assert response.status_code == 400 and f'data-field="{field}"' in response.content.decode()
    assert not get_user_model().objects.get(username="ada").has_usable_password()
    assert not AuditEntry.objects.filter(action="account.set_password").exists()
