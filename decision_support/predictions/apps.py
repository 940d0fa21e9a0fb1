from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "decision_support.predictions"
    label = "predictions"
    verbose_name = "Models, predictions and explanations"
