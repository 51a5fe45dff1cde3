from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from portal.web.access import firm_member_required


@firm_member_required
def team(request):
    # Placeholder: the firm admin's user management replaces this.
    return render(request, "web/placeholder.html", {"title": "Team"})


urlpatterns = [
    path("team/", team, name="team"),
]
