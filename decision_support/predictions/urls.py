from django.urls import path

from . import comparison_views, views, what_if_views

urlpatterns = [
    path("cohorts/<int:cohort_id>/patients/", views.patient_list, name="patient_list"),
    path("patients/<str:pseudonym>/", views.patient_detail, name="patient_detail"),
    # Human oversight: one patient per decision (no bulk accept), the pause switch.
    path("patients/<str:pseudonym>/decision/", views.decision_record, name="decision_record"),
    # Explanation comparison: three algorithms side by side, stability across refits.
    path("patients/<str:pseudonym>/explanations/", comparison_views.patient_explanations,
         name="patient_explanations"),
    # What-if explorer: changed values beside the original predictions; nothing is saved.
    path("patients/<str:pseudonym>/what-if/", what_if_views.patient_what_if, name="patient_what_if"),
    path("oversight/pause/", views.predictions_pause, name="predictions_pause"),
]
