"""In Chromium, every chart's text is readable where it can be measured: on the model, fairness,
run overview, cohort overview, what-if, patient and explanations pages, once Plotly has drawn,
no two of a chart's texts (tick labels, axis titles, legend entries, titles) overlap and none
lies outside its chart. The stability tables and their captions do not overlap, and the audit
log is no wider than the window. One page load per page; every wait is on the page's state."""

import pytest
from playwright.sync_api import Page

from decision_support.accounts.roles import Role
from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient
from decision_support.lib.vocabulary import Purpose
from decision_support.predictions.selectors import patient_ranking
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "g.xtick text, g.ytick text, .g-xtitle text, .g-ytitle text, .legendtext, .gtitle"
SLACK = 1  # px: text boxes may touch

ALL_DRAWN = """() => [...document.querySelectorAll('[data-chart]')]
    .every(plot => plot.querySelector('.main-svg'))"""

# For each chart: its texts' boxes that overlap each other (beyond SLACK px) or stick out of the
# chart's svg.
CHART_PROBLEMS = """([selector, slack]) => {
  const problems = [];
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > slack
                         && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > slack;
  document.querySelectorAll('[data-chart]').forEach(plot => {
    const chart = plot.dataset.chart;
    const box = plot.querySelector('.main-svg').getBoundingClientRect();
    const texts = [...plot.querySelectorAll(selector)]
      .map(node => ({text: node.textContent, box: node.getBoundingClientRect()}))
      .filter(t => t.text.trim() && t.box.width > 0 && t.box.height > 0);
    texts.forEach((a, i) => {
      if (a.box.left < box.left - slack || a.box.right > box.right + slack
          || a.box.top < box.top - slack || a.box.bottom > box.bottom + slack) {
        problems.push(`${chart}: "${a.text}" lies outside the chart`);
      }
      texts.slice(i + 1).forEach(b => {
        if (overlap(a.box, b.box)) { problems.push(`${chart}: "${a.text}" overlaps "${b.text}"`); }
      });
    });
  });
  return problems;
}"""

# The boxes of the stability tables (without their captions) and of their captions: none may
# overlap another.
TABLE_PROBLEMS = """(slack) => {
  const boxes = [];
  document.querySelectorAll('table[id^="stability-"]').forEach(table => {
    const caption = table.querySelector('caption');
    const captionBox = caption.getBoundingClientRect();
    const tableBox = table.getBoundingClientRect();
    // The table's own box less its caption, which sits above its rows.
    boxes.push({name: `${table.id} caption`, box: captionBox});
    boxes.push({name: table.id, box: {left: tableBox.left, right: tableBox.right,
                                      top: Math.max(tableBox.top, captionBox.bottom),
                                      bottom: tableBox.bottom}});
  });
  const problems = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    const w = Math.min(a.box.right, b.box.right) - Math.max(a.box.left, b.box.left);
    const h = Math.min(a.box.bottom, b.box.bottom) - Math.max(a.box.top, b.box.top);
    if (w > slack && h > slack) { problems.push(`"${a.name}" overlaps "${b.name}"`); }
  }));
  return [boxes.length, problems];
}"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _patient(cohort) -> Patient:
    """A fully consented patient with SSRI ranked (the what-if and explanations pages)."""
    for patient in Patient.objects.filter(cohort=cohort).order_by("pk"):
        consented = consented_patient(patient, purpose=Purpose.EDUCATION)
        if consented.variant == "full" and not consented.withheld:
            ranking = patient_ranking(consented, cohort.run)
            if ranking is not None and "ssri" in set(ranking["arm"]):
                return patient
    pytest.fail("no fully consented patient with SSRI ranked")


def _chart_problems(page: Page, url: str, *, open_sections: bool = False) -> list[str]:
    page.goto(url)
    if open_sections:  # charts in closed sections are drawn when a reader opens them
        for summary in page.locator("details.section > summary").all():
            summary.click()
    assert page.locator("[data-chart]").count() > 0, url
    page.wait_for_function(ALL_DRAWN)
    return page.evaluate(CHART_PROBLEMS, [TEXT, SLACK])


def test_chart_text_does_not_overlap_or_stick_out(live_server, page: Page, trained_cohort,
                                                  make_user):
    run, patient = trained_cohort.run, _patient(trained_cohort)
    base = live_server.url
    sign_in(page, base + "/accounts/login/", make_user(Role.EDUCATOR))
    pages = {
        "model page": f"/runs/{run.pk}/arms/ssri/",
        "fairness page": f"/runs/{run.pk}/arms/ssri/fairness/",
        "run overview": f"/cohorts/{trained_cohort.pk}/models/",
        "cohort overview": f"/cohorts/{trained_cohort.pk}/",
        "what-if page": f"/patients/{patient.pseudonym}/what-if/?explain=ssri&crp_mg_l=60",
    }
    problems = [f"{name}: {problem}" for name, url in pages.items()
                for problem in _chart_problems(page, base + url)]
    problems += [f"patient page: {problem}" for problem in _chart_problems(
        page, base + f"/patients/{patient.pseudonym}/", open_sections=True)]
    problems += [f"explanations page: {problem}" for problem in _chart_problems(
        page, base + f"/patients/{patient.pseudonym}/explanations/?arm=ssri&stability=1")]

    n_boxes, overlaps = page.evaluate(TABLE_PROBLEMS, SLACK)
    assert n_boxes == 2 * 3  # three algorithms' tables, each with its caption
    problems += [f"explanations page: stability tables: {problem}" for problem in overlaps]
    assert problems == []


def test_the_audit_log_fits_the_window(live_server, page: Page, demo_cohort, make_user):
    """Long pseudonyms and paths wrap inside their cells."""
    patient = Patient.objects.filter(cohort=demo_cohort).order_by("pk").first()
    sign_in(page, live_server.url + f"/patients/{patient.pseudonym}/explanations/",
            make_user(Role.EDUCATOR))
    sign_in(page, live_server.url + "/audit/", make_user(Role.ETHICS_REVIEWER))
    assert page.locator("#audit-entries tbody tr").count() >= 1
    assert page.evaluate(OVERFLOW) <= 0
