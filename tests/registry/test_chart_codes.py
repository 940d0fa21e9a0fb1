"""A chart that draws ancestry group or metaboliser phenotype codes (AFR, EUR, ..., PM, NM, ...)
says what they stand for in a line under its caption, each code linked to its glossary entry; a
chart without codes has no such line."""

import re

import pytest
from django.urls import reverse

from decision_support.cohorts.models import Patient
from decision_support.lib.glossary import term_for
from models.ranking import RANKING_ALGORITHM
from synthetic_data import DATA_DICTIONARY
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db
CODES = {code for name in ("ancestry", "cyp2c19_phenotype", "cyp2d6_phenotype")
         for code in DATA_DICTIONARY[name].categories}


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        yield run


def _url(page: str, run) -> str:
    if page == "cohort_overview":
        return reverse(page, args=[run.cohort_id])
    if page == "model_fairness":
        return reverse(page, args=[run.pk, "ssri"])
    patient = Patient.objects.filter(cohort=run.cohort).order_by("pk").first()
    return reverse(page, args=[patient.pseudonym])


def _drawn_codes(spec: dict) -> set[str]:
    """The codes among the words the chart draws: axis titles, legend names, categories."""
    texts = [spec["x_title"], spec["y_title"], *spec["layout"].get("tick_labels", [])]
    for trace in spec["traces"]:
        texts += [trace.get("name", ""), *(x for x in trace["x"] if isinstance(x, str))]
    return {word for text in texts for word in re.findall(r"[A-Z]+", text)} & CODES


@pytest.mark.parametrize("page, has_codes", [("cohort_overview", True), ("model_fairness", True),
                                             ("patient_detail", False)])
def test_a_chart_expands_the_codes_it_draws(signed_in_client, run, page, has_codes):
    response = signed_in_client.get(_url(page, run))
    body = response.content.decode()
    with_codes = 0
    for spec in response.context["chart_specs"]:
        figure = body.split(f'aria-labelledby="{spec["id"]}-title">', 1)[1].split("</figure>", 1)[0]
        codes = _drawn_codes(spec)
        if not codes:
            assert "chart-codes" not in figure, spec["id"]
            continue
        with_codes += 1
        line = figure.split('<p class="chart-codes">', 1)[1].split("</p>", 1)[0]
        for code in codes:
            expansion = term_for(code).expansion
            assert (f'<a class="term" href="/glossary/#{code.lower()}"><abbr title="{expansion}">'
                    f'{code}</abbr></a>: {expansion}') in line, (spec["id"], code)
        assert len(re.findall(r'<a class="term"', line)) == len(codes)
    assert with_codes > 0 or not has_codes
