"""The first-visit guide: on the start page, per role, what to open first (links the role may
open), until the user closes it; closed, it stays closed in every session, for that user only."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from decision_support.accounts.guide import GUIDE
from decision_support.accounts.models import GuideDismissal
from decision_support.accounts.roles import Role

pytestmark = pytest.mark.django_db


def _start_page(client) -> str:
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _guide(page: str) -> str | None:
    if 'id="first-visit"' not in page:
        return None
    return page.split('id="first-visit"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize("with_cohort", [True, False])
@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_shown_its_first_steps_and_each_link_opens(client, make_user, request,
                                                                role, with_cohort):
    if with_cohort:
        request.getfixturevalue("demo_cohort")
    client.force_login(make_user(role))
    guide = _guide(_start_page(client))
    assert guide is not None
    for step in GUIDE[role]:
        assert step.title in guide and step.why in guide
        url = reverse(step.url_name)
        assert f'href="{url}"' in guide
        assert client.get(url, follow=True).status_code == 200


def test_closing_it_keeps_it_closed_in_a_new_session_and_for_no_one_else(client, make_user,
                                                                          demo_cohort):
    student, other = make_user(Role.STUDENT), make_user(Role.STUDENT, username="other")
    client.force_login(student)
    page = _start_page(client)
    overview = reverse("cohort_overview", args=[demo_cohort.pk])
    response = client.post(reverse("guide_dismiss"), {"next": overview})
    assert response.status_code == 302 and response.url == overview
    assert _guide(_start_page(client)) is None
    fresh = Client()
    fresh.force_login(student)
    assert _guide(_start_page(fresh)) is None
    fresh.force_login(other)
    assert _guide(_start_page(fresh)) is not None
    assert "Close this guide" in page
    client.post(reverse("guide_dismiss"))  # again: nothing changes
    assert GuideDismissal.objects.filter(user=student).count() == 1


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "home", ""])
def test_closing_it_never_redirects_off_the_site(client, make_user, target):
    client.force_login(make_user(Role.STUDENT))
    response = client.post(reverse("guide_dismiss"), {"next": target})
    assert response.status_code == 302 and response.url == reverse("home")
