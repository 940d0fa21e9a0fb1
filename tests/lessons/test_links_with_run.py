"""Once the scenario's cohort has a training run, a plan's model steps open that run's pages (the
step's arm) and every link opens for the role reading the plan."""

import html
import re

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.lessons.selectors import NO_RUN, NOT_FOR_YOUR_ROLE, PAGES
from models.ranking import RANKING_ALGORITHM
from synthetic_data import LESSON_PLANS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<a href="([^"]+)">Open: ')


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        yield run


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER])
@pytest.mark.parametrize("name", ["introduction", "default"])
def test_model_steps_open_the_newest_run_and_every_link_opens(client, make_user, run, name, role):
    client.force_login(make_user(role))
    response = client.get(reverse("lesson_detail", args=[name]))
    text = html.unescape(response.content.decode())
    assert NO_RUN not in text and NOT_FOR_YOUR_ROLE not in text
    links = [html.unescape(url) for url in LINK.findall(response.content.decode())]
    expected = []
    for step in LESSON_PLANS[name].steps:
        url_name, _, needs = PAGES[step.page]
        expected.append(reverse(url_name, args=[run.pk, step.arm]) if needs == "run"
                        else reverse(url_name, args=[run.cohort_id]) if needs == "cohort"
                        else reverse(url_name))
    assert links == expected
    for url in links:
        assert client.get(url).status_code == 200, url
