"""Bad input in every form: each page's forms are found in its HTML and sent hostile values.

Whatever is sent (NaN, infinity, 1e308, huge or negative numbers, wrong types, a `<script>` tag,
CR/LF, formula cells, very long text), no page answers 500, a `<script>` payload never comes back
unescaped, and a refused POST writes nothing (apart from the audit log, which records refusals).
"""

from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decision_support.accounts.roles import Role

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
HOSTILE = st.one_of(
    st.sampled_from(["", "NaN", "nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "-1", "0",
                     "99999999999999999999999999", "1.5", "true", "null", "[]", "{}",
                     SCRIPT, f"a{SCRIPT}b", "line1\r\nline2", "\r\nSet-Cookie: x=1", "\x00",
                     '=HYPERLINK("http://x")', "+1", "-1+1", "@SUM(A1)", "x" * 5000,
                     "ssri", "genetic", "TRAIN", "give", "withdraw", "0.1", "responders_by_arm"]),
    st.text(max_size=40),
)
# Logging out and erasing end the session or the data under test; they have their own tests.
SKIPPED_ACTIONS = ("/accounts/logout/", "/erase/")
# Rows that a refused request may still add: the audit log and django-axes' access records.
MAY_GROW = {"audit.auditentry", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog",
            "sessions.session"}


class _Forms(HTMLParser):
    """Every <form>: its method, action and the names of its fields (with one shown value)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"method": (attrs.get("method") or "get").lower(),
                          "action": attrs.get("action") or "", "fields": {}}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea", "button"):
            name = attrs.get("name")
            if name and name != "csrfmiddlewaretoken":
                self._form["fields"].setdefault(name, attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _forms(client, path: str) -> list[dict]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    parser = _Forms()
    parser.feed(response.content.decode())
    return [{**f, "action": f["action"] or path} for f in parser.forms
            if not any(skip in f["action"] for skip in SKIPPED_ACTIONS)]


def _row_counts() -> dict[str, int]:
    return {m._meta.label_lower: m._base_manager.count() for m in apps.get_models()
            if m._meta.label_lower not in MAY_GROW}


def _user(make_user, role: Role):
    from django.contrib.auth import get_user_model

    existing = get_user_model().objects.filter(username=f"fuzz_{role.value}").first()
    return existing or make_user(role, username=f"fuzz_{role.value}")


def _pages(o) -> list[tuple[Role, str]]:
    patient, cohort, run = o["patient"].pseudonym, o["cohort"].pk, o["run"].pk
    return [
        (Role.EDUCATOR, reverse("patient_detail", args=[patient])),
        (Role.EDUCATOR, reverse("model_detail", args=[run, o["arm"]])),
        # The pause form (it was on the Models page, which has no field left but a button).
        (Role.EDUCATOR, reverse("predictions_pause")),
        (Role.EDUCATOR, reverse("aggregate_export", args=[cohort])),
        (Role.STUDENT, reverse("patient_detail", args=[patient])),
        (Role.ETHICS_REVIEWER, reverse("patient_detail", args=[patient])),
        (Role.ETHICS_REVIEWER, reverse("model_detail", args=[run, o["arm"]])),
        (Role.EDUCATOR, reverse("seminar_pack_create")),
        (Role.EDUCATOR, reverse("cohort_create")),
        (Role.EDUCATOR, reverse("model_fairness", args=[run, o["arm"]])),
        (Role.EDUCATOR, reverse("patient_explanations", args=[patient])),
        (Role.EDUCATOR, reverse("patient_what_if", args=[patient])),
        (Role.ETHICS_REVIEWER, reverse("review_list")),
        (Role.DATA_STEWARD, reverse("patient_consent", args=[patient])),
        (Role.DATA_STEWARD, reverse("audit_log")),
        (Role.STUDENT, reverse("api_tokens")),
        (Role.EDUCATOR, reverse("course_list")),
        (Role.EDUCATOR, reverse("course_detail", args=[o["cohort"].course_id])),
        (Role.EDUCATOR, reverse("course_roster", args=[o["cohort"].course_id])),
        (Role.STUDENT, reverse("course_join_start")),
        (Role.EDUCATOR, reverse("exercise_create", args=[cohort])),
        (Role.STUDENT, reverse("exercise_answer", args=[o["exercise"].pk])),
        # The patient list's search and filters (GET), and for educators adding cases to a pack.
        (Role.EDUCATOR, reverse("patient_list", args=[cohort])),
        (Role.STUDENT, reverse("patient_list", args=[cohort])),
    ]


def test_the_fuzzed_pages_have_forms_with_fields(client, make_user, objects):
    for role, path in _pages(objects):
        client.force_login(_user(make_user, role))
        assert any(f["fields"] for f in _forms(client, path)), path


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_values_in_every_form_field(client, make_user, objects, data):
    role, path = data.draw(st.sampled_from(_pages(objects)), label="page")
    with transaction.atomic():  # every example starts from the same state
        client.force_login(_user(make_user, role))
        forms = [f for f in _forms(client, path) if f["fields"]]
        form = data.draw(st.sampled_from(forms), label="form")
        values = {name: data.draw(HOSTILE, label=name) for name in form["fields"]}
        before = _row_counts()
        if form["method"] == "post":
            response = client.post(form["action"], values)
        else:
            response = client.get(form["action"], values)
        assert response.status_code < 500
        assert SCRIPT not in response.content.decode(errors="replace")
        if form["method"] == "post" and response.status_code >= 400:
            assert _row_counts() == before, "a refused POST wrote rows"
        transaction.set_rollback(True)
