"""The inbox: received purchase documents, their duplicate verdict with its evidence, and the decisions on them."""

from __future__ import annotations

import logging
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from integrations.peppol.pretty import pretty_xml
from integrations.peppol.readable import XmlRejected, read_document
from portal.incoming_invoices import selectors
from portal.incoming_invoices.models import IncomingInvoice, ResponseCode, ResponseReasonCode
from portal.incoming_invoices.responses import MAX_NOTE, new_response_key, response_problem
from portal.incoming_invoices.services import (
    RELEASABLE_AS_ORIGINAL,
    IdenticalFileNotConfirmed,
    incoming_confirm_in_afas,
    incoming_deliver_again,
    incoming_mark_as_original,
)
from portal.web.access import can_act, can_release, firm_member_required
from portal.web.downloads import attachment_download, document_download
from portal.web.forms.reasons import posted_reason

logger = logging.getLogger(__name__)

Status = IncomingInvoice.Status
Hold = IncomingInvoice.HoldReason
PRETTY_XML_MAX_CHARS = 500_000  # the rest of a huge document is not worth a page that large
# eConnect PSB keeps a received document 7 days after it was downloaded (90 days if never downloaded); the portal
# downloads it when it is stored.
ECONNECT_KEEPS_AFTER_DOWNLOAD = timedelta(days=7)


class SupplierResponseForm(forms.Form):
    """The answer form (the service checks every value again)."""

    code = forms.ChoiceField(label=gettext_lazy("Answer"), choices=ResponseCode.choices)
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=ResponseReasonCode.choices)
    note = forms.CharField(
        label=gettext_lazy("Note for the supplier"),
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    response_key = forms.CharField(widget=forms.HiddenInput)


class InboxFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Invoice number or supplier"), required=False, max_length=100)
    environment = forms.TypedChoiceField(
        label=gettext_lazy("Organisation and environment"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("Any")), *Status.choices]
    )
    hold_reason = forms.ChoiceField(
        label=gettext_lazy("Held because"), required=False, choices=[("", gettext_lazy("Any")), *Hold.choices]
    )
    held_duplicates = forms.BooleanField(label=gettext_lazy("Held duplicates only"), required=False)
    disagreements = forms.BooleanField(label=gettext_lazy("Disagreements with eConnect's flag only"), required=False)
    received_from = forms.DateField(
        label=gettext_lazy("Received from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_until = forms.DateField(
        label=gettext_lazy("Received until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, environments: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = [("", _("All")), *environments.items()]

    def inbox_filters(self) -> selectors.InboxFilters:
        """The filters that were given and valid (an invalid one is left out)."""
        data = self.cleaned_data
        return selectors.InboxFilters(
            status=data.get("status", ""),
            hold_reason=data.get("hold_reason", ""),
            held_duplicates=data.get("held_duplicates", False),
            disagreements=data.get("disagreements", False),
            received_from=data.get("received_from"),
            received_until=data.get("received_until"),
            search=data.get("q", "").strip(),
        )


@require_GET
@firm_member_required
def inbox(request):
    labels = selectors.inbox_environment_labels(firm=request.firm)
    form = InboxFilterForm(request.GET or None, environments=labels)
    filters = selectors.InboxFilters()
    environment_ids = list(labels)
    ignored = []
    if form.is_bound:
        if not form.is_valid():
            # A value outside the choices: another firm's environment is not found; other mistakes are ignored and
            # said so (as in the outbox), the valid filters still apply.
            if "environment" in form.errors and request.GET.get("environment", "").isdigit():
                raise Http404("No such environment.")
            ignored = [f"{form.fields[name].label}: “{request.GET.get(name, '')[:50]}”" for name in form.errors]
        filters = form.inbox_filters()
        if form.cleaned_data.get("environment") is not None:
            environment_ids = [form.cleaned_data["environment"]]
    page = selectors.inbox_page(
        selectors.inbox_for_environments(environment_ids=environment_ids, filters=filters),
        older_than=selectors.cursor_parse(request.GET.get("older")),
        newer_than=selectors.cursor_parse(request.GET.get("newer")),
        size=selectors.INBOX_PAGE_SIZE,
    )
    for document in page.rows:
        document.environment_label = labels.get(document.environment_id, "")
        document.disagreement = selectors.econnect_disagreement(document)
    query = request.GET.copy()
    for name in ("older", "newer"):
        query.pop(name, None)
    return render(
        request,
        "web/inbox.html",
        {
            "form": form,
            "page": page,
            "ignored_filters": ignored,
            "paged": bool(request.GET.get("older") or request.GET.get("newer")),
            "filters_query": query.urlencode(),
            # Plain options: a firm may have hundreds of environments, and the widget renders each one slowly.
            "environment_choices": [("", _("All")), *((str(pk), label) for pk, label in labels.items())],
            "environment_selected": request.GET.get("environment", "") if form.is_bound else "",
        },
    )


def _document_for(request, pk: int) -> IncomingInvoice:
    return get_object_or_404(selectors.incoming_for_firm(firm=request.firm), pk=pk)


def _readable(raw: bytes):
    """The document for display and its pretty XML; a refused or unreadable document shows why instead."""
    limit = settings.PEPPOL_MAX_DOCUMENT_BYTES
    readable, read_error, xml = None, "", ""
    try:
        readable = read_document(raw, max_bytes=limit)
    except XmlRejected as exc:
        read_error = exc.message.in_language(get_language() or "")
    except Exception:  # display only: a document the reader trips over must not take the page down
        logger.exception("Could not read a received document for display")
        read_error = _("This document cannot be shown in readable form.")
    try:
        xml = pretty_xml(raw, max_bytes=limit, max_chars=PRETTY_XML_MAX_CHARS)
    except Exception:
        logger.exception("Could not pretty-print a received document")
    return readable, read_error, xml


# What happened, by the event's kind or else the status it moved to; the stored message (English) says the details.
EVENT_LABELS_BY_KIND = {
    "received": gettext_lazy("Received from eConnect"),
    "marked_original": gettext_lazy("Marked as original"),
    "deliver_again": gettext_lazy("Delivery again requested"),
    "confirmed_in_afas": gettext_lazy("Found in AFAS by a person"),
    "document_removed": gettext_lazy("Document removed after the retention period"),
}
EVENT_LABELS_BY_STATUS = {
    Status.HELD: gettext_lazy("Held"),
    Status.READY: gettext_lazy("Checked: ready to deliver"),
    Status.DELIVERING: gettext_lazy("Delivering to AFAS"),
    Status.DELIVERED: gettext_lazy("Delivered to AFAS"),
    Status.ACKNOWLEDGED: gettext_lazy("Acknowledged at eConnect"),
    Status.RETRY_WAIT: gettext_lazy("Delivery failed, will retry"),
    Status.FAILED: gettext_lazy("Failed"),
    Status.RESOLVED_MANUALLY: gettext_lazy("Resolved manually"),
    Status.TEST_RECEIVED: gettext_lazy("Own test invoice received back"),
    Status.TEST_DONE: gettext_lazy("Own test invoice acknowledged, not booked"),
}
EVENT_TONES = {
    Status.HELD: "attention",
    Status.RETRY_WAIT: "error",
    Status.FAILED: "error",
    Status.DELIVERED: "ok",
    Status.ACKNOWLEDGED: "ok",
    Status.TEST_DONE: "ok",
}


def _timeline(document: IncomingInvoice):
    events = selectors.incoming_timeline(invoice=document)
    for event in events:
        event.label = EVENT_LABELS_BY_KIND.get(event.kind) or EVENT_LABELS_BY_STATUS.get(event.to_status) or event.kind
        event.tone = EVENT_TONES.get(event.to_status, "neutral")
    return events


def _can_deliver_again(document: IncomingInvoice) -> bool:
    """When ``incoming_deliver_again`` applies: failed, or held because delivery to AFAS was interrupted."""
    return document.status == Status.FAILED or (
        document.status == Status.HELD and document.hold_reason == Hold.DELIVERY_UNCERTAIN
    )


@require_GET
@firm_member_required
def incoming_detail(request, pk: int):
    document = _document_for(request, pk)
    removed = document.document_removed_at is not None  # after the retention period: nothing left to read
    readable, read_error, xml = (None, "", "") if removed else _readable(bytes(document.raw_xml))
    return render(
        request,
        "web/incoming_detail.html",
        {
            "document": document,
            "readable": readable,
            "read_error": read_error,
            "pretty_xml": xml,
            "evidence": selectors.duplicate_evidence_for(invoice=document),
            "timeline": _timeline(document),
            "settled": document.status in selectors.SETTLED_STATUSES,
            "releasable": document.status == Status.HELD and document.hold_reason in RELEASABLE_AS_ORIGINAL,
            "deliverable_again": _can_deliver_again(document),
            "can_release": can_release(request),
            "can_act": can_act(request),
            **_answering(document),
        },
    )


def _answering(document: IncomingInvoice) -> dict:
    """What the page needs to answer the supplier (eConnect PSB only) and to show how long eConnect keeps it."""
    if not document.environment.uses_psb:
        return {}
    return {
        "psb": True,
        "responses": list(document.responses.select_related("actor")),
        "response_problem": response_problem(document),
        "response_form": SupplierResponseForm(initial={"response_key": new_response_key()}),
        "econnect_kept_until": document.created_at + ECONNECT_KEEPS_AFTER_DOWNLOAD,
    }


@require_GET
@firm_member_required
def incoming_status(request, pk: int):
    document = _document_for(request, pk)
    return render(
        request,
        "web/_incoming_status.html",
        {"document": document, "settled": document.status in selectors.SETTLED_STATUSES},
    )


@require_GET
@firm_member_required
def incoming_download(request, pk: int):
    """The document exactly as it was received (the same bytes and SHA-256 as went to AFAS)."""
    document = _document_for(request, pk)
    return document_download(
        bytes(document.raw_xml or b""),
        name=document.invoice_number or document.econnect_document_id,
        removed=document.document_removed_at is not None,
    )


@require_GET
@firm_member_required
def incoming_attachment(request, pk: int, index: int):
    """A file embedded in the received document (the supplier's PDF, say)."""
    document = _document_for(request, pk)
    found = {item.get("index"): item for item in document.attachments if item.get("size")}
    if index not in found:
        raise Http404("No such attachment.")
    item = found[index]
    return attachment_download(
        bytes(document.raw_xml or b""), index, filename=item.get("filename"), mime_code=item.get("mime_code")
    )


@require_POST
@firm_member_required
def incoming_mark_as_original_view(request, pk: int):
    document = _document_for(request, pk)
    if not can_release(request):
        raise PermissionDenied("Only firm admins can mark a held document as original.")
    reason = posted_reason(
        request, missing=_("Say why this document is an original: the reason is kept in its timeline.")
    )
    if reason is None:
        return redirect("web:incoming_detail", pk=document.pk)
    confirmed = request.POST.get("identical_to", "")
    try:
        released = incoming_mark_as_original(
            invoice=document,
            actor=request.user,
            reason=reason,
            identical_to=int(confirmed) if confirmed.isdigit() else None,
        )
    except IdenticalFileNotConfirmed as exc:
        # The very same file as an earlier document: a second, explicit confirmation that names that document.
        return render(
            request,
            "web/incoming_confirm_identical.html",
            {"document": document, "earlier": exc.earlier, "reason": reason},
        )
    if released:
        messages.success(
            request, _("%(document)s is marked as original and on its way to AFAS.") % {"document": document}
        )
    else:
        messages.error(
            request,
            _("%(document)s is not held as a duplicate, so it cannot be marked as original.") % {"document": document},
        )
    return redirect("web:incoming_detail", pk=document.pk)


@require_POST
@firm_member_required
def incoming_deliver_again_view(request, pk: int):
    document = _document_for(request, pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot deliver a document again.")
    reason = posted_reason(
        request, missing=_("Say why it is safe to deliver again, e.g. that you checked it is not in AFAS.")
    )
    if reason is None:
        return redirect("web:incoming_detail", pk=document.pk)
    if _can_deliver_again(document) and incoming_deliver_again(invoice=document, actor=request.user, reason=reason):
        messages.success(request, _("%(document)s is on its way to AFAS again.") % {"document": document})
    else:
        messages.error(
            request,
            _("%(document)s cannot be delivered again in its current state.") % {"document": document},
        )
    return redirect("web:incoming_detail", pk=document.pk)


@require_POST
@firm_member_required
def incoming_confirm_in_afas_view(request, pk: int):
    document = _document_for(request, pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot confirm a delivery.")
    reason = posted_reason(request, missing=_("Say where you found it in AFAS, e.g. the entry number."))
    if reason is None:
        return redirect("web:incoming_detail", pk=document.pk)
    if incoming_confirm_in_afas(invoice=document, actor=request.user, reason=reason):
        messages.success(
            request, _("%(document)s counts as delivered and is acknowledged at eConnect.") % {"document": document}
        )
    else:
        messages.error(request, _("%(document)s is not held for an interrupted delivery.") % {"document": document})
    return redirect("web:incoming_detail", pk=document.pk)


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/<int:pk>/", incoming_detail, name="incoming_detail"),
    path("inbox/<int:pk>/status/", incoming_status, name="incoming_status"),
    path("inbox/<int:pk>/document/", incoming_download, name="incoming_download"),
    path("inbox/<int:pk>/attachments/<int:index>/", incoming_attachment, name="incoming_attachment"),
    path("inbox/<int:pk>/mark-as-original/", incoming_mark_as_original_view, name="incoming_mark_as_original"),
    path("inbox/<int:pk>/deliver-again/", incoming_deliver_again_view, name="incoming_deliver_again"),
    path("inbox/<int:pk>/in-afas/", incoming_confirm_in_afas_view, name="incoming_confirm_in_afas"),
]
