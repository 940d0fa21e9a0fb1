from django.urls import path

from decision_support.privacy import views as privacy_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("cohorts/", views.cohort_list, name="cohort_list"),
    # Teaching scenarios: a cohort from a scenario (educators), two cohorts side by side.
    path("cohorts/new/", views.cohort_create, name="cohort_create"),
    path("cohorts/new/<int:generation_job_id>/", views.generation_job, name="generation_job"),
    path("cohorts/compare/", views.cohort_compare, name="cohort_compare"),
    path("cohorts/<int:cohort_id>/", views.cohort_overview, name="cohort_overview"),
    path("cohorts/<int:cohort_id>/export/", privacy_views.aggregate_export, name="aggregate_export"),
    path("data-dictionary/", views.data_dictionary, name="data_dictionary"),
    path("primer/", views.primer, name="primer"),
    path("glossary/", views.glossary, name="glossary"),
]
