from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "decision_support.privacy"
    label = "privacy"
    verbose_name = "Privacy (suppression and differentially private exports)"
