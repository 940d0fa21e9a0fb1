from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "decision_support.registry"
    label = "registry"
    verbose_name = "Model registry and training"
