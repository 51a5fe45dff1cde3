"""The outbox: the firm's outgoing invoices (filter, search, keyset pages) and one invoice's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from integrations.peppol.pretty import pretty_xml
from integrations.peppol.readable import XmlRejected, read_document
from portal.organisations.models import Environment
from portal.organisations.selectors import environments_for_firm
from portal.outgoing_invoices import selectors
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.services import RETRYABLE_BY_PEOPLE, outgoing_retry
from portal.web.access import can_act, firm_member_required
from portal.web.downloads import attachment_download, document_download, embedded_attachments
from portal.web.forms.reasons import posted_reason

Status = OutgoingInvoice.Status
# The query parameters of the list that a "newer"/"older" link keeps.
FILTER_PARAMETERS = ("organisation", "environment", "status", "test", "from", "to", "q")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _EnvironmentOption:
    pk: int
    organisation_id: int
    organisation_name: str
    type_label: str
    participant: str

    @property
    def label(self) -> str:
        return f"{self.organisation_name} · {self.type_label} ({self.participant})"


def _environment_options(firm) -> list[_EnvironmentOption]:
    """The firm's environments as plain values: a firm may have hundreds, and each is an option on the page."""
    type_labels = dict(Environment.Type.choices)
    rows = (
        environments_for_firm(firm=firm)
        .order_by("organisation__name", "pk")
        .values_list("pk", "organisation_id", "organisation__name", "afas_environment_type", "afas_participant_number")
    )
    return [
        _EnvironmentOption(pk, organisation_id, name, str(type_labels.get(kind, kind)), participant)
        for pk, organisation_id, name, kind, participant in rows
    ]


def _options(choices, selected: str):
    """``<option>`` elements built in one pass (hundreds of environments render slowly as template loops)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if str(value) == selected else "", label) for value, label in choices),
    )


FILTER_LABELS = {
    "organisation": gettext_lazy("Client"),
    "environment": gettext_lazy("Environment"),
    "status": gettext_lazy("Status"),
    "test": gettext_lazy("Test invoices"),
    "from": gettext_lazy("Collected from"),
    "to": gettext_lazy("Collected until"),
    "q": gettext_lazy("Invoice number or customer"),
}
STATUS_FILTERS = {*Status.values, *selectors.STATUS_GROUPS}


def _filters(request, environments: list[_EnvironmentOption]) -> tuple[selectors.OutboxFilters, list[str]]:
    """The filters of the query string, and those that are malformed (ignored, and said so, as in the inbox).

    An id of an organisation or environment that is not the firm's is not found (404), as in the inbox."""
    given = {name: request.GET.get(name, "") for name in FILTER_LABELS}
    ignored = []

    def bad(name: str) -> None:
        ignored.append(f"{FILTER_LABELS[name]}: “{given[name][:50]}”")

    organisation_id, environment_id = _int(given["organisation"]), _int(given["environment"])
    for name, value in (("organisation", organisation_id), ("environment", environment_id)):
        if given[name] and value is None:
            bad(name)
    if environment_id is not None and environment_id not in {e.pk for e in environments}:
        raise Http404("No such environment.")
    if organisation_id is not None and organisation_id not in {e.organisation_id for e in environments}:
        raise Http404("No such organisation.")
    chosen = None
    if environment_id is not None:
        chosen = (environment_id,)
    elif organisation_id is not None:
        chosen = tuple(e.pk for e in environments if e.organisation_id == organisation_id)
    status = given["status"]
    if status and status not in STATUS_FILTERS:
        bad("status")
        status = ""
    if given["test"] and given["test"] not in ("yes", "no"):
        bad("test")
    dates = {name: _date(given[name]) for name in ("from", "to")}
    for name, value in dates.items():
        if given[name] and value is None:
            bad(name)
    search = given["q"]
    if len(search) > 100:
        bad("q")
        search = ""
    filters = selectors.OutboxFilters(
        environment_ids=chosen,
        status=status,
        is_test={"yes": True, "no": False}.get(given["test"]),
        created_from=dates["from"],
        created_to=dates["to"],
        search=search,
    )
    return filters, ignored


@require_GET
@firm_member_required
def outbox(request):
    environments = _environment_options(request.firm)
    filters, ignored = _filters(request, environments)
    cursor = selectors.OutboxCursor.decode(request.GET.get("after") or request.GET.get("before"))
    page = selectors.outbox_page(
        environment_ids=[e.pk for e in environments],
        filters=filters,
        cursor=cursor,
        newer=cursor is not None and not request.GET.get("after"),
        size=selectors.OUTBOX_PAGE_SIZE,
    )
    by_pk = {e.pk: e for e in environments}
    kept = {name: request.GET[name] for name in FILTER_PARAMETERS if request.GET.get(name)}
    values = {name: request.GET.get(name, "") for name in FILTER_PARAMETERS}
    organisations = sorted({(e.organisation_id, e.organisation_name) for e in environments}, key=lambda o: o[1])
    return render(
        request,
        "web/outbox.html",
        {
            "rows": [(invoice, by_pk.get(invoice.environment_id)) for invoice in page.invoices],
            "newer_query": urlencode(kept | {"before": page.newer.encode()}) if page.newer else "",
            "older_query": urlencode(kept | {"after": page.older.encode()}) if page.older else "",
            "newest_query": urlencode(kept),
            "first_page": cursor is None,
            "filtered": bool(kept),
            "values": values,
            "organisation_options": _options(organisations, values["organisation"]),
            "environment_options": _options(((e.pk, e.label) for e in environments), values["environment"]),
            "status_choices": Status.choices,
            "ignored_filters": ignored,
        },
    )


@require_GET
@firm_member_required
def outgoing_detail(request, pk: int):
    invoice = selectors.outgoing_detail_for_firm(firm=request.firm, pk=pk)
    ubl = bytes(invoice.ubl or b"")
    document = unreadable = None
    if invoice.document_removed_at is None:  # removed after the retention period: nothing left to read
        try:
            document = read_document(ubl)
        except XmlRejected as exc:
            unreadable = exc.message.in_language(get_language() or "en")
    status_labels = dict(Status.choices)
    timeline = [
        (event, status_labels.get(event.from_status, event.from_status), status_labels.get(event.to_status, ""))
        for event in selectors.outgoing_timeline(invoice=invoice)
    ]
    return render(
        request,
        "web/outgoing_detail.html",
        {
            "invoice": invoice,
            "environment": invoice.environment,
            "document": document,
            "unreadable": unreadable,
            "pretty_ubl": pretty_xml(ubl) if ubl else "",
            "attachments": embedded_attachments(ubl) if invoice.document_removed_at is None else [],
            "findings": selectors.outgoing_findings(invoice=invoice, language=get_language() or "en"),
            "error_hint": selectors.last_error_hint(invoice),
            "timeline": timeline,
            "can_retry": can_act(request) and invoice.status in RETRYABLE_BY_PEOPLE,
        },
    )


@require_GET
@firm_member_required
def outgoing_download(request, pk: int):
    """The UBL exactly as it was sent."""
    invoice = selectors.outgoing_detail_for_firm(firm=request.firm, pk=pk)
    return document_download(
        bytes(invoice.ubl or b""),
        name=invoice.invoice_number or f"invoice-{invoice.pk}",
        removed=invoice.document_removed_at is not None,
    )


@require_GET
@firm_member_required
def outgoing_attachment(request, pk: int, index: int):
    """A file embedded in the UBL (the invoice's PDF, say)."""
    invoice = selectors.outgoing_detail_for_firm(firm=request.firm, pk=pk)
    ubl = bytes(invoice.ubl or b"")
    found = {attachment.index: attachment for attachment in embedded_attachments(ubl)}
    if index not in found:
        raise Http404("No such attachment.")
    return attachment_download(ubl, index, filename=found[index].filename, mime_code=found[index].mime_code)


@require_POST
@firm_member_required
def outgoing_retry_view(request, pk: int):
    invoice = selectors.outgoing_detail_for_firm(firm=request.firm, pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot retry invoices.")
    reason = posted_reason(request, missing=None)
    if reason is None:  # too long: said so
        return redirect("web:outgoing_detail", pk=invoice.pk)
    if outgoing_retry(invoice=invoice, actor=request.user, reason=reason):
        messages.success(
            request, _("Invoice %(number)s will be tried again; its status shows below.") % {"number": invoice}
        )
    else:
        messages.error(
            request,
            _("Invoice %(number)s cannot be retried now: its status is “%(status)s”.")
            % {"number": invoice, "status": invoice.get_status_display()},
        )
    return redirect("web:outgoing_detail", pk=invoice.pk)


@require_GET
@firm_member_required
def outgoing_status(request, pk: int):
    """The live status fragment; it polls itself (htmx) while the portal is still moving the invoice on."""
    invoice = selectors.outgoing_status_for_firm(firm=request.firm, pk=pk)
    if not request.htmx:
        return redirect("web:outgoing_detail", pk=invoice.pk)
    return render(request, "web/_outgoing_status.html", {"invoice": invoice})


urlpatterns = [
    path("outbox/", outbox, name="outbox"),
    path("outbox/<int:pk>/", outgoing_detail, name="outgoing_detail"),
    path("outbox/<int:pk>/retry/", outgoing_retry_view, name="outgoing_retry"),
    path("outbox/<int:pk>/ubl/", outgoing_download, name="outgoing_download"),
    path("outbox/<int:pk>/attachments/<int:index>/", outgoing_attachment, name="outgoing_attachment"),
    path("outbox/<int:pk>/status/", outgoing_status, name="outgoing_status"),
]
