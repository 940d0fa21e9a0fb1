from django.urls import path

from . import views

urlpatterns = [
    path("patients/<str:pseudonym>/consent/", views.patient_consent, name="patient_consent"),
    path("patients/<str:pseudonym>/erase/", views.patient_erase, name="patient_erase"),
    path("erasures/", views.erasure_list, name="erasure_list"),
]
