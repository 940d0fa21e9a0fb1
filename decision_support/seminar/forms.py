"""Forms of the seminar pages: a reviewer's rubric, the review filter, a new seminar pack, cases
added to a pack from the patient pages."""

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
NEW_PACK = "new"
NEW_PACK_NEEDS_NAME = "Name the new pack."


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


class SeminarPackAddForm(forms.Form):
    """Cases of one cohort (their pseudonyms, ``patients``) for a pack of the cohort's course, or
    for a new pack (``pack`` = ``new``, with a ``name``). ``clean_patients`` finds them in the
    cohort, in the order given; ``pack`` is the chosen pack, or None for a new one."""

    patients = forms.Field(label="Cases", widget=forms.MultipleHiddenInput)
    pack = forms.ChoiceField(label="Seminar pack")
    name = forms.CharField(label="Name of the new pack", required=False,
                           max_length=SeminarPack._meta.get_field("name").max_length)

    def __init__(self, *args, cohort, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        self.packs = {str(p.pk): p for p in SeminarPack.objects.filter(course=cohort.course_id)}
        self.fields["pack"].choices = [(NEW_PACK, "A new pack"),
                                       *((pk, p.name) for pk, p in self.packs.items())]

    def clean_patients(self) -> list[Patient]:
        names = list(dict.fromkeys(self.cleaned_data["patients"]))
        malformed = [n for n in names if not PSEUDONYM.match(n)]
        if malformed:
            raise ValidationError(NOT_A_PSEUDONYM.format(name=malformed[0][:64]))
        if len(names) > SeminarPack.MAX_CASES:
            raise ValidationError(TOO_MANY_CASES.format(limit=SeminarPack.MAX_CASES,
                                                        count=len(names)))
        found = {p.pseudonym: p for p in Patient.objects.filter(cohort=self.cohort,
                                                                 pseudonym__in=names)
                 .select_related("cohort")}
        unknown = [n for n in names if n not in found]
        if unknown:
            raise ValidationError(UNKNOWN_PSEUDONYMS.format(s="s" if len(unknown) > 1 else "",
                                                            names=", ".join(unknown)))
        return [found[n] for n in names]

    def clean_pack(self) -> SeminarPack | None:
        return self.packs.get(self.cleaned_data["pack"])

    def clean(self):
        data = super().clean()
        if "pack" in data and data["pack"] is None and not data.get("name", "").strip():
            self.add_error("name", NEW_PACK_NEEDS_NAME)
        return data
