"""Forms of the patient and oversight pages: the choice of a ranked arm, a recorded treatment
decision and the prediction pause."""

from django import forms

from models.ranking import ACTIVE_ARMS
from synthetic_data import ARM_LABELS

from .models import PredictionPause, TreatmentDecision


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
    ACTIONS = [("pause", "Pause predictions"), ("resume", "Resume predictions")]

    action = forms.ChoiceField(choices=ACTIONS, required=False,
                               help_text="Empty: switch to the other state.")
    reason = forms.CharField(label="Reason", required=False,
                             max_length=PredictionPause.REASON_MAX_CHARS)
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
