from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "decision_support.predictions"
    label = "predictions"
    verbose_name = "Predictions, explanations and human oversight"
