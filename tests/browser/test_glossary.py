"""In Chromium, from the keyboard alone: the glossary from the navigation, and a term on the model
page to its entry."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from models.ranking import RANKING_ALGORITHM
from tests.browser.conftest import sign_in, tab_to
from tests.trained_runs import committed_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MAX_TABS = 80


@pytest.fixture
def run(django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        yield run


def test_a_student_tabs_from_the_navigation_to_the_glossary_and_from_a_metric_to_its_entry(
        live_server, page: Page, make_user, run):
    sign_in(page, live_server.url + reverse("model_detail", args=[run.pk, "ssri"]),
            make_user("student"))
    tab_to(page, page.locator('a[href="/glossary/"]'), MAX_TABS)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Glossary")
    page.go_back()
    tab_to(page, page.locator('a[href="/glossary/#auc"]'), MAX_TABS)
    expect(page.locator(":focus abbr")).to_have_attribute("title", "Area under the (ROC) curve")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/glossary/#auc")
    expect(page.locator("dt#auc")).to_be_in_viewport()
