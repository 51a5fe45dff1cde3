from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.services import incoming_mark_as_original
from portal.web.access import can_release, firm_member_required


@require_POST
@firm_member_required
def incoming_mark_as_original_view(request, pk: int):
    document = get_object_or_404(IncomingInvoice.objects.filter(environment__organisation__firm=request.firm), pk=pk)
    if not can_release(request):
        raise PermissionDenied("Only firm admins can mark a held document as original.")
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, "Say why this document is an original: the reason is kept in its timeline.")
    elif incoming_mark_as_original(invoice=document, actor=request.user, reason=reason):
        messages.success(request, f"{document} is marked as original and on its way to AFAS.")
    else:
        messages.error(request, f"{document} is not held as a duplicate, so it cannot be marked as original.")
    return redirect("web:environment_detail", pk=document.environment_id)


@firm_member_required
def inbox(request):
    # Placeholder: the inbox list (filters, search, pagination) replaces this.
    return render(request, "web/placeholder.html", {"title": "Inbox"})


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/<int:pk>/mark-as-original/", incoming_mark_as_original_view, name="incoming_mark_as_original"),
]
