from django.urls import path

from . import views

urlpatterns = [
    path("courses/", views.course_list, name="course_list"),
    path("courses/new/", views.course_create, name="course_create"),
    path("courses/<int:course_id>/", views.course_detail, name="course_detail"),
    # Educators of the course: members' roles, join codes, the roster.
    path("courses/<int:course_id>/members/", views.course_members, name="course_members"),
    path("courses/<int:course_id>/join-codes/", views.course_join_codes, name="course_join_codes"),
    path("courses/<int:course_id>/roster/", views.course_roster, name="course_roster"),
    # Public: joining with a code or link, a roster account's one-time set-password link.
    path("join/", views.course_join_start, name="course_join_start"),
    path("join/<str:code>/", views.course_join_page, name="course_join"),
    path("set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(),
         name="account_set_password"),
]
