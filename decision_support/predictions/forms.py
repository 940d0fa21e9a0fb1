"""Forms of the patient and oversight pages: settings read from a page's query, the choice of a
ranked arm, a recorded treatment decision and the prediction pause."""

from django import forms

from decision_support.query_parameters import refuse_bad_numbers
from models.ranking import ACTIVE_ARMS

from .models import PredictionPause, TreatmentDecision
from .selectors import ARM_LABELS


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


def arm_field(arms: list[str], *, label: str) -> forms.ChoiceField:
    """A choice among a patient's ranked arms (best first), the best by default; not required
    when no arm is ranked."""
    return forms.ChoiceField(label=label, choices=[(arm, ARM_LABELS[arm]) for arm in arms],
                             initial=arms[0] if arms else None, required=bool(arms))


def query_settings(form_class, query, **form_kwargs):
    """Validate the GET query: a bad number is refused (400, ``refuse_bad_numbers``); every other
    valid field is used, every invalid one falls back to its default with an error naming the
    field. ``form_kwargs`` go to the form (an arm form's ``arms``). Returns the form (showing what
    is in use), the settings and the error messages."""
    defaults = {name: field.initial for name, field in form_class(**form_kwargs).fields.items()}
    if not any(name in query for name in defaults):
        return form_class(initial=defaults, **form_kwargs), defaults, []
    data = {name: query.get(name, str(default)) for name, default in defaults.items()}
    form = form_class(data, **form_kwargs)
    refuse_bad_numbers(form)
    chosen = {name: form.cleaned_data.get(name, default) for name, default in defaults.items()}
    errors = [f"{form.fields[name].label}: {' '.join(messages)} Showing the default, "
              f"{_shown(form.fields[name], defaults[name])}, instead."
              for name, messages in form.errors.items()]
    form.data = {**data, **{name: str(defaults[name]) for name in form.errors}}
    return form, chosen, errors


def _shown(field, value) -> str:
    return (dict(field.choices).get(value, value) if isinstance(field, forms.ChoiceField)
            else str(value))
