"""The accountant's portal: each page module lists its own URLs, all under the ``web`` namespace."""

from portal.web.views import (
    contacts,
    dashboard,
    environments,
    inbox,
    inbox_responses,
    onboarding,
    organisations,
    outbox,
    reconciliation,
    team,
)

app_name = "web"

urlpatterns = [
    *dashboard.urlpatterns,
    *organisations.urlpatterns,
    *environments.urlpatterns,
    *onboarding.urlpatterns,
    *outbox.urlpatterns,
    *inbox.urlpatterns,
    *inbox_responses.urlpatterns,
    *contacts.urlpatterns,
    *team.urlpatterns,
    *reconciliation.urlpatterns,
]
