"""The model page's ROC table lists a readable set of operating points, each exactly a point of
the stored curve, and the point at the page's threshold, while the chart draws every point. The
charts that depend on the model alone are drawn once, when the model is stored; a model stored
before them gets them on its page's first view; what the truth adds for some readers is never
stored."""

import re

import numpy as np
import pytest
from django.urls import reverse

from decision_support.registry.models import ModelCharts
from decision_support.registry.pages import MODEL_CHARTS_VERSION
from models.ranking import RANKING_ALGORITHM
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db
ARM = "ssri"
ROW = re.compile(r'<tr><th scope="row">([^<]+)</th><td class="num">([^<]+)</td>'
                 r'<td class="num">([^<]+)</td></tr>')
RATES = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    with committed_run(django_db_blocker, n_patients=1500, algorithms=(RANKING_ALGORITHM,),
                       variants=("full",)) as run:
        yield run


def _url(run, **query) -> str:
    url = reverse("model_detail", args=[run.pk, ARM])
    return url + "".join(f"?{k}={v}" for k, v in query.items())


def _figure(response, chart_id: str) -> str:
    page = response.content.decode()
    return page.split(f'aria-labelledby="{chart_id}-title">', 1)[1].split("</figure>", 1)[0]


def _specs(response) -> dict[str, dict]:
    return {spec["id"]: spec for spec in response.context["chart_specs"]}


def test_the_roc_table_shows_the_curves_best_point_at_each_false_positive_rate(
        signed_in_client, run):
    response = signed_in_client.get(_url(run, threshold="0.35"))
    model = run.models.get(arm=ARM)
    curve = list(zip(model.evaluation["roc"]["fpr"], model.evaluation["roc"]["tpr"]))
    assert len(curve) > 20
    figure = _figure(response, "roc")
    rows = ROW.findall(figure)
    assert [label for label, _, _ in rows] == [
        "at most 5%", "at most 10%", "at most 20%", "at most 30%", "at most 40%", "at most 50%",
        "at most 60%", "at most 70%", "at most 80%", "at most 90%", "at threshold 0.35"]
    for (_, fpr, tpr), rate in zip(rows, RATES):
        point = (float(fpr), float(tpr))
        assert point in curve
        assert point[0] <= rate
        assert point[1] == max(t for f, t in curve if f <= rate)
    # The last row is the operating point at the threshold, counted from the held-out patients.
    y = np.asarray(model.evaluation["test_outcomes"])
    predicted = np.asarray(model.evaluation["test_probabilities"]) >= 0.35
    assert float(rows[-1][1]) == round((predicted & (y == 0)).sum() / (y == 0).sum(), 4)
    assert float(rows[-1][2]) == round((predicted & (y == 1)).sum() / (y == 1).sum(), 4)
    assert "<caption>For each false positive rate allowed" in figure
    assert f"(of the {len(curve)} points the chart draws)" in figure
    # The chart itself draws the whole stored curve.
    trace = _specs(response)["roc"]["traces"][0]
    assert list(zip(trace["x"], trace["y"])) == curve


def test_each_model_is_stored_with_its_charts(run):
    stored = ModelCharts.objects.filter(model__run=run)
    assert stored.count() == run.models.count()
    assert {s.version for s in stored} == {MODEL_CHARTS_VERSION}
    assert all([c["id"] for c in s.content] == ["roc", "global-shap", "beeswarm"] for s in stored)


@pytest.mark.parametrize("age", ["stored before charts", "charts of another version"])
def test_an_older_model_shows_the_same_charts_and_stores_them(signed_in_client, run, age):
    model = run.models.get(arm=ARM)
    current = signed_in_client.get(_url(run))
    stored = ModelCharts.objects.get(model=model).content
    if age == "stored before charts":
        ModelCharts.objects.filter(model__run=run).delete()
    else:
        ModelCharts.objects.filter(model=model).update(version=MODEL_CHARTS_VERSION - 1,
                                                       content=[])
    older = signed_in_client.get(_url(run))
    assert older.status_code == 200
    assert older.context["chart_specs"] == current.context["chart_specs"]
    for chart_id in ("roc", "calibration", "global-shap", "beeswarm"):
        assert _figure(older, chart_id) == _figure(current, chart_id)
    again = ModelCharts.objects.get(model=model)
    assert (again.version, again.content) == (MODEL_CHARTS_VERSION, stored)


def test_what_the_truth_adds_for_an_educator_is_never_stored(client, make_user, run):
    """Whoever views an older model first, the same charts are stored; only the educator's page
    adds the true calibration series and points the importance chart to the truth check."""
    model = run.models.get(arm=ARM)
    student, educator = make_user("student"), make_user("educator")
    pages, stored = {}, {}
    for first in (student, educator):
        ModelCharts.objects.filter(model=model).delete()
        client.force_login(first)
        pages[first.username] = client.get(_url(run))
        stored[first.username] = ModelCharts.objects.get(model=model).content
    assert stored[student.username] == stored[educator.username]
    shown = {name: _specs(page) for name, page in pages.items()}
    assert [t["name"] for t in shown[student.username]["calibration"]["traces"]] == [
        "Observed response rate"]
    assert [t["name"] for t in shown[educator.username]["calibration"]["traces"]] == [
        "Observed response rate", "True response probability"]
    assert shown[student.username]["global-shap"]["caption"].endswith("Importance is not effect.")
    assert shown[educator.username]["global-shap"]["caption"].endswith(
        "Importance is not effect: see the truth check below.")
