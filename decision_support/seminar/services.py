"""Writes: a reviewer's annotation of a model or a case, an educator's seminar pack.

Each write and its audit entry commit together (``review.model``, ``review.case``,
``seminar_pack.create``). The comment and question texts stay out of the audit log, which
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
