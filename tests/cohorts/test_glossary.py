"""The glossary: one page, for every role, from the navigation; every abbreviation the pages use
has an entry; the ``glossed`` filter links terms without changing the text around them."""

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.safestring import mark_safe

from decision_support.accounts.roles import Role
from decision_support.lib.glossary import GLOSSARY, TERM_PATTERN, TERMS, TOPICS, term_for
from models.fairness import METRIC_LABELS
from models.model_card import OVERALL_METRICS
from synthetic_data import ARM_LABELS, DATA_DICTIONARY, SCENARIOS, SITE_SCENARIOS

TEMPLATES = Path(__file__).resolve().parents[2] / "decision_support" / "templates"
# A word with two capitals in a row: an abbreviation (HAM-D17, hs-CRP, rACC, EUR, STAR*D).
ABBREVIATION = re.compile(
    r"(?<![\w/.*-])[A-Za-z0-9*]*[A-Z]{2}[A-Za-z0-9*]*(?:-[A-Za-z0-9]+)*(?![\w/-])")
# Abbreviations that are not subject matter: file formats, the app's own furniture, an example
# join code.
NOT_TERMS = {"API", "CSV", "JSON", "PDF", "README", "USERNAME", "UTF-8", "K7QM-3XWD", "DOCTYPE",
             "III", "DOMAIN"}


def _template_text(path: Path) -> str:
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", " ", path.read_text(encoding="utf-8"),
                  flags=re.S)
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", text, flags=re.S)
    return re.sub(r"<[^>]*>", " ", text, flags=re.S)


def _shown_texts() -> dict[str, str]:
    """What the pages show besides their templates: labels and the scenarios' texts."""
    texts = {f"template {p.relative_to(TEMPLATES)}": _template_text(p)
             for p in sorted(TEMPLATES.rglob("*.html"))}
    for v in DATA_DICTIONARY.values():
        texts[f"dictionary {v.name}"] = " ".join([v.label, v.finding, *v.categories])
    for s in [*SCENARIOS.values(), *SITE_SCENARIOS.values()]:
        texts[f"scenario {s.name}"] = " ".join([s.title, s.teaching_note,
                                                *(getattr(s, "questions", ()) or ()),
                                                getattr(s, "expected", "") or ""])
    texts["labels"] = " ".join([*ARM_LABELS.values(), *METRIC_LABELS.values(),
                                *(label for _, label in OVERALL_METRICS)])
    return texts


@pytest.mark.parametrize("where, text", _shown_texts().items(),
                         ids=lambda x: x if len(x) < 60 else "")
def test_every_abbreviation_a_page_shows_has_a_glossary_entry(where, text):
    missing = {a for a in ABBREVIATION.findall(text)
               if a not in NOT_TERMS and not TERM_PATTERN.search(a)}
    assert not missing, f"{where}: no glossary entry for {sorted(missing)}"


@pytest.mark.parametrize("variable", ["ancestry", "cyp2c19_phenotype", "cyp2d6_phenotype"])
def test_every_ancestry_group_and_metaboliser_phenotype_has_its_own_entry(variable):
    for category in DATA_DICTIONARY[variable].categories:
        assert TERM_PATTERN.fullmatch(category), category
        assert term_for(category).anchor == category.lower()


@pytest.mark.parametrize("label", [*METRIC_LABELS.values(),
                                   *(label for _, label in OVERALL_METRICS)])
def test_every_metric_the_model_and_fairness_pages_show_links_to_an_entry(label):
    assert TERM_PATTERN.search(label), label


def test_every_entry_is_defined_under_a_known_topic():
    assert len(TERMS) == len(GLOSSARY)
    for term in GLOSSARY:
        assert term.definition.strip().endswith(".") and term.topic in TOPICS, term.anchor


# --- the glossed filter -----------------------------------------------------------------------


def _glossed(value) -> str:
    return Template("{% load glossary %}{{ value|glossed }}").render(Context({"value": value}))


@pytest.mark.parametrize("text, links", [
    ("ROC AUC (95% CI)", [("auc", "ROC AUC"), ("bootstrap-interval", "95% CI")]),
    ("Baseline HAM-D17", [("ham-d17", "HAM-D17")]),
    ("hs-CRP", [("crp", "hs-CRP")]),
    ("EUR", [("eur", "EUR")]),
    ("Brier score (lower is better)", [("brier-score", "Brier score")]),
    ("CYP2C19 metaboliser phenotype", [("cyp2c19", "CYP2C19"),
                                       ("metaboliser-phenotype", "metaboliser phenotype")]),
])
def test_terms_become_links_to_their_entries_and_the_text_reads_the_same(text, links):
    rendered = _glossed(text)
    assert re.sub(r"<[^>]+>", "", rendered) == text.replace("&", "&amp;")
    found = re.findall(r'<a class="term" href="/glossary/#([\w-]+)">(?:<abbr title="[^"]+">)?([^<]+)',
                       rendered)
    assert found == links


def test_an_abbreviation_carries_its_expansion():
    assert _glossed("AUC") == ('<a class="term" href="/glossary/#auc"><abbr title="Area under the '
                               '(ROC) curve">AUC</abbr></a>')


def test_a_term_is_linked_once_and_words_containing_it_are_not():
    rendered = _glossed("AUC and AUC; CAUCUS, IL-6 and IL-60")
    assert rendered.count('href="/glossary/#auc"') == 1 and rendered.count("#il-6") == 1
    assert "CAUCUS" in rendered and "IL-60" in rendered


def test_the_text_is_escaped_and_markup_is_left_alone():
    assert _glossed("<script>AUC</script>").startswith("&lt;script&gt;<a class=\"term\"")
    assert _glossed(mark_safe("<b>AUC</b>")) == "<b>AUC</b>"
    assert _glossed(0.731) == "0.731"


# --- the page ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_every_role_reaches_the_glossary_from_the_navigation(client, make_user, role):
    client.force_login(make_user(role))
    page = client.get(reverse("glossary")).content.decode()
    nav = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert f'<a href="{reverse("glossary")}">Glossary</a>' in nav
    for term in GLOSSARY:
        assert f'<dt id="{term.anchor}">' in page, term.anchor
    for topic in TOPICS:
        assert f'href="#topic-{topic}"' in page


@pytest.mark.django_db
def test_the_glossary_needs_sign_in(client):
    response = client.get(reverse("glossary"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
