"""Reads: annotations per model, per case or filtered; seminar packs."""

from django.db.models import Q, QuerySet

from .models import Annotation, SeminarPack


def annotations(*, course_ids=None, kind: str = "", model=None,
                patient=None) -> QuerySet[Annotation]:
    """Annotations newest first; ``course_ids`` (the courses the reader may see), ``kind``
    ("model" or "case"), ``model`` (a TrainedModel or its pk) and ``patient`` (a Patient, or a
    pseudonym) narrow them."""
    rows = Annotation.objects.select_related("model__run", "patient").order_by("-created_at", "-id")
    if course_ids is not None:
        rows = rows.filter(Q(model__run__cohort__course_id__in=course_ids)
                           | Q(patient__cohort__course_id__in=course_ids))
    if kind == "model":
        rows = rows.filter(model__isnull=False)
    elif kind == "case":
        rows = rows.filter(patient__isnull=False)
    if model is not None:
        rows = rows.filter(model_id=getattr(model, "pk", model))
    if patient is not None:
        rows = (rows.filter(patient__pseudonym=patient) if isinstance(patient, str)
                else rows.filter(patient=patient))
    return rows


def visible_packs(course_ids) -> QuerySet[SeminarPack]:
    return SeminarPack.objects.filter(course_id__in=course_ids)
