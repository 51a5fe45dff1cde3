from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.urls import path

from portal.organisations.selectors import organisations_for_firm
from portal.web.access import firm_member_required


@firm_member_required
def organisation_detail(request, pk: int):
    organisation = get_object_or_404(organisations_for_firm(firm=request.firm), pk=pk)
    return render(request, "web/organisation_detail.html", {"organisation": organisation})


urlpatterns = [
    path("organisations/<int:pk>/", organisation_detail, name="organisation_detail"),
]
