from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from portal.organisations.selectors import environments_for_firm, organisations_for_firm
from portal.web.access import firm_member_required


@firm_member_required
def home(request):
    return render(request, "web/home.html", {"organisations": organisations_for_firm(firm=request.firm)})


@firm_member_required
def organisation_detail(request, pk: int):
    organisation = get_object_or_404(organisations_for_firm(firm=request.firm), pk=pk)
    return render(request, "web/organisation_detail.html", {"organisation": organisation})


@firm_member_required
def environment_detail(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm).prefetch_related("own_identifiers"), pk=pk)
    return render(request, "web/environment_detail.html", {"environment": environment})
