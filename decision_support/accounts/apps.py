from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "decision_support.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system check)
