from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from decision_support.accounts import views as account_views
from decision_support.api.endpoints import api

handler400 = "decision_support.views.bad_request"

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/api-tokens/", account_views.api_tokens, name="api_tokens"),
    path("accounts/guide/close/", account_views.guide_dismiss, name="guide_dismiss"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("decision_support.cohorts.urls")),
    path("", include("decision_support.registry.urls")),
    path("", include("decision_support.predictions.urls")),
    path("", include("decision_support.consent.urls")),
    path("", include("decision_support.audit.urls")),
    path("", include("decision_support.seminar.urls")),
    path("", include("decision_support.courses.reset_urls")),
    path("", include("decision_support.courses.urls")),
    path("", include("decision_support.exercises.urls")),
    path("", include("decision_support.lessons.urls")),
]
