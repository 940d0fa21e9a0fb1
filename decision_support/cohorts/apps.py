from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "decision_support.cohorts"
    label = "cohorts"
    verbose_name = "Synthetic cohorts"
