from django.urls import path

from . import views

urlpatterns = [
    # Reviews: ethics reviewers annotate a model or a case; educators and reviewers read them.
    path("runs/<int:run_id>/arms/<str:arm>/reviews/", views.model_review, name="model_review"),
    path("patients/<str:pseudonym>/reviews/", views.case_review, name="case_review"),
    path("reviews/", views.review_list, name="review_list"),
    # Case packets: a printable page and a PDF of one pseudonymised case.
    path("patients/<str:pseudonym>/packet/", views.case_packet, name="case_packet"),
    path("patients/<str:pseudonym>/packet.pdf", views.case_packet_pdf, name="case_packet_pdf"),
    # Seminar packs: named sets of cases with questions, exported as one PDF.
    path("seminar-packs/", views.seminar_pack_list, name="seminar_pack_list"),
    path("seminar-packs/new/", views.seminar_pack_create, name="seminar_pack_create"),
    path("seminar-packs/<int:pack_id>/", views.seminar_pack_detail, name="seminar_pack_detail"),
    path("seminar-packs/<int:pack_id>/pdf/", views.seminar_pack_pdf, name="seminar_pack_pdf"),
    # Cases of a cohort added to a pack from the patient list or a patient's page.
    path("cohorts/<int:cohort_id>/seminar-pack-cases/", views.seminar_pack_add,
         name="seminar_pack_add"),
]
