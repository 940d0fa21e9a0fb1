from django.apps import AppConfig


class ExercisesConfig(AppConfig):
    name = "decision_support.exercises"
    verbose_name = "Case exercises: predict, then reveal"
