"""Answering a supplier from a received document (eConnect PSB): reject it or raise a query, with a coded reason."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.incoming_invoices import selectors
from portal.incoming_invoices.models import SupplierResponse
from portal.incoming_invoices.responses import ResponseRefused, incoming_respond, incoming_response_retry
from portal.web.access import can_act, firm_member_required

MAX_FIELD = 600  # a posted field longer than any allowed value is cut before the service bounds it


def _posted(request, name: str) -> str:
    return str(request.POST.get(name, ""))[:MAX_FIELD]


def _report(request, response: SupplierResponse) -> None:
    if response.state == SupplierResponse.State.SENT:
        messages.success(request, _("Your answer went to the supplier over eConnect."))
    else:
        messages.error(
            request,
            _("Your answer was not sent: %(error)s. It is kept; send it again when the cause is solved.")
            % {"error": response.last_error or _("no answer from eConnect")},
        )


@require_POST
@firm_member_required
def incoming_respond_view(request, pk: int):
    document = get_object_or_404(selectors.incoming_for_firm(firm=request.firm), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot answer a supplier.")
    try:
        response = incoming_respond(
            invoice=document,
            code=_posted(request, "code"),
            reason=_posted(request, "reason"),
            note=_posted(request, "note"),
            actor=request.user,
            response_key=_posted(request, "response_key"),
        )
    except ResponseRefused as refused:
        messages.error(request, refused.message)
    else:
        _report(request, response)
    return redirect("web:incoming_detail", pk=document.pk)


@require_POST
@firm_member_required
def incoming_response_retry_view(request, pk: int, response_pk: int):
    document = get_object_or_404(selectors.incoming_for_firm(firm=request.firm), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot answer a supplier.")
    response = get_object_or_404(SupplierResponse, pk=response_pk, incoming_invoice=document)
    try:
        _report(request, incoming_response_retry(response=response))
    except ResponseRefused as refused:
        messages.error(request, refused.message)
    return redirect("web:incoming_detail", pk=document.pk)


urlpatterns = [
    path("inbox/<int:pk>/respond/", incoming_respond_view, name="incoming_respond"),
    path(
        "inbox/<int:pk>/responses/<int:response_pk>/retry/",
        incoming_response_retry_view,
        name="incoming_response_retry",
    ),
]
