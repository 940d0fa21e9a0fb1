"""Forms of the cohort pages: a cohort from a teaching scenario, and two cohorts to compare.

Every value is checked against an allowlist or bounds here, before a service or the ORM sees it.
Error messages name the field and never echo what was sent.
"""

from django import forms

from synthetic_data import SCENARIOS, SITE_SCENARIOS

from decision_support.courses.models import Course

from .models import Cohort

MIN_PATIENTS, MAX_PATIENTS, DEFAULT_PATIENTS = 300, 20_000, 5_000
# Seeds as the generator draws them when none is given (``services.cohort_generate``).
MAX_SEED = 2**31 - 1
# Cohort ids are BigAutoField keys; bounding them keeps huge numbers away from the database.
MAX_COHORT_ID = 2**63 - 1
NAME_MAX_CHARS = Cohort._meta.get_field("name").max_length

REQUIRED = "{name} is required"
NOT_A_SCENARIO = "scenario must be one of: {known}"
SIZE_OUT_OF_BOUNDS = f"size must be a whole number from {MIN_PATIENTS:,} to {MAX_PATIENTS:,} patients"
SIZE_BELOW_LESSON = ("size must be at least {minimum:,} patients{per_site} for the {scenario} "
                     "scenario: its lesson does not show reliably in smaller cohorts")
SIZE_ABOVE_SITES = ("size must be at most {maximum:,} patients per site for the {scenario} "
                    "scenario: its {n_sites} sites together may hold {total:,}")
SEED_OUT_OF_BOUNDS = f"seed must be empty or a whole number from 0 to {MAX_SEED:,}"
NAME_TOO_LONG = f"name must be at most {NAME_MAX_CHARS} characters"
NAME_INVALID = "name must be plain text"
NOT_A_COHORT = "{name} must be the id of a stored cohort"
NO_DEFAULT_COHORT = "b: there is no cohort of the default scenario to compare with; choose one"


def _whole_number(name_message: str, **bounds) -> dict:
    return {"invalid": name_message, "min_value": name_message, "max_value": name_message,
            "max_digits": name_message, **bounds}


def scenario_choices() -> list[tuple[str, str]]:
    """Every registered scenario, then every multi-site one, read when the form is built
    (scenarios may be added)."""
    return [(name, scenario.title) for name, scenario in (*SCENARIOS.items(),
                                                          *SITE_SCENARIOS.items())]


def n_sites(scenario: str) -> int:
    """How many sites a scenario draws its cohort at: the size the form takes is per site."""
    lesson = SITE_SCENARIOS.get(scenario)
    return len(lesson.sites) if lesson else 1


def smallest_size(scenario: str) -> int:
    """The smallest cohort (per site, for a multi-site scenario) the page offers for a
    scenario: where its lesson shows."""
    lesson = SITE_SCENARIOS.get(scenario)
    needed = lesson.min_patients_per_site if lesson else SCENARIOS[scenario].min_patients
    return max(MIN_PATIENTS, needed)


def largest_size(scenario: str) -> int:
    """The largest cohort per site: every site together at most ``MAX_PATIENTS``."""
    return MAX_PATIENTS // n_sites(scenario)


NOT_YOUR_COURSE = "course: choose one of the courses you teach."
CHOOSE_A_COURSE = "course: choose the course the cohort is for."


class CohortCreateForm(forms.Form):
    """A cohort generated from a teaching scenario: scenario, size, seed and an optional name."""

    scenario = forms.ChoiceField(label="Scenario", widget=forms.RadioSelect, initial="default")
    n_patients = forms.IntegerField(
        label="Size (patients)", min_value=MIN_PATIENTS, max_value=MAX_PATIENTS,
        initial=DEFAULT_PATIENTS,
        error_messages={"required": REQUIRED.format(name="size"), **_whole_number(SIZE_OUT_OF_BOUNDS)})
    seed = forms.IntegerField(
        label="Seed", required=False, min_value=0, max_value=MAX_SEED,
        help_text="Optional: the same scenario, size and seed give the same patients. "
                  "Left empty, a random seed is drawn and recorded.",
        error_messages=_whole_number(SEED_OUT_OF_BOUNDS))
    name = forms.CharField(
        label="Name", required=False, max_length=NAME_MAX_CHARS,
        help_text="Optional: by default the scenario, size and seed.",
        error_messages={"max_length": NAME_TOO_LONG, "null_characters_not_allowed": NAME_INVALID})

    course = forms.ModelChoiceField(
        label="Course", queryset=None, empty_label=None, required=False,
        help_text="Left out, the one course you teach.",
        error_messages={"invalid_choice": NOT_YOUR_COURSE})

    def __init__(self, *args, courses, **kwargs):
        """``courses``: those the user may create a cohort in (where they are an educator)."""
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.filter(pk__in=[c.pk for c in courses])
        choices = scenario_choices()
        field = self.fields["scenario"]
        field.choices = choices
        field.error_messages = {
            "required": REQUIRED.format(name="scenario"),
            "invalid_choice": NOT_A_SCENARIO.format(known=", ".join(name for name, _ in choices))}

    def clean_course(self):
        course = self.cleaned_data["course"]
        if course is None:
            taught = list(self.fields["course"].queryset[:2])
            if len(taught) != 1:
                raise forms.ValidationError(CHOOSE_A_COURSE)
            course = taught[0]
        return course

    def clean(self):
        """A multi-site scenario's size is per site; ``site_scenario`` names it for
        ``services.cohort_create`` (None for a single-site scenario)."""
        cleaned = super().clean()
        scenario, size = cleaned.get("scenario"), cleaned.get("n_patients")
        if scenario:
            cleaned["site_scenario"] = scenario if scenario in SITE_SCENARIOS else None
        if scenario and size is not None:
            minimum, maximum, sites = smallest_size(scenario), largest_size(scenario), n_sites(scenario)
            if size < minimum:
                self.add_error("n_patients", SIZE_BELOW_LESSON.format(
                    minimum=minimum, scenario=scenario, per_site=" per site" if sites > 1 else ""))
            elif size > maximum:
                self.add_error("n_patients", SIZE_ABOVE_SITES.format(
                    maximum=maximum, scenario=scenario, n_sites=sites, total=MAX_PATIENTS))
        return cleaned

    def clean_name(self):
        name = self.cleaned_data["name"]
        if any(ord(c) < 32 for c in name):  # no line breaks or control characters in a name
            raise forms.ValidationError(NAME_INVALID)
        return name


class _CohortIdField(forms.IntegerField):
    """A cohort id: a bounded whole number (the form finds the cohort among those it offers)."""

    def __init__(self, *, name: str, **kwargs):
        message = NOT_A_COHORT.format(name=name)
        super().__init__(min_value=1, max_value=MAX_COHORT_ID,
                         error_messages={"required": REQUIRED.format(name=name),
                                         "not_a_cohort": message, **_whole_number(message)},
                         **kwargs)



class CohortCompareForm(forms.Form):
    """Two of ``cohorts`` (those the user may see) side by side; without ``b``, the newest of
    them of the ``default`` scenario."""

    a = _CohortIdField(name="a", label="Cohort A")
    b = _CohortIdField(name="b", label="Cohort B", required=False)

    def __init__(self, *args, cohorts, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohorts = cohorts

    def _cohort(self, name: str):
        pk = self.cleaned_data[name]
        if pk is None:
            return None
        cohort = self.cohorts.filter(pk=pk).first()
        if cohort is None:
            raise forms.ValidationError(self.fields[name].error_messages["not_a_cohort"],
                                        code="not_a_cohort")
        return cohort

    def clean_a(self):
        return self._cohort("a")

    def clean_b(self):
        return self._cohort("b")

    def clean(self):
        cleaned = super().clean()
        if "b" in cleaned and cleaned["b"] is None:
            default = self.cohorts.filter(scenario="default").first()  # newest first
            if default is None:
                self.add_error("b", NO_DEFAULT_COHORT)
            else:
                cleaned["b"] = default
        return cleaned
