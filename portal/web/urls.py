from django.urls import path

from portal.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("readiness/", views.firm_readiness, name="readiness"),
    path("readiness.csv", views.firm_readiness_csv, name="readiness_csv"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("environments/<int:pk>/", views.environment_detail, name="environment_detail"),
    path(
        "environments/<int:pk>/test-invoice/", views.environment_send_test_invoice, name="environment_send_test_invoice"
    ),
    path("environments/<int:pk>/receiving/", views.environment_set_receiving_view, name="environment_set_receiving"),
    path("environments/<int:pk>/route-check/", views.environment_route_check, name="environment_route_check"),
    path("environments/<int:pk>/contacts/", views.environment_contacts, name="environment_contacts"),
    path("environments/<int:pk>/contacts.csv", views.environment_contacts_csv, name="environment_contacts_csv"),
    path("environments/<int:pk>/contacts/sync/", views.environment_contacts_sync, name="environment_contacts_sync"),
    path("environments/<int:pk>/contacts/jobs/", views.environment_contact_job_start, name="contact_job_start"),
    path("contacts/<int:pk>/confirm/", views.contact_confirm, name="contact_confirm"),
    path("contacts/<int:pk>/look-up/", views.contact_look_up, name="contact_look_up"),
    path("contact-jobs/<int:pk>/", views.contact_job_detail, name="contact_job_detail"),
    path("contact-jobs/<int:pk>/cancel/", views.contact_job_cancel, name="contact_job_cancel"),
    path("inbox/<int:pk>/mark-as-original/", views.incoming_mark_as_original_view, name="incoming_mark_as_original"),
]
