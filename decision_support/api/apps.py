from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "decision_support.api"
    label = "api"
    verbose_name = "JSON API"
