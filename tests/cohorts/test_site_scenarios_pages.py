"""Multi-site scenarios on the cohort pages: the new-cohort page offers them (size per site), the
overview shows the sites side by side with each shift's evidence, and links to "Does it travel?"
once the cohort is trained."""

import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from decision_support.audit.models import AuditEntry
from decision_support.cohorts.forms import (MAX_PATIENTS, SIZE_ABOVE_SITES, SIZE_BELOW_LESSON,
                                            largest_size, smallest_size)
from decision_support.cohorts.models import Cohort, Patient
from decision_support.cohorts.selectors import site_summary
from decision_support.consent.reads import consented_cohort
from decision_support.lib.suppression import SUPPRESSED
from decision_support.lib.vocabulary import Purpose
from models.ranking import RANKING_ALGORITHM
from synthetic_data import SITE_SCENARIOS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

LESSONS = sorted(SITE_SCENARIOS)


@pytest.fixture
def educator(client, make_user):
    client.force_login(make_user("educator"))
    return client


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _row(page: str, site: str) -> list[str]:
    row = page.split(f'<tr data-site="{site}">', 1)[1].split("</tr>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.split(r"</t[hd]>", row)[:-1]]


@pytest.mark.parametrize("name", LESSONS)
def test_the_new_cohort_page_offers_each_site_scenario_with_its_sites_and_per_site_sizes(
        educator, name):
    page = _page(educator.get(reverse("cohort_create")))
    choice = page.split(f'id="scenario-{name}"', 1)[1].split('class="scenario-choice"', 1)[0]
    lesson = SITE_SCENARIOS[name]
    assert lesson.title in choice and lesson.teaching_note in choice
    for site in lesson.sites:
        assert site.label in choice
    assert (f"Sizes: {smallest_size(name):,} to {largest_size(name):,} patients at each of its "
            f"{len(lesson.sites)} sites") in choice
    assert largest_size(name) * len(lesson.sites) <= MAX_PATIENTS


@pytest.mark.parametrize("name", LESSONS)
def test_creating_a_site_scenario_cohort_draws_the_size_at_each_site(educator, name):
    response = educator.post(reverse("cohort_create"),
                             {"scenario": name, "n_patients": "300", "seed": "4"})
    cohort = Cohort.objects.get()
    assert educator.get(response.url).url == reverse("cohort_overview", args=[cohort.pk])
    assert cohort.scenario == name and cohort.seed == 4
    sites = [site.name for site in SITE_SCENARIOS[name].sites]
    assert cohort.development_site == sites[0]
    for site in sites:
        assert Patient.objects.filter(cohort=cohort, site=site).count() == 300
    entry = AuditEntry.objects.get(action="cohort.create")
    assert entry.detail["scenario"] == name


@pytest.mark.parametrize("name", LESSONS)
@pytest.mark.parametrize("too_many", [1, 5000])
def test_a_size_beyond_the_per_site_maximum_is_refused_naming_the_size(educator, name, too_many):
    size = largest_size(name) + too_many
    response = educator.post(reverse("cohort_create"), {"scenario": name, "n_patients": str(size)})
    assert response.status_code == 400
    expected = SIZE_ABOVE_SITES.format(maximum=largest_size(name), scenario=name,
                                       n_sites=len(SITE_SCENARIOS[name].sites), total=MAX_PATIENTS)
    assert expected in _page(response) and expected.startswith("size must be at most")
    assert not Cohort.objects.exists() and not AuditEntry.objects.filter(
        action="cohort.create").exists()


def test_a_size_below_a_lessons_minimum_says_per_site(educator, monkeypatch):
    lesson = dataclasses.replace(SITE_SCENARIOS[LESSONS[0]], min_patients_per_site=400)
    monkeypatch.setitem(SITE_SCENARIOS, lesson.name, lesson)
    response = educator.post(reverse("cohort_create"),
                             {"scenario": lesson.name, "n_patients": "399"})
    assert response.status_code == 400
    assert SIZE_BELOW_LESSON.format(minimum=400, per_site=" per site",
                                    scenario=lesson.name) in _page(response)


@pytest.fixture(scope="module")
def trained(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, cohort_seed=6,
                       site_scenario="trial_to_clinic", algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        yield run


@pytest.mark.parametrize("role", ["educator", "student", "ethics_reviewer"])
def test_the_overview_shows_each_sites_figures_as_computed_from_its_stored_patients(
        client, make_user, trained, role):
    client.force_login(make_user(role))
    page = _page(client.get(reverse("cohort_overview", args=[trained.cohort_id])))
    consented = consented_cohort(trained.cohort, purpose=Purpose.EDUCATION).frame
    sites = pd.Series(dict(Patient.objects.filter(cohort=trained.cohort).values_list("pk", "site")))
    for site in SITE_SCENARIOS["trial_to_clinic"].sites:
        # Each figure over the patients whose consent permits the value for teaching.
        values = consented.loc[sites == site.name]
        label, n, women, comorbid, hamd, crp, response = _row(page, site.name)
        assert label == site.label
        assert n == str(Patient.objects.filter(cohort=trained.cohort, site=site.name).count())
        sex = values["sex"].dropna()
        assert women == f"{(sex == 'female').mean() * 100:.1f}%"
        assert comorbid == f"{values['psychiatric_comorbidity'].mean() * 100:.1f}%"
        assert hamd == f"{values['hamd17'].mean():.1f}"
        assert crp == f"{values['crp_mg_l'].median():.2f}"
        assert response == f"{values['response'].mean() * 100:.1f}%"
        for shift in site.shifts.values():
            assert shift.finding in page
    assert f'href="{reverse("run_travel", args=[trained.pk])}"' in page


def test_a_cohort_without_sites_has_no_site_section(client, make_user, demo_cohort):
    client.force_login(make_user("educator"))
    page = _page(client.get(reverse("cohort_overview", args=[demo_cohort.pk])))
    assert 'id="sites"' not in page


def test_a_small_count_at_one_site_is_hidden_and_cannot_be_worked_out_from_the_others():
    """Five comorbid patients at site A: its share reads "<11", and so does another site's
    (the overview's total comorbid count would otherwise give site A's back)."""
    rng = np.random.default_rng(1)
    n = 400
    frame = pd.DataFrame({
        "sex": rng.choice(["female", "male"], 2 * n),
        "psychiatric_comorbidity": np.r_[np.arange(n) < 5, rng.random(n) < 0.5].astype(int),
        "hamd17": rng.integers(14, 30, 2 * n), "crp_mg_l": rng.lognormal(0, 1, 2 * n),
        "response": rng.integers(0, 2, 2 * n)})
    sites = pd.Series(["a"] * n + ["b"] * n, index=frame.index)
    rows = site_summary(frame, sites, {"a": "Site A", "b": "Site B"})
    assert [row["comorbidity_share"] for row in rows] == [SUPPRESSED, SUPPRESSED]
    assert [row["n"] for row in rows] == [n, n]
    assert rows[0]["hamd17_mean"] == pytest.approx(frame["hamd17"][:n].mean())
