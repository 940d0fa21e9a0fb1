"""The audit viewer's filters: a GET form whose cleaned values are the only input the query uses.

Every choice is an allowlist (roles, purposes and outcomes from their enumerations, actions from
the values present in the log); free-text fields are matched exactly and must look like a
username or a reference. Parameter names other than these fields are ignored, so nothing from the
query string ever becomes an ORM lookup.
"""

from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q

from decision_support.accounts.roles import Role
from decision_support.lib.vocabulary import Purpose

from .models import AuditEntry, Outcome

ANY = ("", "Any")
DATES_REVERSED = "“Date to” must be on or after “Date from”."
BAD_REFERENCE = "Enter a reference as shown in the log: letters, digits, “-”, “_”, “.” or “:”."
BAD_USERNAME = "Enter a username as shown in the log: letters, digits and @ . + - _ only."


def action_choices() -> list[tuple[str, str]]:
    """The distinct actions present in the log, sorted."""
    actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
    return [ANY, *((action, action) for action in actions)]


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Actor (username)", required=False, max_length=150,
                            validators=[RegexValidator(r"^[\w.@+-]+\Z", BAD_USERNAME)])
    role = forms.ChoiceField(label="Role", required=False, choices=[ANY, *Role.choices])
    purpose = forms.ChoiceField(label="Purpose", required=False,
                                choices=[ANY, *((value, f"{label} ({value})")
                                                for value, label in Purpose.choices)])
    action = forms.ChoiceField(label="Action", required=False)
    outcome = forms.ChoiceField(label="Outcome", required=False, choices=[ANY, *Outcome.choices])
    object_ref = forms.CharField(label="Object reference (pseudonym)", required=False,
                                 max_length=100,
                                 validators=[RegexValidator(r"^[\w.:-]+\Z", BAD_REFERENCE)])
    date_from = forms.DateField(label="Date from (UTC)", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="Date to (UTC)", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = action_choices()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", DATES_REVERSED)
        return cleaned

    def filters(self) -> dict[str, str]:
        """The filters in use, as text (for the audit entry of this read)."""
        return {name: value.isoformat() if hasattr(value, "isoformat") else value
                for name, value in self.cleaned_data.items() if value}

    def query(self) -> Q:
        """The filters as one ``Q``; call only on a valid form."""
        data = self.cleaned_data
        q = Q()
        for name in ("actor", "purpose", "action", "outcome", "object_ref"):
            if data[name]:
                q &= Q(**{name: data[name]})
        if data["role"]:
            # ``role`` holds the actor's roles joined by commas ("educator,data_steward").
            role = data["role"]
            q &= (Q(role=role) | Q(role__startswith=f"{role},") | Q(role__endswith=f",{role}")
                  | Q(role__contains=f",{role},"))
        # Whole UTC days: from the start of ``date_from`` to the end of ``date_to``.
        if data["date_from"]:
            q &= Q(created_at__gte=datetime.combine(data["date_from"], time.min, tzinfo=UTC))
        if data["date_to"] and data["date_to"] < date.max:
            q &= Q(created_at__lt=datetime.combine(data["date_to"] + timedelta(days=1), time.min,
                                                   tzinfo=UTC))
        return q
