"""Sign-in and transport safeguards: brute-force lockout, sessions, security headers, deploy check."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.views import LoginView
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_create
from decision_support.cohorts import views as cohort_views
from decision_support.cohorts.models import Patient

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
LOGOUT = "/accounts/logout/"


def _sign_in(client, user, password=None):
    return client.post(LOGIN, {"username": user.username,
                               "password": user.raw_password if password is None else password})


def _signed_in(client) -> bool:
    response = client.get("/cohorts/")
    return response.status_code == 200


# Brute-force lockout (django-axes)

def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(client, signed_in_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _sign_in(client, signed_in_user, "wrong-password")
        assert response.status_code == 200 and "Please enter a correct username" in response.content.decode()
    response = _sign_in(client, signed_in_user, "wrong-password")
    assert response.status_code == 429

    response = _sign_in(client, signed_in_user)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Account temporarily locked" in body
    assert "locked after 5 failed sign-in attempts" in body and "Try again in 15 minutes" in body
    assert not _signed_in(client)


def test_the_lockout_follows_the_account_not_the_address(client, signed_in_user):
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": signed_in_user.username, "password": "wrong"},
                    REMOTE_ADDR=f"203.0.113.{n}")
    response = client.post(LOGIN, {"username": signed_in_user.username,
                                   "password": signed_in_user.raw_password}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429


def test_failures_below_the_limit_do_not_lock_and_success_clears_them(client, signed_in_user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, signed_in_user, "wrong-password")
    assert _sign_in(client, signed_in_user).status_code == 302
    client.post(LOGOUT)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, signed_in_user, "wrong-password")
    assert _sign_in(client, signed_in_user).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, signed_in_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, signed_in_user, "wrong-password")
    assert _sign_in(client, signed_in_user).status_code == 429
    # As if the last attempt had been made a cool-off period (and a second) ago.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert _sign_in(client, signed_in_user).status_code == 302


# Sessions

def test_passwords_are_hashed_with_argon2id_and_old_pbkdf2_hashes_upgrade_at_sign_in(
        client, signed_in_user):
    assert signed_in_user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    signed_in_user.password = make_password(signed_in_user.raw_password, hasher="pbkdf2_sha256")
    signed_in_user.save()
    _sign_in(client, signed_in_user)
    assert _signed_in(client)
    signed_in_user.refresh_from_db()
    assert signed_in_user.password.startswith("argon2$argon2id$")


def test_signing_in_issues_a_new_session_key(client, signed_in_user):
    session = client.session  # an anonymous session, as a visitor (or an attacker) would hold
    session["seen"] = True
    session.save()
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    assert _sign_in(client, signed_in_user).status_code == 302
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert _signed_in(client)


def test_session_cookie_settings():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_the_session_cookie_is_httponly_lax_and_ends_with_the_browser(client, signed_in_user):
    response = _sign_in(client, signed_in_user)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie


def test_an_idle_session_expires_and_sends_to_sign_in(client, signed_in_user, monkeypatch):
    _sign_in(client, signed_in_user)
    start = timezone.now()
    # Activity within the idle timeout keeps the session alive, and pushes its expiry on.
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=20))
    assert _signed_in(client)
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=45))
    assert _signed_in(client)
    # Then 31 idle minutes.
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=45 + 31))
    response = client.get("/cohorts/")
    assert response.status_code == 302 and response["Location"] == f"{LOGIN}?next=/cohorts/"


def test_an_expired_session_row_is_not_accepted(client, signed_in_user):
    _sign_in(client, signed_in_user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/cohorts/").status_code == 302


def test_signing_out_ends_the_session_on_the_server(client, signed_in_user):
    _sign_in(client, signed_in_user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.post(LOGOUT).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert not _signed_in(client)
    # Replaying the old cookie does not bring the session back.
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert not _signed_in(client)


# Headers

def test_pages_carry_a_strict_content_security_policy(signed_in_client):
    response = signed_in_client.get("/cohorts/")
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"].split() == ["'self'", *settings.PLOTLY_STYLE_HASHES]
    assert policy["img-src"] == "'self' data:"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_the_sign_in_page_carries_the_policy_too(client):
    assert "default-src 'self'" in client.get(LOGIN)["Content-Security-Policy"]


def _boom(*args, **kwargs):
    raise RuntimeError("a bug in a view")


# Every kind of response, whoever produces it: WhiteNoise, CommonMiddleware, the CSRF check, the
# access gate (sign-in redirect, 401, 404), a view, the API, Django's error pages.
# (who, method, path, expected status, what to break for a 500, CSRF enforced)
RESPONSE_KINDS = [
    ("anonymous", "get", LOGIN, 200, None, False),
    ("anonymous", "get", "/static/css/app.css", 200, None, False),
    ("anonymous", "get", "/cohorts", 301, None, False),
    ("anonymous", "get", "/cohorts/", 302, None, False),
    ("anonymous", "get", "/api/cohorts/", 401, None, False),
    ("anonymous", "post", LOGIN, 403, None, True),
    ("anonymous", "get", "/no-such-page/", 404, None, False),
    ("anonymous", "delete", LOGIN, 405, None, False),
    ("anonymous", "get", LOGIN, 500, (LoginView, "get"), False),
    ("educator", "get", "/cohorts/", 200, None, False),
    ("educator", "get", "/api/cohorts/", 200, None, False),
    ("educator", "post", LOGOUT, 302, None, False),
    ("educator", "get", "/cohorts/compare/?a=nan", 400, None, False),
    ("data_steward", "get", "/audit/?page=nan", 400, None, False),
    ("educator", "post", "/cohorts/new/", 403, None, True),
    ("student", "get", "/audit/", 404, None, False),
    ("student", "get", "/no-such-page/", 404, None, False),
    ("educator", "get", "/api/cohorts/999999/", 404, None, False),
    ("data_steward", "get", "/api/patients/P0/", 404, None, False),
    ("educator", "get", "/accounts/guide/close/", 405, None, False),
    ("educator", "get", "/api/cohorts/?unknown=1", 422, None, False),
    ("educator", "get", "/cohorts/", 500, (cohort_views, "render"), False),
]


@pytest.mark.parametrize("who, method, path, status, broken, csrf", RESPONSE_KINDS,
                         ids=[f"{k[0]}-{k[3]}-{k[2]}" for k in RESPONSE_KINDS])
def test_every_response_carries_the_security_headers(make_user, monkeypatch, who, method, path,
                                                     status, broken, csrf):
    client = Client(enforce_csrf_checks=csrf, raise_request_exception=False)
    headers = {}
    if who != "anonymous":
        user = make_user(Role(who))
        client.force_login(user)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user, name='t')[1]}"}
    if broken:
        monkeypatch.setattr(*broken, _boom)
    response = getattr(client, method)(path, **headers)
    response.close()  # a static file is streamed
    assert response.status_code == status
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_a_patient_page_is_never_cached(signed_in_client, demo_cohort):
    pseudonym = Patient.objects.filter(cohort=demo_cohort).values_list("pseudonym", flat=True).first()
    response = signed_in_client.get(f"/patients/{pseudonym}/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_production_mode_passes_the_deployment_checklist_with_these_settings(tmp_path):
    from tests.test_settings import PRODUCTION_ENV, _run

    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SESSION_COOKIE_SECURE" not in result.stdout + result.stderr
