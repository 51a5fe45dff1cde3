from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from portal.web.access import firm_member_required


@firm_member_required
def outbox(request):
    # Placeholder: the outbox list (filters, search, pagination) replaces this.
    return render(request, "web/placeholder.html", {"title": "Outbox"})


urlpatterns = [
    path("outbox/", outbox, name="outbox"),
]
