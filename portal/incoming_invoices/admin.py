from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from portal.core.admin_actions import ReasonActionForm, action_reason
from portal.core.admin_display import xml_block
from portal.documents.retention import document_kept_until
from portal.events.admin import EventInline
from portal.incoming_invoices.models import IncomingInvoice, SupplierResponse
from portal.incoming_invoices.services import (
    incoming_confirm_in_afas,
    incoming_deliver_again,
    incoming_mark_as_original,
    incoming_resolve_manually,
)


class DisagreementFilter(admin.SimpleListFilter):
    title = "eConnect flag vs portal verdict"
    parameter_name = "disagreement"

    def lookups(self, request, model_admin):
        return (("yes", "eConnect says duplicate, portal says original"),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(
                Q(econnect_duplicate_flag=True, duplicate_verdict=IncomingInvoice.DuplicateVerdict.ORIGINAL)
            )
        return queryset


@admin.register(IncomingInvoice)
class IncomingInvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "invoice_number",
        "supplier_name",
        "environment",
        "document_type",
        "status",
        "duplicate_verdict",
        "econnect_duplicate_flag",
        "payable_amount",
        "created_at",
    )
    list_filter = (
        "status",
        "duplicate_verdict",
        "econnect_duplicate_flag",
        DisagreementFilter,
        "hold_reason",
        "document_type",
        ("created_at", admin.DateFieldListFilter),
        "environment__organisation__firm",
        "environment",
    )
    search_fields = (
        "=invoice_number",
        "normalised_invoice_number",
        "supplier_name",
        "=econnect_document_id",
        "=sha256",
        "supplier_key",
    )
    list_select_related = ("environment__organisation",)
    show_full_result_count = False
    raw_id_fields = ("environment", "supplier", "duplicate_of")
    summary_fields = (
        "document_type",
        "invoice_number",
        "normalised_invoice_number",
        "issue_date",
        "currency",
        "supplier_name",
        "supplier_identifiers",
        "supplier_key",
        "supplier",
        "payable_amount",
        "tax_amount",
        "vat_breakdown",
        "attachments",
        "parse_error",
    )
    duplicate_fields = ("econnect_duplicate_flag", "duplicate_verdict", "duplicate_of", "duplicate_evidence")
    delivery_fields = (
        "status",
        "status_changed_at",
        "hold_reason",
        "released_at",
        "attempts",
        "next_attempt_at",
        "last_error_kind",
        "last_error_code",
        "last_error_message",
        "afas_reference",
        "delivered_at",
        "acknowledged_at",
    )
    fieldsets = (
        (None, {"fields": ("environment", "econnect_document_id", "sha256", "created_at")}),
        ("Summary", {"fields": summary_fields}),
        ("Duplicates", {"fields": duplicate_fields}),
        ("Delivery", {"fields": delivery_fields}),
        ("Side by side: this document and the earlier one it matches", {"fields": ("comparison",)}),
        ("Document as received", {"fields": ("raw_document",), "classes": ("collapse",)}),
        ("Retention", {"fields": ("kept_until", "document_removed_at", "econnect_removed_at")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)  # support reads documents here; changes go through services
    inlines = [EventInline]
    action_form = ReasonActionForm
    actions = ["mark_as_original", "mark_identical_as_original", "deliver_again", "confirm_in_afas", "resolve_manually"]

    def _act(self, request, queryset, service, done: str, skipped: str) -> None:
        reason = action_reason(self, request)
        if reason is None:
            return
        count = sum(bool(service(invoice=invoice, actor=request.user, reason=reason)) for invoice in queryset)
        self.message_user(request, f"{count} document(s) {done}.", messages.SUCCESS)
        if count < queryset.count():
            self.message_user(request, f"{queryset.count() - count} document(s) skipped: {skipped}", messages.WARNING)

    @admin.action(description="Mark as original and deliver (give the reason)", permissions=["change"])
    def mark_as_original(self, request, queryset):
        identical = [document for document in queryset if document.duplicate_verdict == "certain_duplicate"]
        if identical:
            self.message_user(
                request,
                "Not marked, each the very same file as an earlier document: "
                + "; ".join(f"{document} = {document.duplicate_of}" for document in identical)
                + ". Use 'Mark an IDENTICAL file as original' to deliver the same file to AFAS a second time.",
                messages.WARNING,
            )
        self._act(
            request,
            queryset.exclude(duplicate_verdict="certain_duplicate"),
            incoming_mark_as_original,
            "marked as original and on their way to AFAS",
            "only documents held as duplicate or with a disputed eConnect flag can be marked as original.",
        )

    @admin.action(
        description="Mark an IDENTICAL file as original: AFAS gets the very same file a second time (give the reason)",
        permissions=["change"],
    )
    def mark_identical_as_original(self, request, queryset):
        self._act(
            request,
            queryset.filter(duplicate_verdict="certain_duplicate"),
            lambda invoice, **kwargs: incoming_mark_as_original(
                invoice=invoice, identical_to=invoice.duplicate_of_id, **kwargs
            ),
            "delivered to AFAS again although identical to an earlier document",
            "only held identical files can be released this way.",
        )

    @admin.action(description="Deliver again after checking AFAS (give the reason)", permissions=["change"])
    def deliver_again(self, request, queryset):
        self._act(
            request,
            queryset,
            incoming_deliver_again,
            "will be delivered again",
            "only failed documents or interrupted deliveries can be delivered again.",
        )

    @admin.action(
        description="Found in AFAS: count as delivered and acknowledge (give the reason)", permissions=["change"]
    )
    def confirm_in_afas(self, request, queryset):
        self._act(
            request,
            queryset,
            incoming_confirm_in_afas,
            "count as delivered and are acknowledged at eConnect",
            "only documents held because their delivery was interrupted can be confirmed.",
        )

    @admin.action(description="Mark as resolved manually (give the reason)", permissions=["change"])
    def resolve_manually(self, request, queryset):
        self._act(
            request, queryset, incoming_resolve_manually, "marked as resolved manually", "they are not held or failed."
        )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("_changelist"):
            qs = qs.defer("raw_xml")
        return qs

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="XML")
    def raw_document(self, obj):
        if obj.document_removed_at:
            return f"Removed after the retention period on {timezone.localtime(obj.document_removed_at):%Y-%m-%d}."
        return xml_block(obj.raw_xml)

    @admin.display(description="kept until")
    def kept_until(self, obj):
        return document_kept_until(issue_date=obj.issue_date, stored_at=obj.created_at) if obj.created_at else "-"

    COMPARED = (
        ("Invoice number", "invoice_number"),
        ("Normalised", "normalised_invoice_number"),
        ("Document type", "document_type"),
        ("Issue date", "issue_date"),
        ("Supplier", "supplier_name"),
        ("Supplier identifiers", "supplier_identifiers"),
        ("Amount", "payable_amount"),
        ("Currency", "currency"),
        ("SHA-256", "sha256"),
        ("eConnect document", "econnect_document_id"),
        ("eConnect says duplicate", "econnect_duplicate_flag"),
        ("Received", "created_at"),
    )

    @admin.display(description="Comparison")
    def comparison(self, obj):
        """The parsed summary (and raw XML) of this document beside the earlier document it matches."""
        documents = [obj] + ([obj.duplicate_of] if obj.duplicate_of_id else [])
        header = format_html_join(
            "", "<th>{}</th>", [(title,) for title in ("", "This document", "Matched earlier")][: len(documents) + 1]
        )
        rows = format_html_join(
            "",
            "<tr><th>{}</th>{}</tr>",
            [
                (label, format_html_join("", "<td>{}</td>", [(getattr(document, field),) for document in documents]))
                for label, field in self.COMPARED
            ],
        )
        raw = format_html_join("", "<td>{}</td>", [(xml_block(document.raw_xml),) for document in documents])
        return format_html(
            '<table class="side-by-side"><tr>{}</tr>{}<tr><th>XML</th>{}</tr></table>',
            header,
            rows,
            raw,
        )


@admin.register(SupplierResponse)
class SupplierResponseAdmin(admin.ModelAdmin):
    """Read-only: the answers people sent suppliers from the inbox (eConnect PSB)."""

    list_display = ("created_at", "incoming_invoice", "code", "reason", "state", "actor", "sent_at")
    list_filter = ("state", "code", "reason")
    search_fields = ("incoming_invoice__invoice_number", "response_document_id")
    readonly_fields = [field.name for field in SupplierResponse._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
