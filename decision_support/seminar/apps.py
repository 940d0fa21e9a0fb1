from django.apps import AppConfig


class SeminarConfig(AppConfig):
    name = "decision_support.seminar"
    verbose_name = "Ethics seminar: reviews, seminar packs and case packets"
