"""Course scope: a member of one course gets 404 (and an audit entry) for every object of another,
on every URL and API endpoint, and lists show only their own courses' objects.

Which URLs name an object is read from the URL configuration (their keyword arguments), so a new
URL that names an object is covered without a line here; the paths come from the access matrix,
which has a row for every URL.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from decision_support.accounts.access import API_PAGES, DENIED_ACTION, POLICIES
from decision_support.audit.models import AuditEntry
from decision_support.courses.models import Course
from decision_support.courses.scope import COURSE_OF

from .test_access_matrix import MATRIX, _signed_in, D, E, R, S

pytestmark = pytest.mark.django_db


def url_keywords(patterns=None) -> dict[str, set[str]]:
    """URL name -> the keyword arguments its pattern captures, for every named URL."""
    keywords = {}
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name != "admin":
                keywords.update(url_keywords(pattern.url_patterns))
        elif isinstance(pattern, URLPattern) and pattern.name:
            keywords[pattern.name] = set(pattern.pattern.regex.groupindex)
    return keywords


OBJECT_URLS = sorted(name for name, keys in url_keywords().items()
                     if keys & set(COURSE_OF) or (POLICIES.get(name) and POLICIES[name].scoped_query))


def test_every_url_that_takes_an_identifier_names_an_object_the_gate_scopes():
    """A keyword the gate does not know would leave a URL unscoped: every keyword a signed-in
    page captures is either one the gate resolves to a course or a plain parameter (an arm).
    Public pages (a join code, a set-password link) name no course object, nor does a lesson
    plan (the same for every course)."""
    plain = {"arm", "lesson"}
    for name, keys in url_keywords().items():
        if POLICIES.get(name) is None:
            continue
        assert keys <= set(COURSE_OF) | plain, (name, keys - set(COURSE_OF) - plain)
    assert len(OBJECT_URLS) >= 25


@pytest.fixture
def other_course():
    return Course.objects.create(name="Another class")


@pytest.mark.parametrize("role", [E, S, R])
@pytest.mark.parametrize("name", OBJECT_URLS)
def test_a_member_of_another_course_gets_404_and_an_audit_entry(client, make_user, objects,
                                                                 other_course, name, role):
    build, allowed, _ = MATRIX[name]
    user = make_user(role, username=f"outsider_{role.value}", course=other_course)
    headers = _signed_in(client, user, name)
    denials = AuditEntry.objects.filter(action=DENIED_ACTION).count()
    response = client.get(build(objects), **headers)
    assert response.status_code == 404, (name, role, response.status_code)
    assert objects["patient"].pseudonym.encode() not in response.content
    assert AuditEntry.objects.filter(action=DENIED_ACTION).count() == denials + 1
    entry = AuditEntry.objects.filter(action=DENIED_ACTION).last()
    assert (entry.actor, entry.object_ref) == (user.username, name)


@pytest.mark.parametrize("name", OBJECT_URLS)
def test_the_same_role_in_the_objects_course_opens_them(client, make_user, objects, name):
    """The control: what an outsider is refused, a member of the objects' course gets."""
    build, allowed, status = MATRIX[name]
    role = sorted(allowed - {D})[0] if allowed - {D} else D
    user = make_user(role, username="insider", course=objects["cohort"].course)
    headers = _signed_in(client, user, name)
    assert client.get(build(objects), **headers).status_code == status


def test_roles_follow_the_course_an_educator_here_is_a_student_there(client, make_user, objects,
                                                                      other_course):
    """An educator of another course who is a student in the objects' course gets what students
    get there: no case packet (educators and reviewers only), no truth on the patient page."""
    user = make_user(E, username="teaches_elsewhere", course=other_course)
    user.memberships.create(course=objects["cohort"].course, role=S.value)
    client.force_login(user)
    pseudonym = objects["patient"].pseudonym
    assert client.get(reverse("case_packet", args=[pseudonym])).status_code == 404
    page = client.get(reverse("patient_detail", args=[pseudonym]))
    assert page.status_code == 200
    assert "Prediction minus truth" not in page.content.decode()
    user.memberships.filter(course=objects["cohort"].course).update(role=E.value)
    assert "Prediction minus truth" in client.get(reverse("patient_detail",
                                                          args=[pseudonym])).content.decode()


LISTS = {
    "cohort_list": lambda o: o["cohort"].name,
    "seminar_pack_list": lambda o: o["pack"].name,
    "api_cohort_list": lambda o: f'"id":{o["cohort"].pk},',
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_lists_show_only_the_users_courses(client, make_user, objects, other_course, name):
    build, allowed, _ = MATRIX[name]
    for course, shown in ((other_course, False), (objects["cohort"].course, True)):
        user = make_user(sorted(allowed - {D})[0], username=f"lister_{course.pk}", course=course)
        headers = _signed_in(client, user, name)
        body = client.get(build(objects), **headers).content.decode().replace(" ", "")
        assert (LISTS[name](objects).replace(" ", "") in body) is shown, (name, course)


def test_home_and_models_open_the_users_own_course(client, make_user, objects, other_course):
    user = make_user(E, username="new_teacher", course=other_course)
    client.force_login(user)
    for name in ("home", "models_home"):
        response = client.get(reverse(name))
        assert response.status_code == 200 and "cohorts/empty.html" in [
            t.name for t in response.templates], name
    assert set(API_PAGES) <= set(MATRIX)
