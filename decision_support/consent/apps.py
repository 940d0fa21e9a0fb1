from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "decision_support.consent"
    label = "consent"
    verbose_name = "Consent"
