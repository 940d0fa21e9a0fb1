"""An archived course is read-only: the one check every write of a course's data makes.

The write services (treatment decisions, reviews, seminar packs, cohorts, training, and joining or
exercises where those exist) call ``course_check_open`` inside their transaction, before they
write. The refusal is a ``PermissionDenied``, so whatever page asked gets Django's 403 page with
the message (``templates/403.html``), and nothing is written. Consent and erasure stay possible:
a person's rights over their data outlast a course.
"""

from django.core.exceptions import PermissionDenied

from .models import Course

COURSE_ARCHIVED = ("The course {course!r} is archived, so it is read-only: nothing new can be "
                   "recorded in it (decisions, reviews, seminar packs, cohorts, training, joining, "
                   "exercises).")


class CourseArchived(PermissionDenied):
    """A write into an archived course."""


def course_check_open(course_id: int) -> None:
    """Raise ``CourseArchived`` if the course is archived. Read from the database, not from a
    row loaded earlier, so an archive that committed meanwhile counts."""
    name = (Course.objects.filter(pk=course_id, archived_at__isnull=False)
            .values_list("name", flat=True).first())
    if name is not None:
        raise CourseArchived(COURSE_ARCHIVED.format(course=name))
