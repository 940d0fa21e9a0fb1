from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "decision_support.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"
