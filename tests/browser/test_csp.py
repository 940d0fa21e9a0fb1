"""In Chromium, under the site's Content Security Policy: the charts draw and nothing is blocked.

The policy allows no inline script or style and no eval. A blocked resource, inline style or
``eval`` fires a ``securitypolicyviolation`` event and logs a console error; the test collects
both on the cohort overview, a model page (bars, lines and the SHAP beeswarm) and a patient page
(SHAP waterfalls, its explanations section opened by choosing an algorithm), after hovering a
chart so that Plotly draws its hover label.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from decision_support.cohorts.models import Patient
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every page before its own scripts; DevTools-injected, so the page's CSP does not apply.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                              + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def _visit(page: Page, url: str, chart: str, problems: list[str]) -> None:
    response = page.goto(url)
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    plots = page.locator(f"{chart}.js-plotly-plot")
    expect(plots.first).to_be_visible()
    expect(plots.first.locator(".main-svg").first).to_be_visible()
    plots.first.hover()
    page.wait_for_load_state("networkidle")
    problems += [f"{url}: {v}" for v in page.evaluate("window.__cspViolations")]


def test_charts_draw_under_the_csp_with_no_violation(live_server, page: Page, trained_cohort,
                                                     signed_in_user):
    cohort, run = trained_cohort, trained_cohort.run
    problems: list[str] = []
    page.on("console", lambda msg: msg.type in ("error", "warning")
            and problems.append(f"console {msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    page.add_init_script(RECORD_VIOLATIONS)

    sign_in(page, live_server.url + "/", signed_in_user)
    expect(page).to_have_url(re.compile(rf"/cohorts/{cohort.pk}/$"))

    _visit(page, live_server.url + f"/cohorts/{cohort.pk}/", "[data-chart]", problems)
    _visit(page, live_server.url + f"/runs/{run.pk}/arms/ssri/", "[data-chart]", problems)
    expect(page.locator('[data-chart="beeswarm"].js-plotly-plot .main-svg').first).to_be_visible()
    pseudonym = Patient.objects.filter(cohort=cohort).values_list("pseudonym", flat=True).first()
    _visit(page, live_server.url + f"/patients/{pseudonym}/?algorithm=logistic_regression",
           '[data-chart^="waterfall-"]', problems)

    assert problems == [], "\n".join(problems)
