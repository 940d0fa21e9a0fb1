from decimal import Decimal

from django import forms

from .aggregates import AGGREGATES
from .selectors import EPSILON_CHOICES


class AggregateExportForm(forms.Form):
    """Which aggregate and how much privacy budget to spend on it; both from fixed lists."""

    aggregate = forms.ChoiceField(
        label="Aggregate", choices=[(a.key, a.label) for a in AGGREGATES.values()],
        widget=forms.RadioSelect)
    epsilon = forms.TypedChoiceField(
        label="Epsilon (privacy budget spent by this query)",
        choices=[(str(e), str(e)) for e in EPSILON_CHOICES], coerce=Decimal,
        widget=forms.RadioSelect,
        help_text="Smaller epsilon: more noise, less budget spent.")
