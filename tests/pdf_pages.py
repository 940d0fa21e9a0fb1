"""How a printed PDF breaks into pages, for the print tests: each page's lines in reading order
(read from the text's positions, as a reader sees them, not the order the PDF draws them), and the
two faults of a page break a reader notices:

- a heading, a table's or figure's caption, or a table's header row left at the foot of a page,
  its content on the next;
- a page left mostly blank (less than ``MIN_FILL`` of the text area used) although the next page
  does not begin a new part (an ``h1``: a new case in a seminar pack starts on its own page);
- a document of several pages whose last page holds fewer than ``MIN_LAST_LINES`` lines (a sheet
  printed for a few lines).

The running header and footer ("Synthetic data...", "Page n of m") are not part of a page's text.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from pypdf import PdfReader

FURNITURE = re.compile(r"^(Synthetic data, not for clinical use.*|Page \d+ of \d+)$")
MIN_FILL = 0.6  # of the text area the fullest page uses
MIN_LAST_LINES = 4
IDENTITY = (1, 0, 0, 1, 0, 0)
LINE_TOLERANCE = 2.0  # points: text on one line may sit a little higher or lower


@dataclass(frozen=True)
class Page:
    lines: list[str]  # top to bottom, each left to right
    top: float  # the height of the first and last body line, in points from the page's foot
    bottom: float


def _squeezed(text: str) -> str:
    return "".join(text.split())


def pdf_pages(content: bytes) -> list[Page]:
    pages = []
    for page in PdfReader(io.BytesIO(content)).pages:
        pieces = []

        def visit(text, cm, tm, _font, _size, pieces=pieces):
            # weasyprint draws every page under a px-to-pt matrix; pypdf hands some SVG text over
            # without it (an identity matrix), at a place that is not the page's.
            if text.strip() and tuple(cm) != IDENTITY:
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                pieces.append((y, x, text.strip()))

        page.extract_text(visitor_text=visit)
        rows: list[tuple[float, list[tuple[float, str]]]] = []
        for y, x, text in sorted(pieces, key=lambda p: (-p[0], p[1])):
            if rows and rows[-1][0] - y <= LINE_TOLERANCE:
                rows[-1][1].append((x, text))
            else:
                rows.append((y, [(x, text)]))
        body = [(y, " ".join(t for _x, t in sorted(parts))) for y, parts in rows]
        body = [(y, line) for y, line in body if not FURNITURE.match(line)]
        pages.append(Page(lines=[line for _y, line in body],
                          top=body[0][0] if body else 0.0, bottom=body[-1][0] if body else 0.0))
    return pages


class _Blocks(HTMLParser):
    """The text of every heading, caption and table header row, and of every h1, in a document."""

    ENDS = {"h1", "h2", "h3", "h4", "h5", "h6", "caption", "figcaption", "thead"}

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, list[str]]] = []
        self.ends: set[str] = set()
        self.parts: set[str] = set()

    def handle_starttag(self, tag, attrs):
        if tag in self.ENDS:
            self.open.append((tag, []))

    def handle_endtag(self, tag):
        if self.open and self.open[-1][0] == tag:
            _tag, text = self.open.pop()
            squeezed = _squeezed("".join(text))
            if squeezed:
                self.ends.add(squeezed)
                if tag == "h1":
                    self.parts.add(squeezed)
            if self.open:
                self.open[-1][1].extend(text)

    def handle_data(self, data):
        if self.open:
            self.open[-1][1].append(data)


def page_break_faults(content: bytes, html: str) -> list[str]:
    """Every fault of the PDF ``content`` rendered from ``html``, as a sentence naming the page."""
    blocks = _Blocks()
    blocks.feed(html)
    pages = pdf_pages(content)
    text_top = max(page.top for page in pages)
    text_bottom = min(page.bottom for page in pages)
    faults = []
    for number, (page, following) in enumerate(zip(pages, pages[1:]), start=1):
        # The page's last lines, whole (a caption may wrap), one of them a heading's or caption's.
        tails = {_squeezed(" ".join(page.lines[-count:])) for count in range(1, 4)}
        if tails & blocks.ends:
            faults.append(f"page {number} ends with {page.lines[-1]!r} (a heading, caption or "
                          f"table header)")
        new_part = any(_squeezed(" ".join(following.lines)).startswith(part)
                       for part in blocks.parts)
        fill = (text_top - page.bottom) / (text_top - text_bottom)
        if fill < MIN_FILL and not new_part:
            faults.append(f"page {number} is {1 - fill:.0%} blank and page {number + 1} begins "
                          f"{following.lines[0]!r}")
    if len(pages) > 1 and len(pages[-1].lines) < MIN_LAST_LINES:
        faults.append(f"the last page, {len(pages)}, holds only {len(pages[-1].lines)} lines")
    return faults


def printed(client, monkeypatch, url: str, query: dict | None = None) -> tuple[bytes, str]:
    """The PDF a view answers for ``url`` and the HTML it rendered it from
    (``lib.printing.pdf_from_html``, which every PDF of the app goes through)."""
    from decision_support.lib import printing

    rendered, render = [], printing.pdf_from_html
    monkeypatch.setattr(printing, "pdf_from_html", lambda html: rendered.append(html) or render(html))
    response = client.get(url, query or {})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return response.content, rendered[0]
