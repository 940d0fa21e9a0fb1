"""The fairness page and the model card, on one small trained run shared by the module."""

import html
import itertools
import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from django.urls import resolve, reverse

from decision_support.accounts.roles import Role
from decision_support.accounts.tokens import api_token_create
from decision_support.cohorts.models import Patient
from decision_support.consent.selectors import consent_permitted_classes
from decision_support.lib.suppression import SUPPRESSED
from decision_support.lib.vocabulary import CONSENT_CLASSES, Purpose
from decision_support.registry import fairness_views
from decision_support.registry.fairness_views import RETRAIN_MESSAGE
from decision_support.registry.models import TrainedModel
from models.fairness import GROUP_ORDER, METRIC_LABELS, METRICS, fairness_audit
from models.model_card import NO_GROUPS
from synthetic_data import FIRST_LINE_ARMS
from tests.trained_runs import committed_run

pytestmark = pytest.mark.django_db

ARM = "ssri"
QUERY = {"algorithm": "logistic_regression", "variant": "full", "threshold": "0.50"}


@pytest.fixture(scope="module")
def run(django_db_setup, django_db_blocker):
    """A 600-patient cohort and its training run, committed for the module."""
    with committed_run(django_db_blocker, n_patients=600) as run:
        yield run


@pytest.fixture
def stored(run):
    return TrainedModel.objects.get(run=run, arm=ARM, algorithm=QUERY["algorithm"],
                                    variant=QUERY["variant"])


_USERS = itertools.count()


def _get(client, make_user, run, name, role=Role.EDUCATOR, query=QUERY):
    client.force_login(make_user(role, username=f"fairness_{role.value}_{next(_USERS)}"))
    response = client.get(reverse(name, args=[run.pk, ARM]), query)
    assert response.status_code == 200, response.status_code
    return response


# Terms link to the glossary (cohorts/templatetags/glossary.py); these tests read the terms' text.
GLOSSARY_LINK = re.compile(
    r'<a class="term" href="[^"]*">(?:<abbr title="[^"]*">)?([^<]*)(?:</abbr>)?</a>')


def _decoded(response) -> str:
    return GLOSSARY_LINK.sub(r"\1", response.content.decode())


def _text(response) -> str:
    return html.unescape(_decoded(response))


@pytest.mark.parametrize("name", ["model_fairness", "model_card"])
@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.STUDENT, Role.ETHICS_REVIEWER])
def test_the_pages_open_for_educators_students_and_reviewers(client, make_user, run, name, role):
    page = _text(_get(client, make_user, run, name, role))
    assert "Synthetic data, not for clinical use" in page


def test_training_stores_each_held_out_patients_groups(stored):
    groups = stored.evaluation["test_groups"]
    assert set(groups) == {"sex", "ancestry", "age_band"}
    assert all(len(labels) == len(stored.evaluation["test_outcomes"]) for labels in groups.values())


def test_fairness_numbers_equal_models_fairness_on_the_stored_predictions(client, make_user, run,
                                                                          stored):
    response = _get(client, make_user, run, "model_fairness")
    expected = fairness_audit(stored.evaluation["test_outcomes"],
                              stored.evaluation["test_probabilities"],
                              stored.evaluation["test_groups"], threshold=0.5,
                              random_state=run.seed, stored_metrics=stored.metrics)
    assert response.context["audit"] == expected
    page = _text(response)
    shown = 0
    for attribute, info in expected["attributes"].items():
        table = re.search(rf'id="fairness-table-{attribute}".*?</table>', page, re.S).group(0)
        for group in info["groups"]:
            row = re.search(rf'<th scope="row">{re.escape(group["group"])}(?=[ <]).*?</tr>', table, re.S).group(0)
            for metric in METRICS:
                value = group["metrics"][metric]
                if value is None:
                    continue
                text = (f"{value:.3f}" if metric in ("roc_auc", "brier") else f"{value * 100:.1f}%")
                assert text in row, (attribute, group["group"], metric, text)
                shown += 1
    assert shown > 0
    overall_auc = expected["overall"]["metrics"]["roc_auc"]
    assert f"{overall_auc:.3f}" in page
    assert overall_auc == pytest.approx(stored.metrics["roc_auc"], abs=1e-6)


def test_small_groups_read_under_11_and_are_flagged(client, make_user, run):
    response = _get(client, make_user, run, "model_fairness")
    audit = response.context["audit"]
    small = [(attribute, g["group"]) for attribute, info in audit["attributes"].items()
             for g in info["groups"] if g["small"]]
    assert small, "a 600-patient cohort has groups under 11 among an arm's held-out patients"
    page = _decoded(response)
    for attribute, group in small:
        table = re.search(rf'id="fairness-table-{attribute}".*?</table>', page, re.S).group(0)
        row = re.search(rf'<th scope="row">{re.escape(group)} <mark>.*?</tr>', table, re.S).group(0)
        cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', row, re.S)
        assert cells and all(cell == "&lt;11" for cell in cells), cells
        assert group in re.search(rf'id="flagged-{attribute}".*?</p>', page, re.S).group(0)
    # Hidden values are not plotted, and their chart tables say <11 too.
    for spec in response.context["chart_specs"]:
        assert all(isinstance(v, (float, type(None))) for t in spec["traces"] for v in t["y"])


def test_every_chart_has_its_table_and_no_inline_script(client, make_user, run):
    response = _get(client, make_user, run, "model_fairness")
    page = _decoded(response)
    specs = response.context["chart_specs"]
    assert len(specs) == 9
    for spec in specs:
        assert f'data-chart="{spec["id"]}"' in page
    assert page.count('class="chart-table"') == len(specs)
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or tag == '<script id="chart-specs" type="application/json">', tag


def test_the_threshold_moves_the_rates(client, make_user, run, stored):
    # Two thresholds of the form's grid whose selection counts are shown (0, 11 to n-11, or n:
    # counts of 1-10 selected or not selected would be hidden on a held-out set this small).
    predicted = np.asarray(stored.evaluation["test_probabilities"])
    n = len(predicted)

    def shown(threshold):
        selected = int((predicted >= threshold).sum())
        return selected in (0, n) or 11 <= selected <= n - 11

    grid = [t for t in np.round(np.arange(0.05, 0.951, 0.05), 2) if shown(t)]
    counts = {t: int((predicted >= t).sum()) for t in grid}
    lower, upper = min(grid), max(grid)
    assert counts[lower] > counts[upper]  # the stored predictions allow the test
    low, high = (_get(client, make_user, run, "model_fairness",
                      query={**QUERY, "threshold": f"{t:.2f}"}) for t in (lower, upper))
    assert low.context["audit"]["threshold"] == lower
    for response, threshold in ((low, lower), (high, upper)):
        rate = response.context["audit"]["overall"]["metrics"]["selection_rate"]
        assert rate == pytest.approx(counts[threshold] / n)


def test_the_audit_is_computed_once_per_model_and_threshold(client, make_user, run, monkeypatch):
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs["threshold"])
        return fairness_audit(*args, **kwargs)

    monkeypatch.setattr(fairness_views, "fairness_audit", counted)
    fairness_views._audit.cache_clear()
    first = _get(client, make_user, run, "model_fairness")
    again = _get(client, make_user, run, "model_fairness")
    _get(client, make_user, run, "model_card")
    assert calls == [0.5]
    assert again.context["audit"] is first.context["audit"]
    _get(client, make_user, run, "model_fairness", query={**QUERY, "threshold": "0.70"})
    assert calls == [0.5, 0.7]


def test_a_bad_choice_falls_back_to_the_default_with_a_message(client, make_user, run):
    response = _get(client, make_user, run, "model_fairness",
                    query={**QUERY, "algorithm": "svm", "threshold": "0.70"})
    assert response.context["model"].algorithm == "logistic_regression"
    assert response.context["audit"]["threshold"] == 0.7
    assert "Algorithm:" in _text(response)


@pytest.mark.parametrize("name", ["model_fairness", "model_card"])
def test_a_bad_threshold_is_refused_naming_it(client, make_user, run, name):
    """(Every numeric query parameter: tests/safeguards/test_numeric_query_parameters.py.)"""
    client.force_login(make_user(Role.EDUCATOR))
    response = client.get(reverse(name, args=[run.pk, ARM]), {**QUERY, "threshold": "2"})
    assert response.status_code == 400 and 'data-field="threshold"' in _text(response)


def test_model_card_metrics_equal_the_stored_evaluation(client, make_user, run, stored):
    response = _get(client, make_user, run, "model_card")
    card = response.context["card"]
    overall = {row["key"]: row for row in card["metrics"]["overall"]}
    for key in ("roc_auc", "balanced_accuracy", "brier", "cv_roc_auc_mean"):
        assert overall[key]["value"] == stored.metrics[key]
    assert overall["roc_auc"]["low"] == stored.metrics["roc_auc_low"]
    assert overall["roc_auc"]["high"] == stored.metrics["roc_auc_high"]
    assert card["metrics"]["n_test"] == stored.metrics["n_test"] == len(stored.evaluation["test_outcomes"])
    assert card["training_data"]["n_train"] == stored.metrics["n_train"]
    page = _text(response)
    auc_row = re.search(r'id="card-metric-roc_auc".*?</tr>', page, re.S).group(0)
    assert f"{stored.metrics['roc_auc']:.3f}" in auc_row
    assert f"{stored.metrics['roc_auc_low']:.3f}" in auc_row
    assert f"{stored.metrics['brier']:.3f}" in re.search(r'id="card-metric-brier".*?</tr>', page, re.S).group(0)
    # Subgroups come from the same fairness audit as the fairness page.
    expected = fairness_audit(stored.evaluation["test_outcomes"],
                              stored.evaluation["test_probabilities"],
                              stored.evaluation["test_groups"], threshold=0.5, random_state=run.seed,
                              stored_metrics=stored.metrics)
    assert [s["groups"] for s in card["metrics"]["subgroups"]] == [
        info["groups"] for info in expected["attributes"].values()]


def test_model_card_is_generated_from_the_run(client, make_user, run, stored):
    page = _text(_get(client, make_user, run, "model_card"))
    assert f"training run {run.pk}" in page
    assert str(run.seed) in page
    assert "Default: a randomised cohort mirroring published findings" in page
    assert "Any clinical use" in page
    assert run.library_versions["scikit-learn"] in page
    assert "Consent exclusions" in page and "Ethical considerations" in page
    assert "css/model_card" in page  # the print stylesheet


def test_truth_check_flags_reach_the_card_only_for_roles_that_see_the_truth(client, make_user, run,
                                                                            stored):
    flagged = [row for row in (stored.truth_check or {}).get("features", []) if row.get("flag")]
    student = _get(client, make_user, run, "model_card", Role.STUDENT)
    assert not any("Truth check" in item for item in student.context["card"]["limitations"])
    reviewer = _get(client, make_user, run, "model_card", Role.ETHICS_REVIEWER)
    truth_items = [item for item in reviewer.context["card"]["limitations"] if "Truth check" in item]
    assert len(truth_items) == len(flagged)


@pytest.mark.parametrize("name", ["model_fairness", "model_card"])
def test_runs_without_group_labels_say_to_retrain(client, make_user, run, stored, name):
    evaluation = {k: v for k, v in stored.evaluation.items() if k != "test_groups"}
    TrainedModel.objects.filter(pk=stored.pk).update(evaluation=evaluation)
    response = _get(client, make_user, run, name)
    page = _text(response)
    assert (RETRAIN_MESSAGE if name == "model_fairness" else NO_GROUPS) in page
    assert 'id="retrain-message"' in page


def test_unknown_arm_or_model_is_404(client, make_user, run):
    client.force_login(make_user(Role.EDUCATOR))
    assert client.get(reverse("model_fairness", args=[run.pk, "homeopathy"])).status_code == 404
    assert client.get(reverse("model_card", args=[run.pk + 999, ARM])).status_code == 404


def test_the_model_page_links_to_both(client, make_user, run):
    client.force_login(make_user(Role.STUDENT))
    page = _text(client.get(reverse("model_detail", args=[run.pk, ARM]), QUERY))
    base = reverse("model_fairness", args=[run.pk, ARM])
    assert f'href="{base}?algorithm=logistic_regression&variant=full&threshold=0.50"' in page
    assert reverse("model_card", args=[run.pk, ARM]) in page


# --- issue 14: small cells that tell the truth, and one AUC interval on every surface ----------

SIZE_HIDDEN = fairness_views.SIZE_HIDDEN


def _arm_models(run):
    """Per arm the model the pages open by default (the query above), for every trained arm."""
    return {m.arm: m for m in TrainedModel.objects.filter(run=run, algorithm=QUERY["algorithm"],
                                                          variant=QUERY["variant"])}


@pytest.fixture(params=FIRST_LINE_ARMS)  # a 600-patient cohort is too small to train the others
def arm_model(request, run):
    model = _arm_models(run).get(request.param)
    if model is None:
        pytest.skip(f"no {request.param} model in this run (too few patients)")
    return model


def _get_arm(client, make_user, model, name, query=QUERY):
    client.force_login(make_user(Role.EDUCATOR, username=f"fairness_arm_{next(_USERS)}"))
    response = client.get(reverse(name, args=[model.run_id, model.arm]), query)
    assert response.status_code == 200, response.status_code
    return response


def _true_sizes(model) -> dict[str, Counter]:
    """Held-out patients per group, counted here from the stored labels, not by the audit."""
    return {attribute: Counter(labels)
            for attribute, labels in model.evaluation["test_groups"].items()}


def _size_cells(page: str, table_id: str) -> dict[str, tuple[str, str]]:
    """Group -> (its "Patients" cell, the rest of its row) in a subgroup table of the page."""
    table = re.search(rf'id="{table_id}".*?</table>', page, re.S).group(0)
    rows = {}
    for row in re.findall(r"<tr[^>]*><th scope=\"row\">.*?</tr>", table, re.S):
        group = re.search(r'<th scope="row">([^<⚑]+?)(?: ⚑| <mark>|</th>)', row).group(1).strip()
        cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', row, re.S)
        rows[html.unescape(group)] = (html.unescape(cells[0]), "".join(cells[1:]))
    return rows


@pytest.mark.parametrize("name, table_prefix", [("model_fairness", "fairness-table"),
                                                ("model_card", "card-subgroups")])
def test_a_group_reads_under_11_only_when_it_has_fewer_than_11_patients(client, make_user,
                                                                        arm_model, name,
                                                                        table_prefix):
    """Every group of every attribute: "<11" only for a group that really has 1-10 held-out
    patients, and then no value, interval or bar; a larger group shows its true size, or "hidden"
    (never "<11") when its size is hidden so that a small group's cannot be derived."""
    response = _get_arm(client, make_user, arm_model, name)
    page = _decoded(response)
    for attribute, sizes in _true_sizes(arm_model).items():
        shown = _size_cells(page, f"{table_prefix}-{attribute}")
        assert set(shown) == set(sizes), (attribute, shown)
        note = re.search(rf'id="(?:card-)?size-hidden-{attribute}".*?</p>', page, re.S)
        for group, n in sizes.items():
            size, rest = shown[group]
            if size == SUPPRESSED:
                assert n < 11, (attribute, group, n)
                assert "<small>" not in rest and set(re.findall(r"\d\.\d", rest)) == set(), rest
            elif size == SIZE_HIDDEN:
                assert n >= 11 and note and group in note.group(0), (attribute, group, n)
            else:
                assert int(size) == n >= 11, (attribute, group, size, n)
        small = [g for g, n in sizes.items() if n < 11]
        if name == "model_fairness" and small:
            for spec in response.context["chart_specs"]:
                if spec["id"].endswith(f"-{attribute}"):
                    for trace in spec["traces"]:
                        plotted = dict(zip(trace["x"], trace["y"]))
                        assert all(plotted[f"{g} (hidden)"] is None for g in small), spec["id"]


def test_a_group_with_no_held_out_patient_is_named_on_the_page_and_the_card(client, make_user,
                                                                          arm_model):
    """A group the model was never tested on is the starkest underrepresentation: it must not
    vanish from the page because it has no row."""
    fairness_page = _decoded(_get_arm(client, make_user, arm_model, "model_fairness"))
    card = _get_arm(client, make_user, arm_model, "model_card")
    limitations = " ".join(card.context["card"]["limitations"])
    for attribute, sizes in _true_sizes(arm_model).items():
        absent = [g for g in GROUP_ORDER[attribute] if g not in sizes]
        note = re.search(rf'id="absent-{attribute}".*?</p>', fairness_page, re.S)
        assert bool(note) == bool(absent), (attribute, absent)
        label = {"sex": "sex", "ancestry": "ancestry group", "age_band": "age band"}[attribute]
        for group in absent:
            assert group in note.group(0) and f"{label} {group}" in limitations


@pytest.mark.parametrize("sizes", [(5, 49, 60, 70), (10, 11, 40, 40), (60, 40, 12, 1), (49, 8),
                                   (3, 4, 30, 90), (12, 9, 200, 30)])
def test_complementary_suppression_never_calls_a_large_group_small(sizes):
    """Built data, independent of the cohort generator: a group of 11 or more reads its size, or
    "hidden" when complementary suppression hides it (then the note names it and the small
    group); "<11" only for 1-10. One small group alone always needs such a complement; two
    protect each other."""
    rng = np.random.default_rng(0)
    labels = [g for g, n in zip(("18-29", "30-44", "45-59", "60+"), sizes) for _ in range(n)]
    y = rng.integers(0, 2, len(labels))
    p = np.clip(y * 0.3 + rng.random(len(labels)) * 0.7, 0, 1)
    audit = fairness_audit(y, p, {"age_band": labels}, n_resamples=20, random_state=0)
    [table] = fairness_views.attribute_tables(audit)
    for row, n in zip(table["rows"], sizes):
        assert row["n"] in ((SUPPRESSED,) if n < 11 else (n, SIZE_HIDDEN)), row
        assert (row["n"] == SUPPRESSED) == row["small"]
    complements = [row["group"] for row in table["rows"] if row["n"] == SIZE_HIDDEN]
    assert bool(complements) == (sum(n < 11 for n in sizes) == 1)
    for group in complements + (table["flagged"] if complements else []):
        assert group in table["size_note"]


def test_every_chart_names_every_group_drawn_or_hidden_with_the_reason(client, make_user,
                                                                       arm_model):
    response = _get_arm(client, make_user, arm_model, "model_fairness")
    audit = response.context["audit"]
    specs = response.context["chart_specs"]
    for attribute, info in audit["attributes"].items():
        mine = [s for s in specs if s["id"].endswith(f"-{attribute}")]
        assert len(mine) == 3
        for spec in mine:
            for trace in spec["traces"]:
                assert [re.sub(r" \((partly )?hidden\)$", "", x) for x in trace["x"]] == [
                    g["group"] for g in info["groups"]], spec["id"]
            for i, group in enumerate(info["groups"]):
                missing = [t for t in spec["traces"] if t["y"][i] is None]
                label = spec["traces"][0]["x"][i]
                if not missing:
                    assert label == group["group"], (spec["id"], label)
                    continue
                assert label in (f"{group['group']} (hidden)", f"{group['group']} (partly hidden)")
                assert f"{group['group']} (" in spec["caption"], (spec["id"], spec["caption"])
                reasons = {r for r in group["hidden"].values() if r}
                assert any(r in spec["caption"] for r in reasons), (spec["id"], spec["caption"])


def test_the_card_lists_every_small_or_partly_hidden_group_among_its_limitations(client,
                                                                                make_user,
                                                                                arm_model):
    response = _get_arm(client, make_user, arm_model, "model_card")
    limitations = " ".join(response.context["card"]["limitations"])
    page = _decoded(response)
    for attribute, sizes in _true_sizes(arm_model).items():
        label = {"sex": "sex", "ancestry": "ancestry group", "age_band": "age band"}[attribute]
        cells = _size_cells(page, f"card-subgroups-{attribute}")
        for group, (size, rest) in cells.items():
            if size == SUPPRESSED or "&lt;11" in rest:
                assert f"{label} {group}" in limitations, (attribute, group, limitations)
    for info in response.context["card"]["metrics"]["subgroups"]:
        for group in info["groups"]:
            hidden = [METRIC_LABELS[m] for m in METRICS if group["hidden"][m]]
            if hidden and not group["small"]:
                assert f"{info['label'].lower()} {group['group']} ({', '.join(hidden)})" in limitations


# --- one number, one interval -----------------------------------------------------------------


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text).replace("\u2060", "")).strip()


def _auc_on_pages(client, model) -> dict[str, str]:
    """The model's held-out ROC AUC with its interval, as each surface prints it."""
    query = {"algorithm": model.algorithm, "variant": model.variant}
    args = [model.run_id, model.arm]
    page = client.get(reverse("model_detail", args=args), query).content.decode()
    value = re.search(r'id="metric-auc">(.*?)</span>', page).group(1)
    interval = re.search(r'id="metric-auc-ci">\((.*?)\)</small>', page).group(1)
    shown = {"model page": f"{value} ({interval})"}
    for name, row_pattern in (
            ("model_fairness", r'id="fairness-overall".*?<th scope="row">ROC AUC</th>(.*?)</tr>'),
            ("model_card", r'id="card-metric-roc_auc">(.*?)</tr>')):
        page = _decoded(client.get(reverse(name, args=args), query))
        row = re.search(row_pattern, page, re.S).group(1)
        value, interval = re.findall(r'<td class="num">(.*?)</td>', row)[-2:]
        shown[name] = f"{value} ({interval})"
    return {surface: _normalised(text) for surface, text in shown.items()}


def _auc_in_api(client, model, headers) -> str:
    body = client.get(reverse("api:api_run_models", args=[model.run_id]), **headers).json()
    [row] = [m for m in body["models"] if (m["arm"], m["algorithm"], m["variant"])
             == (model.arm, model.algorithm, model.variant)]
    return f"{row['roc_auc']:.3f} ({row['roc_auc_low']:.3f}–{row['roc_auc_high']:.3f})"


def test_each_model_shows_one_auc_interval_on_the_model_page_fairness_page_card_and_api(
        client, make_user, arm_model):
    user = make_user(Role.EDUCATOR, username=f"auc_{next(_USERS)}")
    _, token = api_token_create(user=user, name="tests")
    client.force_login(user)
    shown = _auc_on_pages(client, arm_model)
    shown["api"] = _normalised(_auc_in_api(client, arm_model,
                                           {"HTTP_AUTHORIZATION": f"Bearer {token}"}))
    m = arm_model.metrics
    stored = f"{m['roc_auc']:.3f} ({m['roc_auc_low']:.3f}–{m['roc_auc_high']:.3f})"
    assert set(shown.values()) == {stored}, shown


def test_the_case_packet_prints_the_same_auc_interval_as_every_page(client, make_user, run):
    everything = set(CONSENT_CLASSES)
    patient = next(p for p in Patient.objects.filter(cohort=run.cohort).order_by("pk")
                   if consent_permitted_classes(p, purpose=Purpose.EDUCATION) == everything)
    user = make_user(Role.EDUCATOR, username=f"auc_packet_{next(_USERS)}")
    _, token = api_token_create(user=user, name="tests")
    client.force_login(user)
    response = client.get(reverse("case_packet", args=[patient.pseudonym]))
    card = response.context["packet"]["card"]
    url = urlsplit(card["card_url"])
    model = TrainedModel.objects.get(run=run, arm=resolve(url.path).kwargs["arm"],
                                     **dict(parse_qsl(url.query)))
    printed = re.search(r"Held-out ROC AUC \(95% CI\)</dt><dd>(.*?)</dd>",
                        response.content.decode()).group(1)
    shown = {"packet": _normalised(printed), **_auc_on_pages(client, model),
             "api": _normalised(_auc_in_api(client, model,
                                            {"HTTP_AUTHORIZATION": f"Bearer {token}"}))}
    assert len(set(shown.values())) == 1, shown
