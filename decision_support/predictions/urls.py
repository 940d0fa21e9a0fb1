from django.urls import path

from . import views

urlpatterns = [
    path("models/", views.models_home, name="models_home"),
    path("cohorts/<int:cohort_id>/models/", views.run_overview, name="run_overview"),
    path("runs/<int:run_id>/arms/<str:arm>/", views.model_detail, name="model_detail"),
    path("cohorts/<int:cohort_id>/patients/", views.patient_list, name="patient_list"),
    path("patients/<str:pseudonym>/", views.patient_detail, name="patient_detail"),
]
