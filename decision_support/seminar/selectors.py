"""Reads: annotations per model, per case or filtered; seminar packs."""

from django.db.models import QuerySet

from .models import Annotation


def annotations(*, kind: str = "", model=None, patient=None) -> QuerySet[Annotation]:
    """Annotations newest first; ``kind`` ("model" or "case"), ``model`` (a TrainedModel or
    its pk) and ``patient`` (a Patient, or a pseudonym) narrow them."""
    rows = Annotation.objects.select_related("model__run", "patient").order_by("-created_at", "-id")
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
