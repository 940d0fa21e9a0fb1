"""Append-only tables: rows are inserted, never changed or deleted through the ORM.

Used for every history whose value lies in not being rewritable: consent records, the pause
switch, the privacy ledger and the audit log. A model sets ``APPEND_ONLY`` to the message its
refusals carry. Deleting a parent row still removes the children through a foreign key's cascade
(a delete query on the table that calls neither ``delete()``), which is how erasure works; the
audit log, which must outlive everything, also refuses that path (``AuditEntryQuerySet``).
"""

from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete a row of an append-only table."""


def refuse(model):
    """The error a refused change of ``model`` raises."""
    return model.APPEND_ONLY_ERROR(model.APPEND_ONLY)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise refuse(self.model)

    def delete(self):
        raise refuse(self.model)


class AppendOnlyModel(models.Model):
    """Set ``APPEND_ONLY`` (the message) and, optionally, ``APPEND_ONLY_ERROR`` (a subclass of
    ``AppendOnlyError``)."""

    APPEND_ONLY = "this table is append-only: add a row instead of changing one"
    APPEND_ONLY_ERROR = AppendOnlyError

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, **kwargs):
        # Always an INSERT: a new instance given an existing pk must not overwrite that row.
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise refuse(self)
        super().save(**{**kwargs, "force_insert": True})

    def delete(self, *args, **kwargs):
        raise refuse(self)
