"""Forms of the patient and oversight pages: the patient list's search and filters, the choice
of a ranked arm, a recorded treatment decision and the prediction pause."""

import re

from django import forms
from django.core.exceptions import ValidationError

from decision_support.query_parameters import NAMED, BadQueryParameter
from models.ranking import ACTIVE_ARMS
from synthetic_data import ARM_LABELS, ARMS, DATA_DICTIONARY

from .models import PredictionPause, TreatmentDecision
from .selectors import AGE_BAND_RANGES, CaseFilters, offered_filters
from .services import PAUSE_REASON_REQUIRED

SEARCH_HELP = "A case number (14 or Case 14) or the start of a pseudonym."
NOT_A_SEARCH = "Enter a case number (14 or Case 14) or the start of a pseudonym (letters and digits)."
FILTER_NOT_OFFERED = "This filter is not available to your role."
UNKNOWN_PARAMETER = "The patient list has no such filter."
CASE_NUMBER = re.compile(r"^(?:case\s*)?([0-9]{1,9})$", re.IGNORECASE)
PSEUDONYM_PREFIX = re.compile(r"^[0-9A-Za-z]{1,64}$")
PAUSE_CONFIRM_LABEL = "I understand this pauses predictions for every user"
PAUSE_NOT_CONFIRMED = ("Tick the box to confirm that this pauses predictions for every user; "
                       "nothing was changed.")


def _any(choices) -> list[tuple[str, str]]:
    return [("", "Any"), *choices]


def _categories(name: str) -> list[tuple[str, str]]:
    return _any((c, c) for c in DATA_DICTIONARY[name].categories)


class CaseFilterForm(forms.Form):
    """The patient list's search and filters (a GET form). Only the filters the roles may use
    (``selectors.offered_filters``) are fields; ``filters()`` turns the query into
    ``selectors.CaseFilters`` or refuses it (``BadQueryParameter``: 400, the field named)."""

    q = forms.CharField(label="Case or pseudonym", required=False, max_length=64,
                        help_text=SEARCH_HELP)
    model_wrong = forms.BooleanField(
        label="Model's top choice is not the truly best arm", required=False)
    algorithms_disagree = forms.BooleanField(label="Algorithms disagree on the top arm",
                                             required=False)
    consent_withheld = forms.BooleanField(label="Consent withholds some data", required=False)
    small_sample = forms.BooleanField(label="Arm received has a small-sample model",
                                      required=False)
    arm = forms.ChoiceField(label="Arm received", required=False,
                            choices=_any((a, ARM_LABELS[a]) for a in ARMS))
    ancestry = forms.ChoiceField(label="Ancestry", required=False, choices=_categories("ancestry"))
    sex = forms.ChoiceField(label="Sex", required=False, choices=_categories("sex"))
    age_band = forms.ChoiceField(label="Age band", required=False,
                                 choices=_any((b, b) for b in AGE_BAND_RANGES))
    cyp2c19_phenotype = forms.ChoiceField(label="CYP2C19 phenotype", required=False,
                                          choices=_categories("cyp2c19_phenotype"))

    FILTER_OF = {"q": "search"}  # field -> filter name, where they differ
    QUERY_ALSO = ("page", "after")  # other query parameters of the list (``ListPositionForm``)

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        offered = offered_filters(roles)
        self.withheld = {name: self.fields.pop(name) for name in list(self.fields)
                         if self.FILTER_OF.get(name, name) not in offered}

    def clean_q(self) -> tuple[int | None, str]:
        """(case number or None, pseudonym prefix or ""); digits alone are both."""
        value = self.cleaned_data["q"].strip()
        if not value:
            return None, ""
        number = CASE_NUMBER.match(value)
        if number and not value.isdigit():
            return int(number.group(1)), ""
        if not PSEUDONYM_PREFIX.match(value):
            raise ValidationError(NOT_A_SEARCH)
        return (int(value) if number else None), value

    def filters(self) -> CaseFilters:
        """The filters asked for, or ``BadQueryParameter`` naming each parameter that cannot be
        used: one not offered to these roles, an unknown one, or a bad value."""
        known = {*self.fields, *self.withheld, *self.QUERY_ALSO}
        errors = [(name, NAMED.format(label=self.withheld[name].label, name=name,
                                      message=FILTER_NOT_OFFERED))
                  for name in self.data if name in self.withheld]
        errors += [(name, NAMED.format(label=name, name=name, message=UNKNOWN_PARAMETER))
                   for name in self.data if name not in known]
        if not errors and not self.is_valid():
            errors = [(name, NAMED.format(label=self.fields[name].label, name=name,
                                          message=" ".join(messages)))
                      for name, messages in self.errors.items()]
        if errors:
            raise BadQueryParameter(errors)
        data = dict(self.cleaned_data)
        number, prefix = data.pop("q", (None, ""))
        return CaseFilters(number=number, prefix=prefix, **data)


class ListPositionForm(forms.Form):
    """Where the patient list opens: at the page of the first patient after a case number, the
    key its Next link carries (the next page follows the last patient seen even if the list
    changed meanwhile); without it, at ``page``."""

    after = forms.IntegerField(label="After case", required=False, min_value=0,
                               max_value=2**31 - 1)


def arm_field(arms: list[str], *, label: str) -> forms.ChoiceField:
    """A choice among a patient's ranked arms (best first), the best by default; not required
    when no arm is ranked."""
    return forms.ChoiceField(label=label, choices=[(arm, ARM_LABELS[arm]) for arm in arms],
                             initial=arms[0] if arms else None, required=bool(arms))


class DecisionForm(forms.Form):
    """One patient's treatment decision. ``arms``: the arms offered (the patient's eligible arms
    on the page; every active arm when checking a POST, whose eligibility the service checks);
    ``recommended``: the model's top arm, marked in the choices."""

    arm = forms.ChoiceField(label="Treatment chosen", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason", required=False, max_length=TreatmentDecision.REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required when you choose another arm than the top recommendation.")
    # The template shows the help text itself, only when there is a recommendation.
    reason.widget.attrs["aria-describedby"] = "reason-help"

    def __init__(self, *args, arms=ACTIVE_ARMS, recommended: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["arm"].choices = [
            (arm, f"{ARM_LABELS[arm]} (top recommendation)" if arm == recommended
             else ARM_LABELS[arm])
            for arm in arms]


class PauseForm(forms.Form):
    """Pause or resume every prediction. Pausing stops the service for every user, so it needs a
    reason and a ticked confirmation; resuming restores it and needs neither. ``paused``: whether
    predictions are paused now (an empty ``action`` means the other state)."""

    ACTIONS = [("pause", "Pause predictions"), ("resume", "Resume predictions")]

    action = forms.ChoiceField(choices=ACTIONS, required=False,
                               help_text="Empty: switch to the other state.")
    # Required to pause only (the browser asks too; the page's form only pauses).
    reason = forms.CharField(label="Reason for pausing", required=False,
                             max_length=PredictionPause.REASON_MAX_CHARS,
                             widget=forms.TextInput(attrs={"required": True, "size": 60}))
    confirm = forms.BooleanField(label=PAUSE_CONFIRM_LABEL, required=False,
                                 widget=forms.CheckboxInput(attrs={"required": True}))
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, paused: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.paused = paused

    def clean(self):
        cleaned = super().clean()
        if "action" in self.errors:
            return cleaned
        cleaned["action"] = cleaned.get("action") or ("resume" if self.paused else "pause")
        if cleaned["action"] == "pause":
            if not cleaned.get("reason", "").strip() and "reason" not in self.errors:
                self.add_error("reason", PAUSE_REASON_REQUIRED)
            if not cleaned.get("confirm"):
                self.add_error("confirm", PAUSE_NOT_CONFIRMED)
        return cleaned
