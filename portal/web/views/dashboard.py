from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from portal.organisations.selectors import organisations_for_firm
from portal.web.access import firm_member_required


@firm_member_required
def home(request):
    return render(request, "web/home.html", {"organisations": organisations_for_firm(firm=request.firm)})


urlpatterns = [
    path("", home, name="home"),
]
