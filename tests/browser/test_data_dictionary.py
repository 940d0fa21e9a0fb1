"""The data dictionary in Chromium: 'Why this could matter' is reached and opened with the
keyboard alone, and printing the page prints every variable's biology, though closed on screen."""

import io
import unicodedata

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from synthetic_data import BIOLOGY
from tests.browser.conftest import sign_in, tab_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_TABS = 60


def test_why_it_could_matter_opens_by_keyboard_and_prints(live_server, page: Page,
                                                          signed_in_user):
    sign_in(page, live_server.url + reverse("data_dictionary"), signed_in_user)
    first = page.locator("details.why").first
    expect(first).not_to_have_attribute("open", "")
    tab_to(page, page.locator("details.why > summary"), MAX_TABS)
    page.keyboard.press("Enter")
    expect(first).to_have_attribute("open", "")
    expect(first.locator(".why-biology")).to_be_visible()

    printed = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(page.pdf())).pages)
    text = " ".join(unicodedata.normalize("NFKC", printed).split())  # ligatures, line breaks
    for entry in BIOLOGY.values():
        assert " ".join(entry.caveat.split()) in text, entry.name
    # Printing leaves the screen as it was: only the one opened by hand stays open.
    assert page.locator("details.why[open]").count() == 1
