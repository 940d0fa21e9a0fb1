"""Template filters for suppressed aggregates: a hidden value reads "<11"."""

from django import template

from decision_support.cohorts.templatetags.cohort_format import percent

from ..suppression import SUPPRESSED

register = template.Library()


@register.filter
def shown_count(value):
    """A count as shown: "<11" when hidden, "–" when there is none."""
    if value is None or value == "":
        return "–"
    return value


@register.filter
def shown_percent(value, digits=1):
    """A share as shown: "<11" when hidden, else ``percent``."""
    if isinstance(value, str) and value == SUPPRESSED:
        return SUPPRESSED
    return percent(value, digits)
