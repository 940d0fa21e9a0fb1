"""API tokens: create, revoke, and find the user a request's bearer token acts as.

A token is ``ppds_`` and 43 random URL-safe characters (256 bits); only its SHA-256 digest is
stored, so a leaked database does not leak usable tokens. A token lapses at ``expires_at``
(``API_TOKEN_LIFETIME_DAYS`` after creation), when revoked, or when its user is deactivated.
Creating and revoking are audited; using a token is audited like the page it reads (the access
gate, ``accounts.access``, authenticates it).
"""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from decision_support.audit.services import audit_record
from decision_support.lib.vocabulary import Purpose

from .models import ApiToken

TOKEN_PREFIX = "ppds_"
MAX_ACTIVE_TOKENS = 5


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_tokens(user):
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())


@transaction.atomic
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the token, which is never shown again.

    Raises ``ValidationError`` keyed by ``name`` when the user already holds
    ``MAX_ACTIVE_TOKENS`` active tokens.
    """
    if active_tokens(user).count() >= MAX_ACTIVE_TOKENS:
        raise ValidationError({"name": f"You already have {MAX_ACTIVE_TOKENS} active tokens; "
                                       "revoke one first."})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user, name=name, digest=_digest(token), prefix=token[:len(TOKEN_PREFIX) + 4],
        expires_at=timezone.now() + dt.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS))
    audit_record(actor=user, purpose=Purpose.EDUCATION, action="api_token.create",
                 outcome="allowed", object_type="api_token", object_ref=row.prefix,
                 detail={"name": name, "expires_at": row.expires_at.isoformat()})
    return row, token


@transaction.atomic
def api_token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s own tokens (ApiToken.DoesNotExist for anyone else's)."""
    row = ApiToken.objects.select_for_update().get(pk=token_id, user=user, revoked_at__isnull=True)
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    audit_record(actor=user, purpose=Purpose.EDUCATION, action="api_token.revoke",
                 outcome="allowed", object_type="api_token", object_ref=row.prefix,
                 detail={"name": row.name})
    return row


def token_user(request):
    """The active user whose live token is in ``Authorization: Bearer <token>``, else anonymous."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip().startswith(TOKEN_PREFIX):
        return AnonymousUser()
    row = (ApiToken.objects.select_related("user")
           .filter(digest=_digest(token.strip()), revoked_at__isnull=True,
                   expires_at__gt=timezone.now(), user__is_active=True).first())
    return row.user if row else AnonymousUser()
