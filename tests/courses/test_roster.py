"""The roster importer, property-tested: any file is imported whole or refused whole with a row and
a column named, never half; a valid roster comes back out as it went in."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from decision_support.accounts.roles import Role
from decision_support.audit.models import AuditEntry
from decision_support.courses.models import Membership
from decision_support.courses.roster import COLUMNS, FILE, RosterRefused, roster_parse
from decision_support.courses.services import course_roster_import

pytestmark = pytest.mark.django_db

PREFIX = st.from_regex(r"[A-Za-z0-9.@+-]{1,12}", fullmatch=True)
DISPLAY = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=1,
                  max_size=40).filter(lambda text: text.strip())
BAD_USERNAMES = ["", "   ", "two words", "x" * 151, "semi;colon", "tab\tinside", "slash/ed"]
BAD_DISPLAY_NAMES = ["", "   ", "x" * 151, "tab\tinside", "bell\x07", "line\nbreak"]
# A row: what it is meant to be, and its two cells. The bad kinds must be refused.
BAD_KINDS = {"bad_username", "bad_display", "duplicate", "outsider"}
KIND = st.sampled_from(["valid", "valid", "valid", "bad_username", "bad_display", "duplicate",
                        "outsider", "member"])
# Existing accounts; generated usernames (letters, then "_" and digits) never match them.
OUTSIDER, MEMBER = "outsider_x", "member_x"


@st.composite
def rosters(draw, kinds=KIND):
    """(rows as (kind, username, display name), the CSV bytes)."""
    rows, valid_names = [], []
    for i in range(draw(st.integers(1, 8))):
        kind = draw(kinds)
        username, display = f"{draw(PREFIX)}_{i}", draw(DISPLAY)
        if kind == "bad_username":
            username = draw(st.sampled_from(BAD_USERNAMES))
        elif kind == "bad_display":
            display = draw(st.sampled_from(BAD_DISPLAY_NAMES))
        elif kind == "duplicate":
            if not valid_names:
                kind = "valid"
            else:
                username = draw(st.sampled_from(valid_names)).swapcase()
        elif kind in ("outsider", "member"):
            username = OUTSIDER if kind == "outsider" else MEMBER
            if username in valid_names:
                kind = "duplicate"
        if kind in ("valid", "member"):
            valid_names.append(username)
        rows.append((kind, username, display))
    swap = draw(st.booleans())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(COLUMNS[::-1] if swap else COLUMNS)
    for _, username, display in rows:
        writer.writerow([display, username] if swap else [username, display])
    bom = "\ufeff" if draw(st.booleans()) else ""
    return rows, (bom + buffer.getvalue()).encode()


def _state():
    return (sorted(get_user_model().objects.values_list("username", flat=True)),
            sorted(Membership.objects.values_list("user__username", "course_id", "role",
                                                  "display_name")),
            AuditEntry.objects.count())


@pytest.fixture
def people(make_user, course, other_course):
    make_user(Role.STUDENT, username=OUTSIDER, course=other_course)
    make_user(Role.STUDENT, username=MEMBER, course=course)
    return make_user(Role.EDUCATOR, username="teacher", course=course)


PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@PROPERTY
@given(roster=rosters())
def test_any_roster_is_imported_whole_or_refused_whole_naming_a_bad_row(people, course, roster):
    rows, data = roster
    with transaction.atomic():
        before = _state()
        try:
            entries = course_roster_import(actor=people, purpose="TRAIN", course=course,
                                           rows=roster_parse(data), data=data)
        except RosterRefused as refused:
            bad_rows = {number for number, (kind, _, _) in enumerate(rows, start=2)
                        if kind in BAD_KINDS}
            assert bad_rows, f"a good roster was refused: {refused}"
            assert refused.problems
            assert {p.row for p in refused.problems} <= bad_rows
            assert all(p.column in (*COLUMNS, FILE) for p in refused.problems)
            assert _state() == before, "a refused roster wrote something"
        else:
            assert not any(kind in BAD_KINDS for kind, _, _ in rows), "a bad row got in"
            new = [u for kind, u, _ in rows if kind == "valid"]
            users, memberships, audit = _state()
            assert users == sorted(before[0] + new)
            assert audit == before[2] + 1
            assert len(memberships) == len(before[1]) + len(new)
            assert [e.created for e in entries] == [kind == "valid" for kind, _, _ in rows]
        transaction.set_rollback(True)


@PROPERTY
@given(roster=rosters(kinds=st.just("valid")))
def test_a_valid_roster_comes_back_as_it_went_in(people, course, roster):
    rows, data = roster
    assume(rows)
    with transaction.atomic():
        parsed = roster_parse(data)
        assert [(r.username, r.display_name) for r in parsed] == [
            (u, d.strip()) for _, u, d in rows]
        course_roster_import(actor=people, purpose="TRAIN", course=course, rows=parsed, data=data)
        enrolled = {m.user.username: (m.role, m.display_name)
                    for m in Membership.objects.filter(course=course).select_related("user")}
        for _, username, display in rows:
            assert enrolled[username] == (Role.STUDENT, display.strip())
            assert not get_user_model().objects.get(username=username).has_usable_password()
        transaction.set_rollback(True)
