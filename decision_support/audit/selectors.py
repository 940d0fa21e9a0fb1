"""Reads for the audit viewer: what the log's stored references name, as the pages name it.

The log keeps a cohort's uid (stable across databases and re-creations) and a course's number; the
pages call them "cohort 1" and by name. The stored reference is never changed: the viewer shows it
beside the name (a title attribute), and a reference whose object is gone shows as stored.
"""

import uuid

from decision_support.cohorts.models import Cohort
from decision_support.courses.models import Course


def _uuids(refs) -> list[uuid.UUID]:
    found = []
    for ref in refs:
        try:
            found.append(uuid.UUID(ref))
        except ValueError:  # not written by the app (a test, an edited row): shown as stored
            pass
    return found


def object_names(entries) -> dict[tuple[str, str], str]:
    """{(object_type, object_ref): "cohort 1 (its name)"} for the cohorts and courses that
    ``entries`` name and that still exist."""
    refs = {"cohort": set(), "course": set()}
    for entry in entries:
        if entry.object_type in refs:
            refs[entry.object_type].add(entry.object_ref)
    names = {("cohort", str(c.uid)): f"cohort {c.pk} ({c.name})"
             for c in Cohort.objects.filter(uid__in=_uuids(refs["cohort"]))}
    numbers = [int(ref) for ref in refs["course"]
               if ref.isascii() and ref.isdigit() and len(ref) < 19]  # fits a bigint
    names |= {("course", str(c.pk)): f"course {c.pk} ({c.name})"
              for c in Course.objects.filter(pk__in=numbers)}
    return names
