"""'Why this could matter' (``synthetic_data.biology``) beside the variables the patient page and
the model page name, for a student as for everyone."""

import html
import re

import pytest
from django.urls import reverse

from decision_support.accounts.roles import Role
from decision_support.registry.models import TrainedModel
from synthetic_data import DATA_DICTIONARY, biology_of

pytestmark = pytest.mark.django_db


def _student(client, make_user):
    client.force_login(make_user(Role.STUDENT, username="why_student"))
    return client


def test_every_observed_value_on_the_patient_page_says_why_it_could_matter(client, make_user,
                                                                           patient):
    response = _student(client, make_user).get(reverse("patient_detail", args=[patient.pseudonym]))
    # Labels may carry a glossary link (``glossed``): read them as the text they show.
    page = re.sub(r'<a class="term"[^>]*>|</a>|<abbr[^>]*>|</abbr>', "",
                  html.unescape(response.content.decode()))
    rows = [row for group in response.context["groups"] for row in group["rows"]]
    assert rows
    for row in rows:
        entry = biology_of(row["name"])
        # In the row's header cell, beside the label: its biology, caveat and what is encoded.
        cell = re.search(rf'<th scope="row">{re.escape(row["label"])}(.*?)</th>', page, re.S)
        assert cell, row["name"]
        for text in (entry.biology, entry.caveat, entry.encoded()):
            assert text in cell.group(1), row["name"]
        assert "<summary>Why this could matter" in cell.group(1)


def test_the_model_page_says_why_each_of_its_features_could_matter(client, make_user, run):
    model = TrainedModel.objects.filter(run=run).order_by("pk").first()
    response = _student(client, make_user).get(
        reverse("model_detail", args=[run.pk, model.arm]),
        {"algorithm": model.algorithm, "variant": model.variant})
    page = html.unescape(response.content.decode())
    section = page.split('id="feature-biology"', 1)[1].split("</ul>", 1)[0]
    assert len(model.features) > 5
    for feature in model.features:
        label = DATA_DICTIONARY[feature].label
        assert f"<summary>{label}: why it could matter</summary>" in section, feature
        assert biology_of(feature).biology in section, feature
