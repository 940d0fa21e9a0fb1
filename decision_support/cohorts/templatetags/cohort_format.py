from django import template

register = template.Library()


@register.filter
def percent(value, digits=1):
    """0.4712 -> '47.1%'; None -> '–'; text (a suppressed "<11") as it is."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        return value
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def number(value, digits=1):
    """4.712 -> '4.7'; None -> '–'; text (a suppressed "<11") as it is."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        return value
    return f"{float(value):.{int(digits)}f}"
