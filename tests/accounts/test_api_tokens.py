"""API tokens: created on their page and shown once, stored only as a digest, revocable by their
owner alone, limited in number, lapsing, and every change audited."""

import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from decision_support.accounts.models import ApiToken
from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import MAX_ACTIVE_TOKENS, api_token_create
from decision_support.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_token_is_shown_once_and_only_its_digest_is_stored(client, make_user):
    client.force_login(make_user(Role.STUDENT))
    response = client.post(reverse("api_tokens"), {"name": "seminar notebook"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = response.context["new_token"]
    assert token in response.content.decode()
    row = ApiToken.objects.get()
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(ApiToken.objects.values()))
    assert token not in client.get(reverse("api_tokens")).content.decode()
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert (entry.action, entry.object_ref) == ("api_token.create", row.prefix)
    assert client.get("/api/cohorts/", **_bearer(token)).status_code == 200


def test_revoking_ends_the_token_and_only_the_owner_can(client, make_user):
    owner, other = make_user(Role.STUDENT), make_user(Role.EDUCATOR, username="other")
    row, token = api_token_create(user=owner, name="notebook")
    client.force_login(other)
    assert client.post(reverse("api_tokens"), {"revoke": row.pk}).status_code == 400
    assert client.get("/api/cohorts/", **_bearer(token)).status_code == 200
    client.force_login(owner)
    assert client.post(reverse("api_tokens"), {"revoke": row.pk}).status_code == 302
    assert client.get("/api/cohorts/", **_bearer(token)).status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoke", object_ref=row.prefix).count() == 1


def test_a_lapsed_token_or_a_deactivated_user_is_refused(client, make_user):
    user = make_user(Role.STUDENT)
    row, token = api_token_create(user=user, name="notebook")
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now())
    assert client.get("/api/cohorts/", **_bearer(token)).status_code == 401
    _, token = api_token_create(user=user, name="again")
    user.is_active = False
    user.save()
    assert client.get("/api/cohorts/", **_bearer(token)).status_code == 401


def test_bad_input_names_the_field_and_writes_nothing(client, make_user):
    user = make_user(Role.STUDENT)
    client.force_login(user)
    response = client.post(reverse("api_tokens"), {"name": "  "})
    assert response.status_code == 400 and "name is required" in response.content.decode()
    for i in range(MAX_ACTIVE_TOKENS):
        api_token_create(user=user, name=f"token {i}")
    response = client.post(reverse("api_tokens"), {"name": "one too many"})
    assert response.status_code == 400 and "revoke one first" in response.content.decode()
    assert ApiToken.objects.filter(user=user).count() == MAX_ACTIVE_TOKENS
    response = client.post(reverse("api_tokens"), {"revoke": "x"})
    assert response.status_code == 400 and "revoke must name" in response.content.decode()
