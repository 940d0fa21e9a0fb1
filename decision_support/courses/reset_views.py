"""A course's reset and archive pages, for its educators (``accounts.access.POLICIES``; the gate
scopes ``course_id``). Each shows what its action changes and asks for the course's name typed in
(``reset_forms``); a wrong name answers 400 naming the field, and nothing changes."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from decision_support.lib.form_errors import field_errors

from .models import Course
from .reset import course_archive as archive_service
from .reset import course_reset as reset_service
from .reset import reset_preview
from .reset_forms import CourseConfirmForm

RESET_DONE = ("The course was reset: {decisions} decisions, {reviews} reviews, {cohorts} cohorts "
              "({training_runs} training runs) and {seminar_packs} seminar packs removed; "
              "{consent_restored} consent decisions restored to the seed.")
ARCHIVE_DONE = "The course is archived and read-only; {join_codes_revoked} join codes revoked."


def _confirmed_action(request, course_id: int, *, action: str, service, done: str):
    course = get_object_or_404(Course, pk=course_id)
    form = CourseConfirmForm(request.POST if request.method == "POST" else None, course=course)
    if request.method == "POST":
        if form.is_valid():
            counts = service(course=course, actor=request.user, purpose=request.purpose)
            messages.success(request, done.format(**counts))
            return redirect(f"course_{action}", course_id=course.pk)
    status = 400 if form.is_bound else 200
    return render(request, "courses/reset.html", {
        "course": course, "action": action, "form": form, "errors": field_errors(form),
        "preview": reset_preview(course) if action == "reset" else None,
    }, status=status)


def course_reset(request, course_id: int):
    """After a class: the course back to how it began (``reset.course_reset``)."""
    return _confirmed_action(request, course_id, action="reset", service=reset_service,
                             done=RESET_DONE)


def course_archive(request, course_id: int):
    """After a class: the course kept, read-only (``reset.course_archive``)."""
    return _confirmed_action(request, course_id, action="archive", service=archive_service,
                             done=ARCHIVE_DONE)
