"""Forms of the steward's pages: one consent decision, and the typed confirmation of an erasure.

Error messages name the field and never echo what was sent.
"""

from django import forms

from decision_support.lib.vocabulary import ConsentClass, Purpose

NOT_ONE_OF = "{name} must be one of {known}"
REQUIRED = "{name} is required"
NOT_THE_PSEUDONYM = "confirmation must be the patient's pseudonym, typed exactly"


def _choice(name: str, choices: list[tuple[str, str]]) -> forms.ChoiceField:
    known = ", ".join(value for value, _ in choices)
    return forms.ChoiceField(choices=choices, error_messages={
        "required": REQUIRED.format(name=name),
        "invalid_choice": NOT_ONE_OF.format(name=name, known=known)})


class ConsentDecisionForm(forms.Form):
    """Giving and withdrawing are the same form: only ``decision`` differs."""

    DECISIONS = [("give", "Give"), ("withdraw", "Withdraw")]

    data_class = _choice("data_class", ConsentClass.choices)
    purpose = _choice("purpose", Purpose.choices)
    decision = _choice("decision", DECISIONS)


class ErasureConfirmForm(forms.Form):
    # Not stripped: "pseudonym\r\n" is not the pseudonym.
    confirmation = forms.CharField(max_length=64, strip=False, error_messages={
        "required": REQUIRED.format(name="confirmation"),
        "max_length": NOT_THE_PSEUDONYM, "null_characters_not_allowed": NOT_THE_PSEUDONYM})

    def __init__(self, *args, pseudonym: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.pseudonym = pseudonym

    def clean_confirmation(self):
        if self.cleaned_data["confirmation"] != self.pseudonym:
            raise forms.ValidationError(NOT_THE_PSEUDONYM)
        return self.cleaned_data["confirmation"]
