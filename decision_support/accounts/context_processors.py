from django.urls import reverse

from .access import POLICIES, can

# The main navigation: (label, URL name); each link shows only to roles its policy admits.
NAVIGATION = [
    ("Courses", "course_list"),
    ("Cohorts", "cohort_list"),
    ("Models", "models_home"),
    ("Seminar packs", "seminar_pack_list"),
    ("Exercises", "exercise_list"),
    ("Reviews", "review_list"),
    ("Data dictionary", "data_dictionary"),
    ("Primer", "primer"),
    ("Glossary", "glossary"),
    ("Lesson plans", "lesson_list"),
    ("Erasures", "erasure_list"),
    ("Audit log", "audit_log"),
    ("API", "api_tokens"),
]


def navigation(request):
    roles = getattr(request, "roles", None)
    if not roles:
        return {"nav_links": []}
    return {"nav_links": [(label, reverse(name)) for label, name in NAVIGATION
                          if can(roles, POLICIES[name].roles)]}
