from django.urls import path

from portal.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("environments/<int:pk>/", views.environment_detail, name="environment_detail"),
    path(
        "environments/<int:pk>/test-invoice/", views.environment_send_test_invoice, name="environment_send_test_invoice"
    ),
    path("inbox/<int:pk>/mark-as-original/", views.incoming_mark_as_original_view, name="incoming_mark_as_original"),
]
