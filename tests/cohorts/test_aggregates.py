"""A cohort's aggregates are computed once per consent version and every page shows the stored
numbers; a consent change (a decision, an erasure, a consent period ending) shows at once, and a
task computes them again once the change commits (one computation for many changes in a row)."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from decision_support.accounts.tokens import api_token_create
from decision_support.cohorts import aggregates
from decision_support.cohorts.models import CohortAggregate
from decision_support.cohorts.services import cohort_generate
from decision_support.consent.erasure import patient_erase
from decision_support.consent.reads import consented_cohort
from decision_support.consent.selectors import (consent_permitted_classes,
                                                permitted_classes_by_patient)
from decision_support.consent.services import consent_give, consent_withdraw
from decision_support.lib.suppression import suppress_count
from decision_support.lib.vocabulary import ConsentClass, Purpose

pytestmark = pytest.mark.django_db

GENETIC = ConsentClass.GENETIC.label.lower()
TASK_PATH = "decision_support.cohorts.aggregates.aggregates_refresh"


@pytest.fixture
def other_cohort(demo_cohort):
    return cohort_generate(n_patients=300, seed=2)


@pytest.fixture
def educator(make_user):
    return make_user("educator")


def _overview(client, headers, cohort, other) -> tuple[str, str]:
    page = client.get(reverse("cohort_overview", args=[cohort.pk])).content.decode()
    return (re.search(r'id="count-patients">(\d+)<', page)[1],
            re.search(rf"{GENETIC} of <strong>([^<]+)</strong> patients", page)[1])


def _compare(client, headers, cohort, other) -> tuple[str, str]:
    page = client.get(reverse("cohort_compare"), {"a": cohort.pk, "b": other.pk}).content.decode()
    return (re.search(r"</strong> · (\d+) patients", page)[1],
            re.search(rf"A: .*?{GENETIC} of <strong>([^<]+)</strong>", page, re.S)[1])


def _api(client, headers, cohort, other) -> tuple[str, str]:
    body = client.get(reverse("api:api_cohort", args=[cohort.pk]), **headers).json()
    return str(body["summary"]["n_patients"]), str(body["left_out"]["genetic"])


PAGES = {"overview": _overview, "comparison": _compare, "API": _api}


def _expected(cohort) -> tuple[str, str]:
    """What the gate answers now (the aggregates' clock), computed afresh."""
    consented = consented_cohort(cohort, purpose=Purpose.EDUCATION, now=aggregates.timezone.now())
    return str(len(consented.frame)), str(suppress_count(consented.left_out["genetic"]))


def _patient(cohort, *, permits_genetic: bool):
    return next(p for p in cohort.patients.order_by("pk")
                if ("genetic" in consent_permitted_classes(p, purpose=Purpose.EDUCATION))
                == permits_genetic)


def _withdraw(cohort, actor, monkeypatch):
    consent_withdraw(patient=_patient(cohort, permits_genetic=True), data_class="genetic",
                     purpose=Purpose.EDUCATION, actor=actor)


def _give(cohort, actor, monkeypatch):
    consent_give(patient=_patient(cohort, permits_genetic=False), data_class="genetic",
                 purpose=Purpose.EDUCATION, actor=actor)


def _erase(cohort, actor, monkeypatch):
    patient_erase(cohort.patients.order_by("pk").first(), actor=actor)


def _period_ends(cohort, actor, monkeypatch):
    """A permit given until an hour from now: after it ends the patient is left out again. Given
    before the first page, which stores the aggregates with it; then the aggregates' clock (the
    time their gate reads at) moves on: the sessions' clock stays, so no one is signed out."""
    later = timezone.now() + dt.timedelta(hours=2)
    monkeypatch.setattr(aggregates, "timezone", SimpleNamespace(now=lambda: later))


CHANGES = {"withdrawal": _withdraw, "giving": _give, "erasure": _erase,
           "a consent period ending": _period_ends}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("change", CHANGES)
def test_a_consent_change_shows_on_the_page_at_once(client, educator, demo_cohort, other_cohort,
                                                    monkeypatch, change, page):
    if change == "a consent period ending":
        consent_give(patient=_patient(demo_cohort, permits_genetic=False), data_class="genetic",
                     purpose=Purpose.EDUCATION, actor=educator,
                     period_end=timezone.now() + dt.timedelta(hours=1))
    client.force_login(educator)
    _, token = api_token_create(user=educator, name="tests")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    show = PAGES[page]
    before = show(client, headers, demo_cohort, other_cohort)
    assert before == _expected(demo_cohort)

    CHANGES[change](demo_cohort, educator, monkeypatch)

    after = show(client, headers, demo_cohort, other_cohort)
    assert after != before
    assert after == _expected(demo_cohort)


@pytest.mark.parametrize("change", CHANGES)
def test_the_stored_consent_read_answers_as_the_gate_after_any_change(educator, demo_cohort,
                                                                      monkeypatch, change):
    """What the patient list's filters read (``cohort_permitted``): each patient's permitted
    classes, stored with the aggregates, equal the gate's answers before and after a change."""
    if change == "a consent period ending":
        consent_give(patient=_patient(demo_cohort, permits_genetic=False), data_class="genetic",
                     purpose=Purpose.EDUCATION, actor=educator,
                     period_end=timezone.now() + dt.timedelta(hours=1))

    def by_gate():
        pks, numbers = zip(*demo_cohort.patients.order_by("number").values_list("pk", "number"))
        answers = permitted_classes_by_patient(pks, purpose=Purpose.EDUCATION,
                                               now=aggregates.timezone.now())
        return dict(zip(numbers, answers.values()))

    def stored():
        numbers = list(demo_cohort.patients.order_by("number").values_list("number", flat=True))
        read = aggregates.cohort_permitted(demo_cohort, purpose=Purpose.EDUCATION)
        return dict(zip(numbers, read.classes_of(numbers)))

    before = by_gate()
    assert stored() == before
    CHANGES[change](demo_cohort, educator, monkeypatch)
    after = by_gate()
    assert after != before
    assert stored() == after


def test_every_page_shows_the_stored_aggregates_computed_once(client, educator, demo_cohort,
                                                               other_cohort, monkeypatch):
    reads = []
    original = aggregates.consented_cohort
    monkeypatch.setattr(aggregates, "consented_cohort",
                        lambda cohort, **kw: reads.append(cohort.pk) or original(cohort, **kw))
    client.force_login(educator)
    _, token = api_token_create(user=educator, name="tests")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    overview = client.get(reverse("cohort_overview", args=[demo_cohort.pk]))
    again = client.get(reverse("cohort_overview", args=[demo_cohort.pk]))
    compare = client.get(reverse("cohort_compare"), {"a": demo_cohort.pk, "b": other_cohort.pk})
    api = client.get(reverse("api:api_cohort", args=[demo_cohort.pk]), **headers).json()

    assert sorted(reads) == [demo_cohort.pk, other_cohort.pk]  # once per cohort, not per page
    stored = CohortAggregate.objects.get(cohort=demo_cohort, purpose=Purpose.EDUCATION).content
    for summary in (overview.context["summary"], again.context["summary"],
                    compare.context["a"]["summary"], api["summary"]):
        assert summary == stored["summary"]
    assert api["left_out"] == stored["left_out"]
    assert ([c.table_rows for c in overview.context["charts"]]
            == [c["table_rows"] for c in stored["charts"]])


@pytest.fixture
def reads(monkeypatch):
    """The cohorts whose aggregates are computed (each a read through the consent gate)."""
    seen = []
    original = aggregates.consented_cohort
    monkeypatch.setattr(aggregates, "consented_cohort",
                        lambda cohort, **kw: seen.append(cohort.pk) or original(cohort, **kw))
    return seen


def _stored_version(cohort) -> int:
    return CohortAggregate.objects.get(cohort=cohort, purpose=Purpose.EDUCATION).consent_version


@pytest.mark.parametrize("change", ["withdrawal", "giving", "erasure"])
def test_a_consent_change_computes_the_aggregates_again_once_it_commits(
        client, educator, demo_cohort, other_cohort, monkeypatch, reads,
        django_capture_on_commit_callbacks, change):
    client.force_login(educator)
    before = _overview(client, {}, demo_cohort, other_cohort)

    with django_capture_on_commit_callbacks(execute=True):
        CHANGES[change](demo_cohort, educator, monkeypatch)
    reads.clear()  # the task has run (tests run tasks at once)
    demo_cohort.refresh_from_db()
    assert _stored_version(demo_cohort) == demo_cohort.consent_version

    after = _overview(client, {}, demo_cohort, other_cohort)
    assert reads == []  # the page read what the task stored
    assert after != before
    assert after == _expected(demo_cohort)


def test_a_consent_change_computes_nothing_for_a_cohort_no_page_has_shown(
        educator, demo_cohort, reads, monkeypatch, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _withdraw(demo_cohort, educator, monkeypatch)
    assert reads == []
    assert not CohortAggregate.objects.filter(cohort=demo_cohort).exists()


def test_many_decisions_in_a_row_queue_a_task_each_and_a_worker_computes_once(
        client, educator, demo_cohort, other_cohort, reads, settings, monkeypatch,
        django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # The worker closes the database connection between tasks; on PostgreSQL that would end the
    # test's transaction (SQLite's in-memory test database ignores it).
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections",
                        lambda: None)
    client.force_login(educator)
    _overview(client, {}, demo_cohort, other_cohort)
    patients = [p for p in demo_cohort.patients.order_by("pk")
                if "genetic" in consent_permitted_classes(p, purpose=Purpose.EDUCATION)][:3]
    with django_capture_on_commit_callbacks(execute=True):
        for patient in patients:
            consent_withdraw(patient=patient, data_class="genetic", purpose=Purpose.EDUCATION,
                             actor=educator)
    queued = DBTaskResult.objects.filter(task_path=TASK_PATH)
    assert queued.count() == 3
    reads.clear()

    # The older decisions' tasks find the cohort's version moved on and do nothing.
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    assert set(queued.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert reads == [demo_cohort.pk]
    demo_cohort.refresh_from_db()
    assert _stored_version(demo_cohort) == demo_cohort.consent_version
    assert _overview(client, {}, demo_cohort, other_cohort) == _expected(demo_cohort)
    assert reads == [demo_cohort.pk]
