"""Settings, all from environment variables with defaults that run out of the box on SQLite.

DJANGO_DEBUG=1 turns debug on; nothing else does (``make run`` serves with debug off).
DJANGO_PRODUCTION=1 turns on production mode: secrets must come from the environment, cookies
are secure, HSTS is on, and ``manage.py check --deploy --fail-level WARNING`` passes.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PRODUCTION = env_bool("DJANGO_PRODUCTION")
DEBUG = env_bool("DJANGO_DEBUG")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG cannot be on in production mode (DJANGO_PRODUCTION=1)")

# Local files (the SQLite database and generated development keys) live here.
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var"))


def secret_from_env(name: str) -> str:
    """A secret from the environment; outside production, a random one kept in DATA_DIR."""
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set in production mode")
    path = DATA_DIR / name.lower()
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = secret_from_env("DJANGO_SECRET_KEY")
# Keys the HMAC that turns patient numbers into pseudonyms; never stored in the database.
PSEUDONYM_KEY = secret_from_env("PSEUDONYM_KEY")
if PSEUDONYM_KEY == SECRET_KEY:
    raise ImproperlyConfigured("PSEUDONYM_KEY must differ from DJANGO_SECRET_KEY")
# Keys the audit log's hash chain and signs its checkpoints (HMAC-SHA256); never stored in the
# database, so that someone who can write there cannot recompute the chain.
AUDIT_KEY = secret_from_env("AUDIT_KEY")
if AUDIT_KEY in (SECRET_KEY, PSEUDONYM_KEY):
    raise ImproperlyConfigured("AUDIT_KEY must differ from DJANGO_SECRET_KEY and PSEUDONYM_KEY")
# Signed checkpoints of the audit log (entry count and head hash), one line appended after every
# committed audit write: outside the database, so that rows deleted there are noticed.
AUDIT_CHECKPOINT_FILE = Path(os.environ.get("AUDIT_CHECKPOINT_FILE",
                                            DATA_DIR / "audit-checkpoints.jsonl"))

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production mode")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "ninja",  # the API's schema page, from its bundled static files (no CDN)
    "django_tasks",
    "django_tasks_db",
    "decision_support.accounts",
    "decision_support.courses",
    "decision_support.cohorts",
    "decision_support.registry",
    "decision_support.predictions",
    "decision_support.consent",
    "decision_support.audit",
    "decision_support.privacy",
    "decision_support.seminar",
    "decision_support.exercises",
    "decision_support.lessons",
    "decision_support.api",
]

MIDDLEWARE = [
    # The header middlewares come first, outside everything that can answer on its own (the access
    # gate's sign-in redirect, 401, 404 and 405; CommonMiddleware's redirects; error pages), so
    # every response carries CSP, X-Frame-Options, nosniff and Referrer-Policy.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "decision_support.accounts.access.AccessGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes requires: it turns a lockout raised during sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "decision_support.urls"
WSGI_APPLICATION = "decision_support.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "decision_support" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "decision_support.accounts.context_processors.navigation",
                "decision_support.predictions.context_processors.oversight",
            ],
        },
    },
]


# SQLite serves readers while one connection writes: write-ahead logging lets reads go on beside
# a write; IMMEDIATE transactions take the write lock when they begin, so a transaction that reads
# and then writes (every audited page view) waits its turn instead of failing "database is
# locked" when it upgrades; the timeout is how long it waits: longer than the longest write (storing
# a 20,000-patient cohort took 17-18 s from its page with a class browsing, benchmarks/README.md).
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 60,
}


def database_from_env() -> dict:
    """DATABASE_URL wins; else the libpq PG* variables select PostgreSQL; else a SQLite file."""
    if os.environ.get("DATABASE_URL"):
        return dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)
    if os.environ.get("PGHOST") or os.environ.get("PGDATABASE"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("PGDATABASE", "decision_support"),
            "USER": os.environ.get("PGUSER", ""),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "HOST": os.environ.get("PGHOST", ""),
            "PORT": os.environ.get("PGPORT", ""),
            "CONN_MAX_AGE": 60,
        }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Kept open between requests, as PostgreSQL's: a new SQLite connection (its pragmas, then
    # the schema read by its first query) cost about 1.3 ms of each request.
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS, "CONN_MAX_AGE": 60}


DATABASES = {"default": database_from_env()}
ON_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"

# Training runs as tasks of django-tasks' database backend: the queue is a table, so any number
# of workers (`manage.py db_worker`) on any machine sharing the database take jobs from it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# How many training jobs run at once across all workers. SQLite has one writer: one at a time.
TRAINING_MAX_CONCURRENT = int(os.environ.get("TRAINING_MAX_CONCURRENT", 1 if ON_SQLITE else 2))
# A running job's worker touches its row this often; a job silent for longer than the stale limit
# lost its worker and is failed (README "Deploying for a class").
TRAINING_HEARTBEAT_SECONDS = float(os.environ.get("TRAINING_HEARTBEAT_SECONDS", 10))
TRAINING_STALE_AFTER_SECONDS = int(os.environ.get("TRAINING_STALE_AFTER_SECONDS", 120))
TRAINING_SLOT_POLL_SECONDS = 2.0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# New passwords are hashed with argon2id (accounts/hashers.py); PBKDF2 hashes made before still
# verify, and Django rehashes each with argon2id at its owner's next sign-in.
PASSWORD_HASHERS = [
    "decision_support.accounts.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if PRODUCTION:
    AUTH_PASSWORD_VALIDATORS.append(
        {"NAME": "decision_support.accounts.validators.NotADemoPasswordValidator"}
    )

# django-axes first: it refuses a locked-out username before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute-force lockout (ASVS V6): after 5 failed sign-ins a username is locked for 15 minutes,
# whatever the IP address (a classroom shares one NAT address, so locking by IP would lock out a
# whole class; locking by username also stops guessing spread over many addresses). Each failure
# during the lockout restarts it; a successful sign-in clears the count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Only failed attempts are kept (for the lockout); successful sign-ins are not logged a second time.
AXES_DISABLE_ACCESS_LOG = True
# axes.W006 asks for 'ip_address' among the lockout parameters, because a lockout keyed on the
# user agent or a cookie is dodged by changing them. This lockout is keyed on the account alone,
# which an attacker after that account cannot rotate; adding the IP address would lock out a
# classroom behind one NAT address (or, combined with the username, let rotating addresses in).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# Join codes (courses.throttle): after this many codes that do not exist from one address
# within the window, joins from it are refused until the window ends. Generous, because a
# classroom often shares one NAT address; codes have 40 bits, so guessing stays hopeless.
JOIN_FAILURE_LIMIT = int(os.environ.get("JOIN_FAILURE_LIMIT", 30))
JOIN_FAILURE_WINDOW = timedelta(minutes=10)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic is for production only; elsewhere WhiteNoise serves from the app folders.
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else None
STATICFILES_DIRS = [BASE_DIR / "decision_support" / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "decision_support.lib.static_files.PlotlyFinder",  # plotly.min.js from the pinned package
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production, WhiteNoise serves straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
# Source maps (10 MB, the API docs' scripts) are fetched only by a browser's developer tools:
# compressing them cost collectstatic about a third of its time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# Imports larger than this are refused before they are parsed.
COHORT_IMPORT_MAX_BYTES = int(os.environ.get("COHORT_IMPORT_MAX_BYTES", 20 * 1024 * 1024))

# Sessions (ASVS V7): a 30-minute idle timeout (every request pushes the expiry on, the server
# refuses an expired session), gone when the browser closes; Django issues a new session key at
# sign-in and deletes the session at sign-out.
SESSION_COOKIE_AGE = 30 * 60
# JSON API bearer tokens (accounts.tokens) lapse this many days after they are created.
API_TOKEN_LIFETIME_DAYS = int(os.environ.get("API_TOKEN_LIFETIME_DAYS", 90))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Content Security Policy (django-csp 4): no inline script, no eval, no 'unsafe-inline' anywhere.
# Charts are JSON data (json_script) drawn by static/js/charts.js with Plotly from static files.
# Plotly (the pinned plotly 7.1.0, plotly.js 4.1.1) adds <style> elements of its own as it loads;
# style-src allows exactly those two by hash, nothing else inline:
# - an EMPTY <style>, which Plotly then fills through the CSSOM (insertRule, which CSP does not
#   govern) with its chart, hover and mode-bar rules; an empty element can carry no injected CSS;
# - the fixed layout CSS of the bundled MapLibre map component.
# Hashes never cover style="" attributes (that would need 'unsafe-hashes'), so those stay blocked.
# Upgrading Plotly may change the second hash: tests/browser/test_csp.py then reports the violation.
PLOTLY_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # "" (the empty <style>)
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",  # .maplibregl-map{...} (83 kB)
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, *PLOTLY_STYLE_HASHES],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    # The audit log's signed checkpoints go to the log stream too (audit/checkpoints.py): a copy
    # kept off the app server by whatever collects the logs.
    "loggers": {"decision_support.audit": {"level": "INFO"}},
}
