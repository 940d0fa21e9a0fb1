"""The JSON API's documentation page draws its operations from local files under the site's CSP,
with the banner, and with no violation."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_csp import RECORD_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_page_lists_the_endpoints_under_the_csp(live_server, page: Page):
    problems: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.on("request", lambda request: request.url.startswith(live_server.url)
            or problems.append(f"off-site request: {request.url}"))
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(live_server.url + "/api/docs")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.locator("#synthetic-banner")).to_contain_text("not for clinical use")
    schema = page.request.get(live_server.url + "/api/openapi.json").json()
    operations = sum(len(methods) for methods in schema["paths"].values())
    assert operations >= 8  # every endpoint the API has, the travel page's included
    expect(page.locator(".opblock-summary-path")).to_have_count(operations)
    expect(page.get_by_text("/api/patients/{pseudonym}/explanations/")).to_be_visible()
    page.wait_for_load_state("networkidle")
    problems += page.evaluate("window.__cspViolations")
    assert problems == [], "\n".join(problems)
