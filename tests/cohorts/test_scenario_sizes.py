"""The cohort page offers each scenario only at sizes where its lesson shows."""

import html

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.cohorts.forms import (MAX_PATIENTS, MIN_PATIENTS, SIZE_BELOW_LESSON,
                                            CohortCreateForm, smallest_size)
from decision_support.cohorts.models import Cohort
from decision_support.courses.models import Course
from synthetic_data import SCENARIOS

RESTRICTED = [name for name in SCENARIOS if smallest_size(name) > MIN_PATIENTS]


def test_some_lessons_need_more_patients_than_the_page_minimum():
    assert RESTRICTED


def _form(**data):
    course = Course.objects.default()
    return CohortCreateForm(data={"course": course.pk, **data}, courses=[course])


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", RESTRICTED)
def test_a_size_below_the_lesson_is_refused_naming_the_size(scenario):
    minimum = smallest_size(scenario)
    form = _form(scenario=scenario, n_patients=minimum - 1)
    assert not form.is_valid()
    assert form.errors["n_patients"] == [SIZE_BELOW_LESSON.format(minimum=minimum, per_site="",
                                                                  scenario=scenario)]
    assert form.errors["n_patients"][0].startswith("size must be at least")


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_size_from_the_lesson_minimum_to_the_maximum_is_accepted(scenario):
    for size in (smallest_size(scenario), MAX_PATIENTS):
        assert _form(scenario=scenario, n_patients=size).is_valid()


@pytest.mark.django_db
def test_the_page_says_each_scenarios_sizes_and_refuses_a_small_cohort(client, make_user):
    client.force_login(make_user(Role.EDUCATOR))
    page = html.unescape(client.get(reverse("cohort_create")).content.decode())
    for name in SCENARIOS:
        sizes = page.split(f'id="sizes-{name}">', 1)[1].split("</p>", 1)[0]
        assert sizes.startswith(f"Sizes: {smallest_size(name):,} to {MAX_PATIENTS:,} patients")
        assert ("does not show reliably" in sizes) == (name in RESTRICTED)
    scenario = RESTRICTED[0]
    response = client.post(reverse("cohort_create"),
                           {"scenario": scenario, "n_patients": smallest_size(scenario) - 1})
    assert response.status_code == 400
    assert "size must be at least" in html.unescape(response.content.decode())
    assert not Cohort.objects.filter(scenario=scenario).exists()
