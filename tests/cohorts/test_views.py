import html
import re

import pytest
from django.urls import reverse

from synthetic_data import ARM_BIOLOGY, ARM_LABELS, ARMS, BIOLOGY, DATA_DICTIONARY

pytestmark = pytest.mark.django_db

BANNER = "Synthetic data, not for clinical use."


@pytest.mark.parametrize("url_name, kwargs", [("home", {}), ("cohort_list", {}),
                                              ("data_dictionary", {}),
                                              ("cohort_overview", {"cohort_id": 1})])
def test_pages_require_sign_in(client, url_name, kwargs):
    response = client.get(reverse(url_name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_sign_in_pages_carry_the_banner(client, url):
    assert BANNER in client.get(url).content.decode()


def test_home_leads_to_the_newest_cohort(signed_in_client, demo_cohort):
    response = signed_in_client.get(reverse("home"))
    assert response["Location"] == reverse("cohort_overview", args=[demo_cohort.pk])


def test_home_explains_how_to_create_a_cohort_when_there_is_none(signed_in_client):
    page = signed_in_client.get(reverse("home")).content.decode()
    assert "No cohort yet" in page and "generate_cohort" in page


def test_overview_shows_counts_response_by_arm_and_charts_with_tables(signed_in_client, demo_cohort):
    response = signed_in_client.get(reverse("cohort_overview", args=[demo_cohort.pk]))
    page = response.content.decode()
    assert BANNER in page
    assert re.search(r'id="count-patients">300<', page)
    assert 'id="arm-table"' in page
    for arm in ("placebo", "ssri", "snri", "bupropion", "cbt", "rtms", "esketamine"):
        assert f'<th scope="row">{arm}</th>' in page
    charts = response.context["charts"]
    assert len(charts) >= 5
    assert page.count('class="chart-table"') == len(charts)
    ages = charts[1].traces[0]["y"]  # the age histogram: bins of 1-10 patients are hidden
    shown = [n for n in ages if n is not None]
    assert all(n == 0 or n >= 11 for n in shown)
    assert sum(shown) <= 300 and sum(shown) + 10 * (len(ages) - len(shown)) >= 300


def test_overview_of_an_unknown_cohort_is_404(signed_in_client):
    assert signed_in_client.get(reverse("cohort_overview", args=[999])).status_code == 404


def test_dictionary_page_lists_every_variable_with_its_evidence(signed_in_client):
    page = signed_in_client.get(reverse("data_dictionary")).content.decode()
    assert BANNER in page
    for name in DATA_DICTIONARY:
        assert f'id="var-{name}"' in page
    assert "evidence-assumed" in page and "Schmaal 2016" in page


@pytest.mark.parametrize("name", list(BIOLOGY))
def test_dictionary_page_says_under_each_variable_why_it_could_matter(signed_in_client, name):
    page = html.unescape(signed_in_client.get(reverse("data_dictionary")).content.decode())
    row = re.search(rf'<tr id="var-{name}">.*?</tr>\s*'
                    rf'<tr class="why-row" id="why-{name}">(.*?)</tr>', page, re.S)
    assert row, f"no 'why this could matter' row under {name}"
    entry = BIOLOGY[name]
    topic = entry.topic[0].upper() + entry.topic[1:]
    for text in (entry.biology, topic, entry.encoded(), entry.caveat, entry.citation):
        assert text in row.group(1)
    # Keyboard reachable (a native disclosure) and opened for printing.
    assert '<details class="why">' in row.group(1)
    assert "<summary>Why this could matter" in row.group(1)
    assert 'src="/static/js/print_details.js"' in page


@pytest.mark.parametrize("arm", ARMS)
def test_dictionary_page_lists_each_arm_with_its_mechanism(signed_in_client, arm):
    page = html.unescape(signed_in_client.get(reverse("data_dictionary")).content.decode())
    label = re.escape(ARM_LABELS[arm])
    row = re.search(rf'<tr id="arm-{arm}"><th scope="row">{label}</th>(.*?)</tr>', page, re.S)
    assert row, arm
    entry = ARM_BIOLOGY[arm]
    for text in (entry.biology, entry.encoded(), entry.caveat, entry.citation):
        assert text in row.group(1)


def test_pages_load_no_asset_from_another_host(signed_in_client, demo_cohort):
    for url in (reverse("cohort_overview", args=[demo_cohort.pk]), reverse("data_dictionary"),
                reverse("cohort_list")):
        page = signed_in_client.get(url).content.decode()
        assert not re.search(r'(src|href)="(https?:)?//', page), url
        assert "<script>" not in page  # no inline scripts: charts read JSON data


def test_plotly_is_served_from_local_static_files(client):
    response = client.get("/static/vendor/plotly/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()
