"""Why a variable or a treatment could matter (``synthetic_data.biology``), wherever a page names
one.

``{% why_it_matters name %}``: a closed ``<details>`` "Why this could matter" with the biology (for
an arm, its mechanism), what the simulation encodes, the caveat, the seed topic and the sources;
nothing for a name without an entry (an identifier). ``labelled=True`` puts the variable's label in
the summary, for lists where no label stands beside it. ``{{ name|biology }}``: the entry itself,
for pages printed whole (the case packet: a closed ``<details>`` prints nothing).
"""

from django import template

from synthetic_data import ARM_LABELS, DATA_DICTIONARY, biology_of

register = template.Library()


def _label(name: str) -> str:
    return ARM_LABELS.get(name) or DATA_DICTIONARY[name].label


@register.inclusion_tag("cohorts/_why.html")
def why_it_matters(name: str, *, labelled: bool = False) -> dict:
    entry = biology_of(name)
    return {"entry": entry, "label": _label(name) if entry else "", "labelled": labelled}


@register.filter
def biology(name: str):
    return biology_of(name)
