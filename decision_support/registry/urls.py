from django.urls import path

from . import fairness_views, views

urlpatterns = [
    path("models/", views.models_home, name="models_home"),
    path("cohorts/<int:cohort_id>/models/", views.run_overview, name="run_overview"),
    path("runs/<int:run_id>/arms/<str:arm>/", views.model_detail, name="model_detail"),
    path("runs/<int:run_id>/travel/", views.run_travel, name="run_travel"),
    # The ethics seminar: one model's fairness audit and its generated model card.
    path("runs/<int:run_id>/arms/<str:arm>/fairness/", fairness_views.model_fairness,
         name="model_fairness"),
    path("runs/<int:run_id>/arms/<str:arm>/card/", fairness_views.model_card, name="model_card"),
    # Retraining (human oversight): start a job on a cohort, follow its progress.
    path("cohorts/<int:cohort_id>/train/", views.cohort_train, name="cohort_train"),
    path("training/<int:job_id>/", views.training_job, name="training_job"),
]
