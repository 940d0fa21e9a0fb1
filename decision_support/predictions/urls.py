from django.urls import path

from . import comparison_views, fairness_views, views, what_if_views

urlpatterns = [
    path("models/", views.models_home, name="models_home"),
    path("cohorts/<int:cohort_id>/models/", views.run_overview, name="run_overview"),
    path("runs/<int:run_id>/arms/<str:arm>/", views.model_detail, name="model_detail"),
    # The ethics seminar: one model's fairness audit and its generated model card.
    path("runs/<int:run_id>/arms/<str:arm>/fairness/", fairness_views.model_fairness,
         name="model_fairness"),
    path("runs/<int:run_id>/arms/<str:arm>/card/", fairness_views.model_card, name="model_card"),
    path("cohorts/<int:cohort_id>/patients/", views.patient_list, name="patient_list"),
    path("patients/<str:pseudonym>/", views.patient_detail, name="patient_detail"),
    # Human oversight: one patient per decision (no bulk accept), the pause switch, retraining.
    path("patients/<str:pseudonym>/decision/", views.decision_record, name="decision_record"),
    # Explanation comparison: three algorithms side by side, stability across refits.
    path("patients/<str:pseudonym>/explanations/", comparison_views.patient_explanations,
         name="patient_explanations"),
    # What-if explorer: changed values beside the original predictions; nothing is saved.
    path("patients/<str:pseudonym>/what-if/", what_if_views.patient_what_if, name="patient_what_if"),
    path("oversight/pause/", views.predictions_pause, name="predictions_pause"),
    path("cohorts/<int:cohort_id>/train/", views.cohort_train, name="cohort_train"),
    path("training/<int:job_id>/", views.training_job, name="training_job"),
]
