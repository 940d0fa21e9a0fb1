"""PDFs rendered from HTML by weasyprint, for every page that offers one (case packets, seminar
packs, lesson plans, exercise summaries): static files come from disk (under their hashed names
too, as ``{% static %}`` writes them in production) and every other URL is refused, so
rendering never touches the network."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpResponse

# Any host will do: the fetcher below never opens a connection.
PDF_BASE_URL = "http://localhost/"


def static_path(url: str) -> Path | None:
    """The file behind a static file's URL on ``PDF_BASE_URL``: from the app folders (the finders)
    or, for a name only ``collectstatic`` wrote (a hashed name in production), from the static
    files storage. None for any other URL, and for a name leading out of those folders."""
    parts, base = urlsplit(url), urlsplit(PDF_BASE_URL)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if ((parts.scheme, parts.netloc) != (base.scheme, base.netloc)
            or not parts.path.startswith(prefix)):
        return None
    name = unquote(parts.path[len(prefix):])
    try:
        found = finders.find(name)
        if found is None and staticfiles_storage.location and staticfiles_storage.exists(name):
            found = staticfiles_storage.path(name)
    except SuspiciousFileOperation:
        return None
    return Path(found) if found else None


def pdf_from_html(html: str) -> bytes:
    """Render ``html`` (a whole document) to PDF; only static files are fetched, from disk."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):
        def fetch(self, url, headers=None):
            found = static_path(url)
            if found is None:
                raise ValueError(f"refused to fetch {url}: a PDF loads static files only")
            content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, found.read_bytes(), {"Content-Type": content_type})

    return HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=StaticFilesOnly()).write_pdf()


def pdf_download(html: str, filename: str) -> HttpResponse:
    """``html`` as a PDF attachment named ``filename``."""
    response = HttpResponse(pdf_from_html(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
