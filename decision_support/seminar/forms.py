"""Forms of the seminar pages: a reviewer's rubric, the review filter, a new seminar pack."""

import re

from django import forms
from django.core.exceptions import ValidationError

from decision_support.cohorts.models import Patient

from models.algorithms import ALGORITHM_LABELS, ALGORITHMS
from models.features import VARIANTS, VARIANT_LABELS

from .models import RATING_CHOICES, RUBRIC, Annotation, SeminarPack

UNKNOWN_PSEUDONYMS = "Unknown pseudonym{s}: {names}."
NOT_A_PSEUDONYM = "Not a pseudonym: {name} (letters and digits only)."
NO_CASES = "Paste at least one pseudonym, one per line."
TOO_MANY_CASES = "A pack holds at most {limit} cases; you listed {count}."
PSEUDONYM = re.compile(r"^[0-9A-Za-z]{1,64}$")


def _rating(name: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=RUBRIC[name], choices=RATING_CHOICES, coerce=int,
                                  widget=forms.RadioSelect)


class AnnotationForm(forms.Form):
    """The rubric: three ratings from 1 to 5 (all required) and an optional comment."""

    plausibility = _rating("plausibility")
    actionability = _rating("actionability")
    fairness_concern = _rating("fairness_concern")
    comment = forms.CharField(label="Comment", required=False,
                              max_length=Annotation.COMMENT_MAX_CHARS,
                              widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class ModelAnnotationForm(AnnotationForm):
    """The rubric for one model of an arm; ``algorithm`` and ``variant`` name the model."""

    algorithm = forms.ChoiceField(choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS],
                                  widget=forms.HiddenInput)
    variant = forms.ChoiceField(choices=[(v, VARIANT_LABELS[v]) for v in VARIANTS],
                                widget=forms.HiddenInput)


class ReviewFilterForm(forms.Form):
    """``/reviews/``: every annotation, or those of one kind, one model or one case."""

    kind = forms.ChoiceField(label="Kind", required=False,
                             choices=[("", "Models and cases"), ("model", "Models"),
                                      ("case", "Cases")])
    model = forms.IntegerField(label="Model number", required=False, min_value=1,
                               max_value=2**63 - 1)
    patient = forms.CharField(label="Case (pseudonym)", required=False, max_length=64)

    def clean_patient(self):
        value = self.cleaned_data["patient"].strip()
        if value and not PSEUDONYM.match(value):
            raise ValidationError(NOT_A_PSEUDONYM.format(name=value[:64]))
        return value


class SeminarPackForm(forms.Form):
    name = forms.CharField(label="Name", max_length=SeminarPack._meta.get_field("name").max_length)
    pseudonyms = forms.CharField(
        label="Cases: pseudonyms, one per line", max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40}),
        help_text="Copy them from the patient list; the packets follow this order.")
    questions = forms.CharField(label="Discussion questions", required=False,
                                max_length=SeminarPack.QUESTIONS_MAX_CHARS,
                                widget=forms.Textarea(attrs={"rows": 6, "cols": 60}))

    def __init__(self, *args, patients, **kwargs):
        """``patients``: those the user may put in a pack (of the courses they teach)."""
        super().__init__(*args, **kwargs)
        self.patients = patients

    def clean_pseudonyms(self) -> list[Patient]:
        """The listed patients in order (duplicates dropped); every unknown pseudonym named."""
        names = list(dict.fromkeys(line.strip() for line in self.cleaned_data["pseudonyms"]
                                   .splitlines() if line.strip()))
        if not names:
            raise ValidationError(NO_CASES)
        malformed = [n for n in names if not PSEUDONYM.match(n)]
        if malformed:
            raise ValidationError(NOT_A_PSEUDONYM.format(name=malformed[0][:64]))
        if len(names) > SeminarPack.MAX_CASES:
            raise ValidationError(TOO_MANY_CASES.format(limit=SeminarPack.MAX_CASES,
                                                        count=len(names)))
        found = {p.pseudonym: p for p in self.patients.filter(pseudonym__in=names)
                 .select_related("cohort")}
        unknown = [n for n in names if n not in found]
        if unknown:
            raise ValidationError(UNKNOWN_PSEUDONYMS.format(s="s" if len(unknown) > 1 else "",
                                                            names=", ".join(unknown)))
        return [found[n] for n in names]
