"""A limit on failed join attempts per network address, against guessing join codes.

Every attempt with a code that does not exist counts against the client's address (as
django-axes resolves it, so its proxy settings apply here too) in Django's cache; an expired or
revoked code is a real one (a class clicking an old link is not guessing), so it does not. Once
``JOIN_FAILURE_LIMIT`` failures have been counted in the ``JOIN_FAILURE_WINDOW`` that began with
the first of them, every join from that address is refused until the window ends, right codes
included (else guessing would just go on).

A classroom often shares one address behind NAT, so the limit is generous (a class's typos must
not lock it out); with 2**40 codes it still leaves guessing hopeless. The cache is per process
unless ``CACHES`` names a shared one: with several gunicorn workers each counts on its own, so an
address gets up to the limit times the number of workers.
"""

from django.conf import settings
from django.core.cache import cache

from axes.helpers import get_client_ip_address

KEY = "courses:join-failures:{address}"


def client_address(request) -> str:
    return get_client_ip_address(request) or "unknown"


def join_throttled(address: str) -> bool:
    return cache.get(KEY.format(address=address), 0) >= settings.JOIN_FAILURE_LIMIT


def join_failure_count(address: str) -> None:
    """Count one failed attempt; the window starts with an address's first failure."""
    key = KEY.format(address=address)
    cache.add(key, 0, timeout=int(settings.JOIN_FAILURE_WINDOW.total_seconds()))
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr: start a new window
        cache.add(key, 1, timeout=int(settings.JOIN_FAILURE_WINDOW.total_seconds()))
