"""Writes: a reviewer's annotation of a model or a case, an educator's seminar pack and the cases
added to it later.

Each write and its audit entry commit together (``review.model``, ``review.case``,
``seminar_pack.create``, ``seminar_pack.add_cases``). The comment and question texts stay out of the audit log, which
outlives erasure.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from decision_support.audit.services import audit_record
from decision_support.cohorts.models import Patient
from decision_support.courses.readonly import course_check_open
from decision_support.registry.models import TrainedModel

from .models import RUBRIC, Annotation, SeminarPack, SeminarPackCase

PACK_ONE_COURSE = "A seminar pack's cases must all come from cohorts of one course."
PACK_OTHER_COURSE = ("{cases}: from a cohort of another course than the pack's; a pack holds cases "
                     "of its own course only.")
PACK_HAS_CASE = "{cases}: already in the pack “{pack}”."
PACK_FULL = ("The pack “{pack}” holds {count} of at most {limit} cases: adding {adding} would make "
             "{total}.")
NO_CASES_TO_ADD = "Choose at least one case to add."


def annotation_create(*, actor, purpose: str, model: TrainedModel | None = None,
                      patient: Patient | None = None, plausibility: int, actionability: int,
                      fairness_concern: int, comment: str = "") -> Annotation:
    """Record one reviewer's rubric and comment on ``model`` or on ``patient``'s case (exactly
    one of them). Raises ``ValidationError`` keyed by field and writes nothing on bad input, and
    ``CourseArchived`` in an archived course."""
    annotation = Annotation(
        reviewer=actor.get_username(), actor_id=actor.pk, model=model, patient=patient,
        plausibility=plausibility, actionability=actionability, fairness_concern=fairness_concern,
        comment=(comment or "").strip(), created_at=timezone.now())
    annotation.full_clean()
    if model is not None:
        action, object_type, object_ref = "review.model", "model", str(model.pk)
    else:
        action, object_type, object_ref = "review.case", "patient", patient.pseudonym
    cohort = model.run.cohort if model is not None else patient.cohort
    with transaction.atomic():
        course_check_open(cohort.course_id)
        annotation.save()
        audit_record(actor=actor, purpose=purpose, action=action,
                     object_type=object_type, object_ref=object_ref, outcome="allowed",
                     detail={"annotation": annotation.pk,
                             **{name: getattr(annotation, name) for name in RUBRIC},
                             "comment_given": bool(annotation.comment)})
    return annotation


def seminar_pack_create(*, actor, purpose: str, name: str, patients: list[Patient],
                        questions: str = "") -> SeminarPack:
    """A named pack of cases in the given order, with discussion questions. It belongs to the
    course of its cases, which must all be of one course, and not an archived one."""
    courses = {patient.cohort.course_id for patient in patients}
    if len(courses) != 1:
        raise ValidationError({"patients": PACK_ONE_COURSE})
    pack = SeminarPack(name=name.strip(), course_id=courses.pop(), created_by=actor.get_username(),
                       actor_id=actor.pk,
                       questions=(questions or "").strip(), created_at=timezone.now())
    pack.full_clean()
    with transaction.atomic():
        course_check_open(pack.course_id)
        pack.save()
        SeminarPackCase.objects.bulk_create(
            SeminarPackCase(pack=pack, patient=patient, position=i)
            for i, patient in enumerate(patients, start=1))
        audit_record(actor=actor, purpose=purpose,
                     action="seminar_pack.create", object_type="seminar_pack",
                     object_ref=str(pack.pk), outcome="allowed",
                     detail={"cases": [p.pseudonym for p in patients],
                             "questions_given": bool(pack.questions)})
    return pack


def _labels(patients) -> str:
    return ", ".join(f"{p.case_label} ({p.pseudonym})" for p in patients)


def seminar_pack_add_cases(*, actor, purpose: str, pack: SeminarPack,
                           patients: list[Patient]) -> list[SeminarPackCase]:
    """Add cases to the end of a pack, in the given order. Raises ``ValidationError`` keyed by
    field and writes nothing for no case or a case of another course than the pack's
    (``patients``), a case already in the pack (``patients``), or more cases than the pack may
    hold (``pack``: ``SeminarPack.MAX_CASES``)."""
    patients = list(dict.fromkeys(patients))
    if not patients:
        raise ValidationError({"patients": NO_CASES_TO_ADD})
    foreign = [p for p in patients if p.cohort.course_id != pack.course_id]
    if foreign:
        raise ValidationError({"patients": PACK_OTHER_COURSE.format(cases=_labels(foreign))})
    with transaction.atomic():
        course_check_open(pack.course_id)
        # The pack row locked (PostgreSQL): two additions at once cannot overfill it.
        pack = SeminarPack.objects.select_for_update().get(pk=pack.pk)
        present = set(pack.cases.values_list("patient_id", flat=True))
        again = [p for p in patients if p.pk in present]
        if again:
            raise ValidationError({"patients": PACK_HAS_CASE.format(cases=_labels(again),
                                                                    pack=pack.name)})
        if len(present) + len(patients) > SeminarPack.MAX_CASES:
            raise ValidationError({"pack": PACK_FULL.format(
                pack=pack.name, count=len(present), limit=SeminarPack.MAX_CASES,
                adding=len(patients), total=len(present) + len(patients))})
        last = max(pack.cases.values_list("position", flat=True), default=0)
        cases = SeminarPackCase.objects.bulk_create(
            SeminarPackCase(pack=pack, patient=patient, position=last + i)
            for i, patient in enumerate(patients, start=1))
        audit_record(actor=actor, purpose=purpose, action="seminar_pack.add_cases",
                     object_type="seminar_pack", object_ref=str(pack.pk), outcome="allowed",
                     detail={"cases": [p.pseudonym for p in patients]})
    return cases
