from django.urls import path

from . import reset_views

urlpatterns = [
    # After a class: reset or archive a course (its educators; typed confirmation).
    path("courses/<int:course_id>/reset/", reset_views.course_reset, name="course_reset"),
    path("courses/<int:course_id>/archive/", reset_views.course_archive, name="course_archive"),
]
