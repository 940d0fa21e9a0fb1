"""Forms of the exercise pages: a new exercise (its cases by number or pseudonym) and an answer."""

import re

from django import forms
from django.core.exceptions import ValidationError

from decision_support.cohorts.models import Patient
from synthetic_data import ARM_LABELS

from .models import CASE_COUNT, Exercise, ExerciseAnswer

NO_CASES = "List the cases: case numbers (14, 27, 103) or pseudonyms."
NOT_A_CASE = "Not a case number or pseudonym: {value}."
UNKNOWN_CASES = "This cohort has no case{s} {values}."
SEPARATORS = re.compile(r"[\s,;]+")
TOKEN = re.compile(r"^(?:[Cc]ase)?#?([0-9]{1,9})$|^([0-9A-Za-z]{10,64})$")


class ExerciseForm(forms.Form):
    name = forms.CharField(label="Name", max_length=Exercise._meta.get_field("name").max_length)
    cases = forms.CharField(
        label="Cases: numbers or pseudonyms", max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=f"For example 14, 27, 103; {Exercise.MIN_CASES} to {Exercise.MAX_CASES} "
                  "cases, shown in this order.")
    mode = forms.ChoiceField(label="What students see", choices=Exercise.Mode.choices,
                             widget=forms.RadioSelect, initial=Exercise.Mode.HALF_WITH_MODEL)

    def __init__(self, *args, cohort, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort = cohort

    def clean_cases(self) -> list[Patient]:
        """The listed patients of the cohort in order (repeats dropped); unknown ones named."""
        tokens = list(dict.fromkeys(t for t in SEPARATORS.split(self.cleaned_data["cases"]) if t))
        if not tokens:
            raise ValidationError(NO_CASES)
        parsed = []
        for token in tokens:
            match = TOKEN.match(token)
            if match is None:
                raise ValidationError(NOT_A_CASE.format(value=token[:64]))
            parsed.append((int(match[1]), None) if match[1] else (None, match[2]))
        if not Exercise.MIN_CASES <= len(parsed) <= Exercise.MAX_CASES:
            raise ValidationError(CASE_COUNT.format(low=Exercise.MIN_CASES,
                                                    high=Exercise.MAX_CASES, count=len(parsed)))
        patients = Patient.objects.filter(cohort=self.cohort)
        by_number = {p.number: p for p in patients.filter(
            number__in=[n for n, _ in parsed if n is not None])}
        by_name = {p.pseudonym: p for p in patients.filter(
            pseudonym__in=[s for _, s in parsed if s is not None])}
        found = [by_number.get(n) if n is not None else by_name.get(s) for n, s in parsed]
        unknown = [tokens[i] for i, p in enumerate(found) if p is None]
        if unknown:
            raise ValidationError(UNKNOWN_CASES.format(s="s" if len(unknown) > 1 else "",
                                                       values=", ".join(unknown)))
        return list(dict.fromkeys(found))


class AnswerForm(forms.Form):
    """One case's answer; ``arms``: the arms the patient is eligible for."""

    case = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=Exercise.MAX_CASES)
    arm = forms.ChoiceField(label="Treatment you choose", widget=forms.RadioSelect)
    confidence = forms.IntegerField(
        label="Confidence that it is the best arm for this patient (0 to 100)", min_value=0,
        max_value=100, widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": 1}))
    reason = forms.CharField(label="Reason", max_length=ExerciseAnswer.REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 40}))

    def __init__(self, *args, arms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["arm"].choices = [(arm, ARM_LABELS[arm]) for arm in arms]
