"""Every page of a multi-site run leads to "Does it travel?": the run overview, each model page
and the cohort overview; a single-site run's pages do not offer it."""

import pytest
from django.urls import reverse

from models.ranking import RANKING_ALGORITHM
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def runs(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, cohort_seed=8,
                       site_scenario="assay_shift", algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as multi_site, \
            committed_run(django_db_blocker, n_patients=300, cohort_seed=9,
                          algorithms=(RANKING_ALGORITHM,), variants=("full",)) as one_site:
        yield {"multi-site": multi_site, "one site": one_site}


def _pages(run) -> list[str]:
    arms = sorted(set(run.models.values_list("arm", flat=True)))
    return [reverse("run_overview", args=[run.cohort_id]),
            reverse("cohort_overview", args=[run.cohort_id]),
            *(reverse("model_detail", args=[run.pk, arm]) for arm in arms)]


@pytest.mark.parametrize("kind", ["multi-site", "one site"])
@pytest.mark.parametrize("role", ["educator", "student", "ethics_reviewer"])
def test_each_page_of_a_multi_site_run_links_to_does_it_travel(client, make_user, runs, kind, role):
    client.force_login(make_user(role))
    run = runs[kind]
    link = f'href="{reverse("run_travel", args=[run.pk])}"'
    for url in _pages(run):
        page = client.get(url).content.decode()
        assert (link in page) == (kind == "multi-site"), url
