from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.organisations.dashboard import dashboard_for_organisation
from portal.web.access import firm_member_required
from portal.web.dashboard import row_views


@require_GET
@firm_member_required
def organisation_detail(request, pk: int):
    organisation = get_object_or_404(request.firm.organisations.all(), pk=pk)
    return render(
        request,
        "web/organisation_detail.html",
        {
            "organisation": organisation,
            "rows": row_views(dashboard_for_organisation(organisation=organisation)),
            "outbox_url": reverse("web:outbox"),
            "month_start": timezone.localdate().replace(day=1).isoformat(),
            "inbox_url": reverse("web:inbox"),
        },
    )


urlpatterns = [
    path("organisations/<int:pk>/", organisation_detail, name="organisation_detail"),
]
