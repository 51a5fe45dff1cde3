from django.urls import path

from portal.webhooks.views import econnect_webhook

app_name = "webhooks"

urlpatterns = [
    path("hooks/econnect/<str:token>/", econnect_webhook, name="econnect"),
]
