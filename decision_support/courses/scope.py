"""The course an object named in a request belongs to, for the access gate (``accounts.access``).

A URL names its object by a keyword argument (``cohort_id``, ``pseudonym``, ...) and some pages by
query parameters (``Policy.scoped_query``); ``COURSE_OF`` maps each such name to the query that
finds the object's course. One query per object; a value that names nothing (or is malformed)
gives ``None``, and the view answers it as it always does (404, 400 or 422).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from decision_support.cohorts.models import Cohort, GenerationJob, Patient
from decision_support.exercises.models import Exercise
from decision_support.registry.models import TrainingJob, TrainingRun
from decision_support.seminar.models import SeminarPack

from .models import Course

MAX_ID_DIGITS = 18  # ids are 64-bit; longer strings name nothing


def _by_id(queryset, field: str) -> Callable[[object], int | None]:
    def course(value) -> int | None:
        text = str(value)
        if not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS:
            return None
        return queryset.filter(pk=int(text)).values_list(field, flat=True).first()
    return course


def _patient_course(value) -> int | None:
    return (Patient.objects.filter(pseudonym=str(value)[:64])
            .values_list("cohort__course_id", flat=True).first())


COURSE_OF: dict[str, Callable[[object], int | None]] = {
    "course_id": _by_id(Course.objects, "pk"),
    "cohort_id": _by_id(Cohort.objects, "course_id"),
    "generation_job_id": _by_id(GenerationJob.objects, "course_id"),
    "pseudonym": _patient_course,
    "run_id": _by_id(TrainingRun.objects, "cohort__course_id"),
    "job_id": _by_id(TrainingJob.objects, "cohort__course_id"),
    "pack_id": _by_id(SeminarPack.objects, "course_id"),
    "exercise_id": _by_id(Exercise.objects, "course_id"),
}


def courses_named(kwargs: Mapping[str, object], query: Mapping[str, str],
                  scoped_query: Iterable[tuple[str, str]]) -> set[int] | None:
    """The courses of the objects a request names (its URL keyword arguments, and the query
    parameters its policy scopes, as (parameter, the kind of object it names)); ``None`` when it
    names none. An object that does not exist adds nothing."""
    named = [(kind, value) for kind, value in kwargs.items() if kind in COURSE_OF]
    named += [(kind, query[param]) for param, kind in scoped_query if query.get(param)]
    if not named:
        return None
    return {course for kind, value in named if (course := COURSE_OF[kind](value)) is not None}
