"""System check: every named URL has an access policy (the gate refuses those that do not)."""

from django.core.checks import Error, register
from django.urls import URLPattern, URLResolver, get_resolver

from .access import POLICIES


def url_names(patterns=None) -> list[str]:
    """Every named URL of the project outside the admin, as the gate sees it (``url_name``)."""
    names = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            names += url_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.append(pattern.name)
    return names


@register()
def every_url_has_a_policy(app_configs, **kwargs):
    return [Error(f"URL {name!r} has no access policy", hint="Add it to accounts.access.POLICIES.",
                  id="accounts.E001")
            for name in url_names() if name not in POLICIES]
