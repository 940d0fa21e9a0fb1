from django.urls import path

from . import views

urlpatterns = [
    path("exercises/", views.exercise_list, name="exercise_list"),
    path("cohorts/<int:cohort_id>/exercises/new/", views.exercise_create, name="exercise_create"),
    # Educators: the control page with live counts, its JSON, open and reveal.
    path("exercises/<int:exercise_id>/", views.exercise_detail, name="exercise_detail"),
    path("exercises/<int:exercise_id>/counts.json", views.exercise_counts, name="exercise_counts"),
    path("exercises/<int:exercise_id>/open/", views.exercise_open, name="exercise_open"),
    path("exercises/<int:exercise_id>/reveal/", views.exercise_reveal, name="exercise_reveal"),
    # Students: answer case by case; their own result after the reveal.
    path("exercises/<int:exercise_id>/answer/", views.exercise_answer, name="exercise_answer"),
    path("exercises/<int:exercise_id>/my-result/", views.exercise_my_result,
         name="exercise_my_result"),
    # The reveal: class results, presenter mode, CSV for grading, a one-page PDF.
    path("exercises/<int:exercise_id>/results/", views.exercise_results, name="exercise_results"),
    path("exercises/<int:exercise_id>/present/", views.exercise_present, name="exercise_present"),
    path("exercises/<int:exercise_id>/results.csv", views.exercise_csv, name="exercise_csv"),
    path("exercises/<int:exercise_id>/summary.pdf", views.exercise_pdf, name="exercise_pdf"),
]
