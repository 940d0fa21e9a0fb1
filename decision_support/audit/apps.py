from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "decision_support.audit"
    label = "audit"
    verbose_name = "Audit trail"
