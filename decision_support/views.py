"""Project-wide error pages: ``handler400`` in ``urls.py`` (404 and 500 are Django's own views,
with the templates 404.html and 500.html)."""

from django.shortcuts import render

from .query_parameters import BadQueryParameter


def bad_request(request, exception):
    """400: the query parameters that cannot be used, each named; any other bad request (a
    malformed host or too many fields, say) gets the page without details."""
    errors = exception.errors if isinstance(exception, BadQueryParameter) else []
    return render(request, "400.html", {"errors": errors}, status=400)
