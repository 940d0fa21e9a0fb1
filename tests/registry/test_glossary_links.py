"""Terms link to the glossary where the pages use them most: the model page's metric headings,
the fairness page's metrics and ancestry groups, the patient page's variable names and values.
The links are ordinary links (keyboard reachable), and the text and numbers read as before."""

import html
import re

import pytest
from django.urls import reverse

from decision_support.cohorts.models import Patient
from decision_support.consent.reads import consented_patient
from decision_support.lib.glossary import TERM_PATTERN, term_for
from decision_support.lib.vocabulary import Purpose
from models.fairness import METRIC_LABELS
from models.ranking import RANKING_ALGORITHM
from synthetic_data import DATA_DICTIONARY
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db
ARM = "ssri"
LINK = re.compile(r'<a class="term" href="/glossary/#([\w-]+)">(?:<abbr title="[^"]*">)?([^<]+)')


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=300, algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        yield run


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment))).strip()


def _links(fragment: str) -> set[tuple[str, str]]:
    return set(LINK.findall(fragment))


def _expected(text: str) -> set[tuple[str, str]]:
    """(anchor, spelling) of the first mention of each term in ``text``."""
    found = {}
    for match in TERM_PATTERN.finditer(text):
        found.setdefault(term_for(match.group(0)).anchor, match.group(0))
    return set(found.items())


def test_the_model_pages_metric_headings_link_to_their_entries(signed_in_client, run):
    page = _page(signed_in_client, reverse("model_detail", args=[run.pk, ARM]))
    metrics = page.split('id="model-metrics"')[1].split("</dl>")[0]
    for heading in re.findall(r"<dt>(.*?)</dt>", metrics):
        assert _links(heading) == _expected(_text(heading)) != set(), heading
    assert [_text(h) for h in re.findall(r"<dt>(.*?)</dt>", metrics)][:4] == [
        "ROC AUC (95% CI)", "Balanced accuracy (at 0.5)", "Brier score (lower is better)",
        "Cross-validated AUC"]
    model = run.models.get(arm=ARM, algorithm=RANKING_ALGORITHM, variant="full")
    assert f'<span id="metric-auc">{model.metrics["roc_auc"]:.3f}</span>' in metrics
    table_head = page.split('id="comparison-table"')[1].split("</thead>")[0]
    assert {"auc", "bootstrap-interval", "balanced-accuracy", "brier-score",
            "cross-validation", "sd"} <= {anchor for anchor, _ in _links(table_head)}


def test_the_fairness_page_links_its_metrics_and_ancestry_groups(signed_in_client, run):
    page = _page(signed_in_client, reverse("model_fairness", args=[run.pk, ARM]))
    table = page.split('id="fairness-table-ancestry"')[1].split("</table>")[0]
    header = table.split("</thead>")[0]
    assert ("genetic-ancestry-group", "Ancestry group") in _links(header)
    for label in METRIC_LABELS.values():
        assert _expected(label) <= _links(header), label
    groups = re.findall(r'<th scope="row">(.*?)(?: <mark>|</th>)', table)
    assert groups
    for group in groups:
        name = _text(group)
        assert name in DATA_DICTIONARY["ancestry"].categories
        assert _links(group) == {(name.lower(), name)}


def test_the_patient_page_links_variable_names_and_values(signed_in_client, run):
    patient = next(p for p in Patient.objects.filter(cohort=run.cohort).order_by("pk")
                   if consented_patient(p, purpose=Purpose.EDUCATION).variant == "full")
    page = _page(signed_in_client, reverse("patient_detail", args=[patient.pseudonym]))
    values = page.split('aria-labelledby="values"')[1].split("</section>")[0]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td class="num">(.*?)</td>', values, re.S)
    assert rows
    linked = set()
    for name, value in rows:
        name = name.split("<details", 1)[0]  # the label, before its "Why this could matter"
        assert _links(name) == _expected(_text(name)), name
        assert _links(value) == _expected(_text(value)), value
        linked |= {anchor for anchor, _ in _links(name) | _links(value)}
    assert {"ham-d17", "crp", "il-6", "racc-theta", "cyp2c19", "5-httlpr", "fkbp5"} <= linked
