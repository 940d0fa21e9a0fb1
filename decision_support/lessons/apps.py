from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "decision_support.lessons"
    verbose_name = "Lesson plans: one 50-minute plan per teaching scenario"
