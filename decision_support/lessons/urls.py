from django.urls import path

from . import views

urlpatterns = [
    path("lessons/", views.lesson_list, name="lesson_list"),
    path("lessons/<slug:lesson>/", views.lesson_detail, name="lesson_detail"),
    path("lessons/<slug:lesson>/plan.pdf", views.lesson_pdf, name="lesson_pdf"),
]
