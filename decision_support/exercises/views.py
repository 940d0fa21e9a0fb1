"""Case-exercise pages: educators make, open, follow and reveal an exercise and export its
results; students answer on their own devices and see their own result.

Who may open them (and in which course), the purpose of use and the audit entry of each sensitive
read are the access gate's (``accounts.access.POLICIES``); the writes are audited by their
services. A student page never shows another student's answer; the class results show counts per
arm, never names.
"""

from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from decision_support.accounts.access import audit_context, hidden_values
from decision_support.accounts.roles import Role
from decision_support.cohorts.models import Cohort
from decision_support.consent.reads import consented_patient
from decision_support.lib.csv_safety import csv_download
from decision_support.lib.form_errors import field_errors
from decision_support.lib.vocabulary import ConsentClass
from decision_support.predictions import pages
from decision_support.predictions.selectors import decision_options, patient_predictions
from decision_support.lib import printing
from synthetic_data import ARM_LABELS

from . import charts
from .forms import AnswerForm, ExerciseForm
from .models import Exercise
from .selectors import (class_results, exercise_cohorts, exercises_for, live_counts,
                        results_csv_rows, student_answers, student_result)
from .services import exercise_answer as answer_service
from .services import exercise_assignment, exercise_create as create_service
from .services import exercise_open as open_service
from .services import exercise_reveal as reveal_service

# What a case shows before treatment: the received arm and its observed outcome would give away
# part of the answer, so the exercise leaves out those data classes.
PRESENTING_CLASSES = ("demographic", "clinical", "biomarker", "genetic", "epigenetic")
POLL_SECONDS = 3
# A case is shown as students may see it, also on the educator's projector.
AUDIENCE = frozenset({Role.STUDENT})


def _service_errors(error: ValidationError) -> list[tuple[str, str, str]]:
    """A service's refusal, keyed by field (``arm``) or by what it is about (``state``)."""
    return [(name, name.capitalize(), message) for name, messages in error.message_dict.items()
            for message in messages]


def _exercise(exercise_id: int) -> Exercise:
    return get_object_or_404(Exercise.objects.select_related("course", "cohort", "run"),
                             pk=exercise_id)


def _case(exercise: Exercise, query) -> tuple[list, object]:
    """The exercise's cases and the one ``?case=`` names (the first by default); 404 for another."""
    cases = exercise.ordered_cases()
    raw = query.get("case", "")
    if not raw:
        return cases, cases[0]
    found = next((c for c in cases if str(c.position) == raw), None)
    if found is None:
        raise Http404("no such case")
    return cases, found


def _case_view(case, exercise: Exercise, *, purpose: str, shows_model: bool) -> dict:
    """One case as a student sees it (on their device or the projector): the values consent
    allows for this purpose and students may see, before treatment; with the model, the ranking
    and SHAP of the exercise's run, as the patient page shows them."""
    consented = consented_patient(case.patient, purpose=purpose)
    hidden = hidden_values(AUDIENCE)
    predictions = (patient_predictions(consented, exercise.run, hidden=hidden)
                   if shows_model else None)
    page = pages.patient_page(consented.values, predictions, exercise.run, hidden)
    page["groups"] = [g for g in page["groups"] if g["data_class"] in PRESENTING_CLASSES]
    page["withheld_labels"] = [ConsentClass(c).label for c in sorted(consented.withheld)]
    return page


# --- lists and the educator's control page --------------------------------------------------


def exercise_list(request):
    return render(request, "exercises/exercise_list.html", {
        "rows": exercises_for(request.user), "cohorts": exercise_cohorts(request.user)})


def exercise_create(request, cohort_id: int):
    cohort = get_object_or_404(Cohort, pk=cohort_id)
    form = ExerciseForm(request.POST if request.method == "POST" else None, cohort=cohort)
    context = {"form": form, "cohort": cohort}
    if request.method != "POST":
        return render(request, "exercises/exercise_form.html", context)
    if form.is_valid():
        data = form.cleaned_data
        try:
            exercise = create_service(actor=request.user, purpose=request.purpose, cohort=cohort,
                                      name=data["name"], mode=data["mode"], patients=data["cases"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("exercise_detail", exercise_id=exercise.pk)
    return render(request, "exercises/exercise_form.html",
                  {**context, "errors": field_errors(form)}, status=400)


def exercise_detail(request, exercise_id: int):
    exercise = _exercise(exercise_id)
    return render(request, "exercises/exercise_detail.html", {
        "exercise": exercise, "counts": live_counts(exercise), "poll_seconds": POLL_SECONDS,
        "join_url": request.build_absolute_uri(reverse("exercise_answer", args=[exercise.pk]))})


def exercise_counts(request, exercise_id: int):
    """The live view's numbers as JSON (polled by ``exercises/live.js``); read from the database
    on every request, so any worker answers alike."""
    response = JsonResponse(live_counts(_exercise(exercise_id)))
    response["Cache-Control"] = "no-store"
    return response


def _advance(request, exercise_id: int, service):
    exercise = _exercise(exercise_id)
    try:
        service(actor=request.user, purpose=request.purpose, exercise=exercise)
    except ValidationError as error:
        return render(request, "exercises/exercise_detail.html", {
            "exercise": exercise, "counts": live_counts(exercise), "poll_seconds": POLL_SECONDS,
            "errors": _service_errors(error)}, status=400)
    return redirect("exercise_detail", exercise_id=exercise.pk)


def exercise_open(request, exercise_id: int):
    return _advance(request, exercise_id, open_service)


def exercise_reveal(request, exercise_id: int):
    return _advance(request, exercise_id, reveal_service)


# --- students -------------------------------------------------------------------------------


def _answer_page(request, exercise, cases, case, form, *, shows_model, errors=()):
    """The case and the answer form; after bad input (``errors``), the form alone with its
    errors (400), without the case's data, so the refusal carries no patient data."""
    answers = student_answers(exercise, request.user)
    view = None
    if not errors:
        view = _case_view(case, exercise, purpose=request.purpose, shows_model=shows_model)
        audit_context(request, object_type="exercise", object_ref=str(exercise.pk),
                      case=case.position, pseudonym=case.patient.pseudonym,
                      shows_model=shows_model, withheld=view["withheld_labels"])
    following = next((c for c in cases if c.position > case.position), None)
    return render(request, "exercises/answer.html", {
        "exercise": exercise, "cases": cases, "case": case, "view": view, "form": form,
        "answers": answers, "answer": answers.get(case.position), "shows_model": shows_model,
        "errors": errors, "next_case": following,
        "chart_specs": view.get("chart_specs", []) if view else []},
        status=400 if errors else 200)


def exercise_answer(request, exercise_id: int):
    """A student's page: one case at a time (``?case=``), then their choice, confidence and
    reason. Bad input: 400 naming the field, nothing written."""
    exercise = _exercise(exercise_id)
    if exercise.state == Exercise.State.DRAFT:
        raise Http404("not open yet")
    shows_model = exercise_assignment(actor=request.user, exercise=exercise).shows_model
    source = request.POST if request.method == "POST" else request.GET
    cases, case = _case(exercise, source)
    # The arms offered follow the consented data, as on the patient page: with clinical data
    # withheld, the prior failures (and so the second-line arms) are not revealed by the choices.
    arms = decision_options(consented_patient(case.patient, purpose=request.purpose), None).arms
    if request.method != "POST":
        mine = student_answers(exercise, request.user).get(case.position)
        initial = ({"arm": mine.arm, "confidence": mine.confidence, "reason": mine.reason}
                   if mine else {})
        form = AnswerForm(initial={"case": case.position, **initial}, arms=arms)
        return _answer_page(request, exercise, cases, case, form, shows_model=shows_model)
    form = AnswerForm(request.POST, arms=arms)
    errors = field_errors(form)
    if not errors:
        data = form.cleaned_data
        try:
            answer_service(actor=request.user, purpose=request.purpose, exercise=exercise,
                           case=case, arm=data["arm"], confidence=data["confidence"],
                           reason=data["reason"])
        except ValidationError as error:
            errors = _service_errors(error)
        else:
            following = next((c for c in cases if c.position > case.position), None)
            target = reverse("exercise_answer", args=[exercise.pk])
            return redirect(f"{target}?case={following.position}" if following
                            else reverse("exercise_my_result", args=[exercise.pk]))
    return _answer_page(request, exercise, cases, case, form, shows_model=shows_model,
                        errors=errors)


def exercise_my_result(request, exercise_id: int):
    """The student's own result, after the reveal: only their answers, never anyone else's."""
    exercise = _exercise(exercise_id)
    result = student_result(exercise, request.user)
    audit_context(request, object_type="exercise", object_ref=str(exercise.pk),
                  revealed=exercise.revealed)
    return render(request, "exercises/my_result.html", {
        "exercise": exercise, "result": result,
        "answered": len(student_answers(exercise, request.user))})


# --- the reveal: class results, presenter mode, exports -------------------------------------


def _results(request, exercise) -> dict | None:
    results = class_results(exercise)
    audit_context(request, object_type="exercise", object_ref=str(exercise.pk),
                  revealed=exercise.revealed)
    return results


def exercise_results(request, exercise_id: int):
    exercise = _exercise(exercise_id)
    results = _results(request, exercise)
    figures = charts.result_charts(results["scores"]) if results else []
    return render(request, "exercises/results.html", {
        "exercise": exercise, "results": results, "figures": figures,
        "chart_specs": [chart.as_json() for chart in figures]})


def exercise_present(request, exercise_id: int):
    """Presenter mode: one case per screen in large type (``?case=``), the features without the
    model; after the reveal, the class's choices beside the model's and the best arm; n/p and the
    arrow keys move between screens (``exercises/present.js``)."""
    exercise = _exercise(exercise_id)
    cases, case = _case(exercise, request.GET)
    view = _case_view(case, exercise, purpose=request.purpose, shows_model=False)
    results = class_results(exercise)
    audit_context(request, object_type="exercise", object_ref=str(exercise.pk),
                  case=case.position, pseudonym=case.patient.pseudonym,
                  revealed=exercise.revealed)
    index = cases.index(case)
    return render(request, "exercises/present.html", {
        "exercise": exercise, "case": case, "view": view, "total": len(cases),
        "previous": cases[index - 1] if index else None,
        "next": cases[index + 1] if index + 1 < len(cases) else None,
        "reveal": results["cases"][index] if results else None,
        "scores": results["scores"] if results else None})


def exercise_csv(request, exercise_id: int):
    exercise = _exercise(exercise_id)
    rows = results_csv_rows(exercise)
    if rows is None:
        return redirect("exercise_results", exercise_id=exercise.pk)
    audit_context(request, object_type="exercise", object_ref=str(exercise.pk),
                  rows=len(rows) - 1)
    return csv_download(f"exercise-{exercise.pk}-results.csv", rows)


def exercise_pdf(request, exercise_id: int):
    """A one-page summary of the reveal (no names), rendered as the case packets are."""
    exercise = _exercise(exercise_id)
    if not exercise.revealed:
        return redirect("exercise_results", exercise_id=exercise.pk)
    results = _results(request, exercise)
    html = render_to_string("exercises/summary_pdf.html",
                            {"exercise": exercise, "results": results, "arm_labels": ARM_LABELS})
    return printing.pdf_download(html, f"exercise-{exercise.pk}-summary.pdf")
