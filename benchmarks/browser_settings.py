"""The settings ``bench_browser.py`` serves the app with: production mode (``DJANGO_PRODUCTION=1``,
``decision_support/settings.py``) with the two changes a throw-away server on the loopback needs.

- ``collectstatic`` writes into the benchmark's temporary ``DATA_DIR``, not the checkout's
  ``staticfiles/``; WhiteNoise serves it as in production (compressed, hashed names, cached).
- Plain HTTP on 127.0.0.1, with no TLS proxy in front: the session and CSRF cookies cannot be
  Secure-only (``DJANGO_SECURE_SSL_REDIRECT=0`` turns off the redirect to HTTPS).
"""

from decision_support import settings as production

# Every setting (Django reads the upper-case names), then the changes.
globals().update({name: getattr(production, name) for name in dir(production) if name.isupper()})
STATIC_ROOT = production.DATA_DIR / "static"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
