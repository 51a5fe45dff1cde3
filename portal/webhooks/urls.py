from django.urls import path

from portal.webhooks.views import afas_webhook, econnect_webhook

app_name = "webhooks"

urlpatterns = [
    path("hooks/econnect/<str:token>/", econnect_webhook, name="econnect"),
    path("hooks/afas/<str:token>/", afas_webhook, name="afas"),
]
