from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Q

from portal.core.admin_display import xml_block
from portal.events.admin import EventInline
from portal.incoming_invoices.models import IncomingInvoice


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
        ("Document as received", {"fields": ("raw_document",), "classes": ("collapse",)}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)  # support reads documents here; changes go through services
    inlines = [EventInline]

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
        return xml_block(obj.raw_xml)
