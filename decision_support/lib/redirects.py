from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str) -> str:
    """The form's ``next`` if it is a path on this site, else ``fallback`` (no open redirect)."""
    target = request.POST.get("next", "")
    # Only a local path: redirect() would read a bare word as a URL name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
