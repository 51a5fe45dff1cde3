from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from integrations.http import PermanentError, RemoteError
from portal.contacts import services as contact_services
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import routes
from portal.organisations.selectors import environments_for_firm
from portal.outgoing_invoices.selectors import outbox_for_environment
from portal.outgoing_invoices.services import outgoing_send_test_invoice
from portal.web.access import can_act, can_release, firm_member_required


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
            "receiving_blockers": [] if environment.receiving_enabled else routes.receiving_blockers(environment),
            "contacts_syncable": contact_services.contacts_sync_eligible(environment),
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


# --- receiving: one route per identifier ---------------------------------------------------------------------------


@require_POST
@firm_member_required
def environment_set_receiving_view(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot switch receiving on or off.")
    enabled = {"on": True, "off": False}.get(request.POST.get("enabled", ""))
    if enabled is None:
        return HttpResponseBadRequest("enabled must be 'on' or 'off'.")
    try:
        routes.environment_set_receiving(environment=environment, enabled=enabled, actor=request.user)
    except routes.ReceivingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Receiving is switched on.") if enabled else _("Receiving is switched off."))
    return redirect("web:environment_detail", pk=environment.pk)


@require_POST
@firm_member_required
def environment_route_check(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot start a directory check.")
    try:
        checked = routes.own_identifiers_check(environment=environment)
    except RemoteError as exc:
        messages.error(request, _("The Peppol directory could not be asked: %(reason)s") % {"reason": exc.message})
    else:
        if checked:
            messages.success(request, _("The Peppol directory was asked where the own identifiers are registered."))
        else:
            messages.info(request, _("This environment has no own Peppol identifiers to check."))
    return redirect("web:environment_detail", pk=environment.pk)


urlpatterns = [
    path("environments/<int:pk>/", environment_detail, name="environment_detail"),
    path("environments/<int:pk>/test-invoice/", environment_send_test_invoice, name="environment_send_test_invoice"),
    path("environments/<int:pk>/receiving/", environment_set_receiving_view, name="environment_set_receiving"),
    path("environments/<int:pk>/route-check/", environment_route_check, name="environment_route_check"),
]
