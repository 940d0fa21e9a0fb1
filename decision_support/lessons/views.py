"""Lesson plans: the list, one plan per page, and the same plan as a PDF.

The access gate admits every role; ``selectors.shown_plan`` decides what a role sees (the
answer key for educators only). The PDF is rendered as the case packets are
(``lib.printing``: static files from disk, nothing fetched).
"""

from dataclasses import replace

from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string

from decision_support.lib import printing
from synthetic_data import LESSON_PLANS

from .selectors import lesson_plan_list, shown_plan


def _plan(request, lesson: str):
    if lesson not in LESSON_PLANS:
        raise Http404("no such lesson plan")
    return shown_plan(lesson, roles=request.roles, course_ids=request.course_ids)


def lesson_list(request):
    return render(request, "lessons/list.html", {"plans": lesson_plan_list()})


def lesson_detail(request, lesson: str):
    return render(request, "lessons/detail.html", {"plan": _plan(request, lesson)})


def lesson_pdf(request, lesson: str):
    plan = _plan(request, lesson)
    # On paper a link must name the server it came from.
    plan = replace(plan, steps=tuple(replace(step, url=request.build_absolute_uri(step.url))
                                     if step.url else step for step in plan.steps))
    html = render_to_string("lessons/plan_pdf.html", {"plan": plan})
    return printing.pdf_download(html, f"lesson-{plan.name}.pdf")
