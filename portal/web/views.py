from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from integrations.http import PermanentError
from portal.incoming_invoices.models import IncomingInvoice
from portal.incoming_invoices.services import incoming_mark_as_original
from portal.organisations.selectors import environments_for_firm, organisations_for_firm
from portal.outgoing_invoices.selectors import outbox_for_environment
from portal.outgoing_invoices.services import outgoing_send_test_invoice
from portal.web.access import can_act, can_release, firm_member_required


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
    return render(
        request,
        "web/environment_detail.html",
        {
            "environment": environment,
            "recent_invoices": outbox_for_environment(environment=environment)[:10],
            "recent_documents": IncomingInvoice.objects.filter(environment=environment)
            .defer("raw_xml")
            .order_by("-created_at", "-pk")[:10],
            "can_act": can_act(request),
            "can_release": can_release(request),
        },
    )


@require_POST
@firm_member_required
def environment_send_test_invoice(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot send test invoices.")
    try:
        invoice = outgoing_send_test_invoice(environment=environment, actor=request.user)
    except PermanentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Test invoice {invoice.invoice_number} is on its way; its status shows below.")
    return redirect("web:environment_detail", pk=environment.pk)


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
