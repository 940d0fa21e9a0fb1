"""The primer: every seed topic with where it lives in the product (variables and arms read from
``synthetic_data.biology``), what is not simulated and why, and the figure of the brain systems,
each a link to its row in words; reachable from the navigation for every role."""

import html
import re

import pytest
from django.urls import reverse
from django.utils.text import slugify

from decision_support.accounts.roles import Role
from synthetic_data import ARM_LABELS, ARMS, DATA_DICTIONARY
from synthetic_data.biology import ARM_BIOLOGY, BIOLOGY, TOPICS
from synthetic_data.primer import PRIMER, STRUCTURES, UNOBSERVED_CLASSES

pytestmark = pytest.mark.django_db

OBSERVED = [name for name, v in DATA_DICTIONARY.items()
            if v.data_class not in UNOBSERVED_CLASSES and name in BIOLOGY]


def test_every_seed_topic_has_a_primer_entry_once():
    assert [topic.name for topic in PRIMER] == list(TOPICS)


def test_every_observed_variable_and_arm_is_under_the_topic_its_biology_names():
    placed = {name: topic.name for topic in PRIMER for name in topic.variables}
    assert placed == {name: BIOLOGY[name].topic for name in OBSERVED}
    arms = {arm: topic.name for topic in PRIMER for arm in topic.arms}
    assert arms == {arm: ARM_BIOLOGY[arm].topic for arm in ARMS}


def test_the_figure_names_the_systems_of_the_course_text():
    labels = " ".join(s.label for s in STRUCTURES).lower()
    for system in ("prefrontal", "cingulate", "amygdala", "hippocampus", "striatum", "hpa",
                   "monoamine"):
        assert system in labels


@pytest.fixture
def primer_page(client, make_user):
    def get(role):
        client.force_login(make_user(role))
        response = client.get(reverse("primer"))
        assert response.status_code == 200
        return html.unescape(response.content.decode())
    return get


@pytest.mark.parametrize("role", list(Role))
def test_the_primer_is_in_every_roles_navigation_and_shows_every_topic(primer_page, role):
    text = primer_page(role)
    nav = text.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert f'href="{reverse("primer")}"' in nav
    for topic in PRIMER:
        section = text.split(f'id="topic-{slugify(topic.name)}"', 1)[1]
        assert topic.summary in section.split("</section>", 1)[0]
        for item in topic.not_simulated:
            assert item.name in text and item.why in text


def test_each_system_in_the_figure_links_to_its_row_which_links_its_variables_and_arms(primer_page):
    text = primer_page(Role.STUDENT)
    figure = text.split('<svg id="brain-systems"', 1)[1].split("</svg>", 1)[0]
    assert "<title" in figure and "<desc" in figure  # a text alternative
    dictionary = reverse("data_dictionary")
    for structure in STRUCTURES:
        assert f'href="#structure-{structure.key}"' in figure
        row = text.split(f'<tr id="structure-{structure.key}">', 1)[1].split("</tr>", 1)[0]
        assert structure.label in row and structure.role in row
        for name in structure.variables:
            assert f'href="{dictionary}#var-{name}">{DATA_DICTIONARY[name].label}<' in row
        for arm in structure.arms:
            assert f'href="{dictionary}#arm-{arm}">{ARM_LABELS[arm]}<' in row


def test_the_figure_fetches_nothing(primer_page):
    text = primer_page(Role.STUDENT)
    figure = text.split('<svg id="brain-systems"', 1)[1].split("</svg>", 1)[0]
    assert not re.search(r'(href|src)="(https?:)?//', figure)
    assert "<image" not in figure and "@import" not in figure


@pytest.mark.parametrize("role, offered", [(Role.EDUCATOR, True), (Role.STUDENT, False)])
def test_a_page_link_shows_only_to_roles_that_may_open_it(primer_page, role, offered):
    assert (f'href="{reverse("cohort_create")}"' in primer_page(role)) == offered
