"""The audit viewer (/audit/): who may see it, its filters, the chain status and the summary."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from decision_support.accounts.access import DENIED_ACTION
from decision_support.audit import services
from decision_support.audit.checkpoints import checkpoint_append
from decision_support.audit.models import AuditEntry
from decision_support.audit.services import audit_record
from decision_support.courses.services import course_create
from decision_support.lib.vocabulary import Purpose

from .tampering import delete_from, set_column

pytestmark = pytest.mark.django_db
URL = "/audit/"
VIEW_ACTION = "audit.view"


@pytest.fixture
def steward(make_user):
    return make_user("data_steward", username="steward")


@pytest.fixture
def reviewer(make_user):
    return make_user("ethics_reviewer", username="reviewer")


@pytest.fixture
def log(make_user):
    """Five entries: #1-#5, by two actors, over two days (UTC)."""
    alice = make_user("educator", username="alice")
    bob = make_user("student", username="bob")
    rows = [
        (alice, "educator", "TRAIN", "patient.view", "patient", "aaaa1111", "allowed", "2026-11-01T09:00"),
        (bob, "student", "TRAIN", "patient.view", "patient", "bbbb2222", "allowed", "2026-11-01T23:59"),
        (bob, "student", "TRAIN", DENIED_ACTION, "url", "audit_log", "denied", "2026-11-02T00:00"),
        (alice, "educator,data_steward", "MLTRAIN", "training.run", "cohort", "c1", "allowed", "2026-11-02T12:00"),
        (alice, "educator", "HRESCH", "export.aggregate", "cohort", "c1", "error", "2026-11-03T08:00"),
    ]
    for actor, role, purpose, action, object_type, ref, outcome, at in rows:
        _record_at(at, actor=actor, role=role, purpose=purpose, action=action,
                   object_type=object_type, object_ref=ref, outcome=outcome)
    return rows


def _record_at(at: str, **fields):
    moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
    original = services.timezone.now
    services.timezone.now = lambda: moment
    try:
        return audit_record(**fields)
    finally:
        services.timezone.now = original


def _sequences(response) -> list[int]:
    body = response.content.decode()
    table = body[body.index('id="audit-entries"'):]
    return [int(n) for n in re.findall(r'<tr><td class="num">(\d+)</td>', table)]


@pytest.mark.parametrize("role", ["steward", "reviewer"])
def test_stewards_and_ethics_reviewers_see_the_log_newest_first(client, log, role, request):
    client.force_login(request.getfixturevalue(role))
    response = client.get(URL)
    assert response.status_code == 200
    assert _sequences(response) == [5, 4, 3, 2, 1]
    assert reverse("audit_log") == URL


def test_anonymous_visitors_are_sent_to_sign_in(client, log):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["educator", "student"])
def test_educators_and_students_get_404_and_the_refusal_is_audited(client, make_user, role):
    user = make_user(role)
    client.force_login(user)
    assert client.get(URL).status_code == 404
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.outcome, entry.object_ref) == (
        user.username, DENIED_ACTION, "denied", "audit_log")


@pytest.mark.parametrize("query, expected", [
    ({"actor": "bob"}, [3, 2]),
    ({"actor": "bo"}, []),  # exact, not a prefix
    ({"role": "educator"}, [5, 4, 1]),
    ({"role": "data_steward"}, [4]),  # one of several roles
    ({"purpose": "MLTRAIN"}, [4]),
    ({"action": "patient.view"}, [2, 1]),
    ({"outcome": "denied"}, [3]),
    ({"object_ref": "c1"}, [5, 4]),
    ({"object_ref": "aaaa"}, []),  # exact, not a substring
    ({"date_from": "2026-11-02"}, [5, 4, 3]),
    ({"date_to": "2026-11-01"}, [2, 1]),  # the whole day, to 23:59
    ({"date_from": "2026-11-02", "date_to": "2026-11-02"}, [4, 3]),
    ({"actor": "alice", "outcome": "allowed"}, [4, 1]),
])
def test_each_filter_selects_exactly_the_matching_entries(client, steward, log, query, expected):
    client.force_login(steward)
    response = client.get(URL, query)
    assert response.status_code == 200
    assert 'id="form-errors"' not in response.content.decode()
    assert _sequences(response) == expected


def test_the_action_choices_are_the_actions_in_the_log(client, steward, log):
    client.force_login(steward)
    choices = client.get(URL).context["form"].fields["action"].choices
    assert [value for value, _ in choices] == ["", DENIED_ACTION, "export.aggregate",
                                               "patient.view", "training.run"]


@pytest.mark.parametrize("query, label", [
    ({"role": "root"}, "Role"),
    ({"purpose": "ANYTHING"}, "Purpose"),
    ({"action": "patient.delete"}, "Action"),  # not in the log
    ({"outcome": "maybe"}, "Outcome"),
    ({"actor": "alice' OR '1'='1"}, "Actor (username)"),
    ({"object_ref": "<script>"}, "Object reference (pseudonym)"),
    ({"object_ref": "x" * 101}, "Object reference (pseudonym)"),
    ({"date_from": "yesterday"}, "Date from (UTC)"),
    ({"date_to": "2026-02-30"}, "Date to (UTC)"),
    ({"date_from": "2026-11-03", "date_to": "2026-11-01"}, "Date to (UTC)"),
])
def test_a_bad_filter_value_gives_an_error_naming_the_field_and_no_entries(client, steward, log,
                                                                           query, label):
    client.force_login(steward)
    response = client.get(URL, query)
    assert response.status_code == 200
    body = response.content.decode()
    errors = body[body.index('id="form-errors"'):body.index("</ul>", body.index('id="form-errors"'))]
    assert f"<li>{label}: " in errors
    assert _sequences(response) == []


def test_orm_lookups_in_parameter_names_are_ignored(client, steward, log):
    client.force_login(steward)
    response = client.get(URL, {"actor__startswith": "a", "sequence__gt": "3", "order_by": "sequence"})
    assert response.status_code == 200
    assert _sequences(response) == [5, 4, 3, 2, 1]


def test_each_viewer_get_writes_exactly_one_audit_entry_with_the_filters(client, reviewer, log):
    client.force_login(reviewer)
    before = AuditEntry.objects.count()
    client.get(URL, {"actor": "alice", "date_from": "2026-11-02"})
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert (entry.actor, entry.role, entry.action, entry.outcome) == (
        "reviewer", "ethics_reviewer", VIEW_ACTION, "allowed")
    assert entry.detail["filters"] == {"actor": "alice", "date_from": "2026-11-02"}
    assert entry.detail["page"] == 1

    client.get(URL, {"outcome": "nonsense"})
    assert AuditEntry.objects.count() == before + 2
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert entry.detail["filters"] == {} and entry.detail["invalid"] == ["outcome"]


def test_script_in_a_logged_value_is_shown_escaped(client, steward, make_user):
    attack = '<script>alert("x")</script>'
    audit_record(actor=make_user("educator"), role="educator", purpose="TRAIN", action="patient.view",
                 object_type=attack, object_ref="ref1", outcome="allowed", detail={"note": attack})
    client.force_login(steward)
    body = client.get(URL).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    assert body.count("&lt;script&gt;") == 2  # object and detail


def test_the_chain_status_says_intact_or_names_the_first_broken_entry(client, steward, log):
    client.force_login(steward)
    assert "Chain intact: all 5 entries verified" in client.get(URL).content.decode()

    set_column(2, "object_ref", "bbbb2223")
    body = client.get(URL).content.decode()
    assert "Chain broken at entry #2 (content changed)" in body
    assert "Chain intact" not in body


def test_the_chain_status_shows_the_latest_checkpoint_and_a_cut_tail(client, steward, log):
    client.force_login(steward)
    body = client.get(URL).content.decode()
    assert re.search(r"the latest\s+signed checkpoint \(\S+\) covers 0,\s+5 written after it", body)

    checkpoint_append(count=5, head=AuditEntry.objects.get(sequence=5).entry_hash)  # as if committed
    delete_from(3)
    body = client.get(URL).content.decode()
    assert "Chain broken at entry #3 (truncated: the log holds fewer entries than the latest" in body
    assert "Chain intact" not in body


def test_the_summary_counts_entries_by_action_and_outcome_over_the_filtered_set(client, steward, log):
    client.force_login(steward)
    summary = client.get(URL, {"actor": "alice"}).context["summary"]
    # Columns: allowed, denied, error.
    assert summary == [
        {"action": "export.aggregate", "counts": [0, 0, 1], "total": 1},
        {"action": "patient.view", "counts": [1, 0, 0], "total": 1},
        {"action": "training.run", "counts": [1, 0, 0], "total": 1},
    ]
    body = client.get(URL, {"outcome": "denied"}).content.decode()
    summary_table = body[body.index('id="audit-summary"'):body.index("</table>", body.index('id="audit-summary"'))]
    assert f'<th scope="row">{DENIED_ACTION}</th><td class="num">0</td><td class="num">1</td>' in summary_table


def test_the_log_is_paged_by_50_and_the_pages_keep_the_filters(client, steward, make_user):
    alice = make_user("educator", username="alice")
    for n in range(120):
        audit_record(actor=alice, role="educator", purpose="TRAIN", action="patient.view",
                     object_ref=f"p{n}", outcome="allowed")
    client.force_login(steward)
    first = client.get(URL, {"action": "patient.view"})
    assert _sequences(first) == list(range(120, 70, -1))
    assert 'href="?action=patient.view&amp;page=2"' in first.content.decode()
    last = client.get(URL, {"action": "patient.view", "page": "3"})
    assert _sequences(last) == list(range(20, 0, -1))
    for bad in ("abc", "0", "4"):  # refused naming the parameter, no entries shown
        refused = client.get(URL, {"action": "patient.view", "page": bad})
        assert refused.status_code == 400 and 'data-field="page"' in refused.content.decode()


def test_the_viewer_only_reads(client, steward):
    client.force_login(steward)
    assert client.post(URL).status_code == 405


# --- Wording: the log names things as the pages do -------------------------------------------


def _entries_table(response) -> str:
    return response.content.decode().split('id="audit-entries"')[1].split("</table>")[0]


@pytest.mark.parametrize("purpose", list(Purpose), ids=lambda p: p.value)
def test_the_purpose_shows_as_its_label_with_the_stored_code_in_a_title(client, steward, make_user,
                                                                        purpose):
    """TRAIN is HL7's code for training people: shown bare it reads as model training."""
    audit_record(actor=make_user("educator"), role="educator", purpose=purpose.value,
                 action="patient.view", object_type="patient", object_ref="ref1", outcome="allowed")
    client.force_login(steward)
    table = _entries_table(client.get(URL))
    assert f'<span title="Purpose-of-use code {purpose.value}">{purpose.label}</span>' in table
    assert f"<td>{purpose.value}</td>" not in table


def test_the_purpose_filter_names_the_purpose_before_its_code(client, steward):
    client.force_login(steward)
    page = client.get(URL).content.decode()
    assert '<option value="TRAIN">Education and demonstration (TRAIN)</option>' in page


def test_roles_show_as_their_labels(client, steward, log):
    client.force_login(steward)
    table = _entries_table(client.get(URL))
    assert "<td>Educator, Data steward</td>" in table and "<td>Student</td>" in table
    assert "educator,data_steward" not in table


def test_a_cohort_read_names_the_cohort_by_number_and_name_as_the_pages_do(client, steward,
                                                                         demo_cohort):
    """Opening a cohort writes its uid; the log shows "cohort 1 (name)", the uid in a title."""
    client.force_login(steward)
    assert client.get(reverse("cohort_overview", args=[demo_cohort.pk])).status_code == 200
    table = _entries_table(client.get(URL))
    assert (f'<span title="Stored reference: {demo_cohort.uid}">cohort {demo_cohort.pk} '
            f"({demo_cohort.name})</span>") in table
    assert f"cohort {demo_cohort.uid}" not in table


def test_a_course_names_its_name_and_a_gone_object_its_stored_reference(client, steward, make_user):
    educator = make_user("educator")
    course = course_create(actor=educator, purpose=Purpose.EDUCATION, name="Autumn seminar")
    gone = "0b5e3c2e-1d7a-4f43-9c62-2f1e0d9b8a71"
    audit_record(actor=educator, role="educator", purpose="TRAIN", action="cohort.create",
                 object_type="cohort", object_ref=gone, outcome="allowed")
    client.force_login(steward)
    table = _entries_table(client.get(URL))
    assert f"course {course.pk} (Autumn seminar)</span>" in table
    assert f"<td>cohort {gone}</td>" in table


@pytest.mark.parametrize("value, shown", [
    ("/patients/abc/", "/patients/abc/"),
    (["genetic", "epigenetic"], "genetic, epigenetic"),
    ([], "none"),
    ({"actor": "alice", "page": 2}, "actor: alice; page: 2"),
    (True, "yes"),
    (None, "–"),
    (3, "3"),
])
def test_the_detail_reads_as_key_value_lines_not_json(client, steward, make_user, value, shown):
    audit_record(actor=make_user("educator"), role="educator", purpose="TRAIN",
                 action="patient.view", object_type="patient", object_ref="ref1",
                 outcome="allowed", detail={"zeta": "last", "alpha": value})
    client.force_login(steward)
    body = client.get(URL).content.decode()
    row = next(r for r in body.split("<tr>") if "ref1" in r)
    detail = row.split('<td class="detail">', 1)[1].split("</td>", 1)[0]
    lines = re.findall(r"<dt>(.*?):</dt> <dd>(.*?)</dd>", detail)
    assert lines == [("alpha", shown), ("zeta", "last")]
    assert "{" not in detail and "&quot;" not in detail
