"""``glossed``: a plain text with each glossary term linked to its entry on the glossary page.

``{% load glossary %}{{ label|glossed }}``: the first mention of each term becomes a link to
``/glossary/#<anchor>`` (keyboard reachable, unlike a hover-only title), an abbreviation inside it
an ``<abbr>`` with its expansion. The text is escaped; nothing else in it changes, so a number
reads the same. Terms are found in plain text only, never inside markup: text marked safe that
holds markup (a "<" or an entity) is returned as it is; text marked safe without any (a template's
string literal, ``{{ "ROC AUC"|glossed }}``) escapes to itself, so it is glossed like any text.

``{% chart_codes chart %}``: the line under a chart that expands the category codes it draws
(ancestry groups, metaboliser phenotypes), each linked to its entry: a chart's text cannot link.
"""

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeData, mark_safe

from decision_support.lib.glossary import TERM_PATTERN, codes_in, term_for

register = template.Library()


@register.filter
def glossed(value):
    if isinstance(value, SafeData) and ("<" in value or "&" in value):
        return value
    text = "" if value is None else str(value)
    page = reverse("glossary")
    linked, parts, end = set(), [], 0
    for match in TERM_PATTERN.finditer(text):
        term = term_for(match.group(0))
        if term.anchor in linked:
            continue
        linked.add(term.anchor)
        shown = (format_html('<abbr title="{}">{}</abbr>', term.expansion, match.group(0))
                 if term.expansion else escape(match.group(0)))
        parts += [escape(text[end:match.start()]),
                  format_html('<a class="term" href="{}#{}">{}</a>', page, term.anchor, shown)]
        end = match.end()
    parts.append(escape(text[end:]))
    return mark_safe("".join(parts))  # every part escaped above


@register.inclusion_tag("charts/_codes.html")
def chart_codes(chart):
    return {"terms": codes_in(chart.labels()), "page": reverse("glossary")}
