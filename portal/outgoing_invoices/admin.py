from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.admin_actions import ReasonActionForm, action_reason
from portal.core.admin_display import xml_block
from portal.documents.retention import document_kept_until
from portal.events.admin import EventInline
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.services import RESOLVABLE_BY_PEOPLE, outgoing_resolve_manually, outgoing_retry

Status = OutgoingInvoice.Status


class AgeFilter(admin.SimpleListFilter):
    """How long an invoice has been in its current status: old ones in an open status need a look."""

    title = "time in this status"
    parameter_name = "age"
    AGES = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}

    def lookups(self, request, model_admin):
        return (("1h", "more than an hour"), ("1d", "more than a day"), ("7d", "more than a week"))

    def queryset(self, request, queryset):
        age = self.AGES.get(self.value())
        return queryset.filter(status_changed_at__lt=timezone.now() - age) if age else queryset


@admin.register(OutgoingInvoice)
class OutgoingInvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "invoice_number",
        "customer_name",
        "environment",
        "document_type",
        "status",
        "rules_checked",
        "payable_amount",
        "attempts",
        "next_attempt_at",
        "created_at",
    )
    list_filter = (
        "status",
        AgeFilter,
        "document_type",
        "is_test",
        "econnect_status_unknown",  # support: statuses eConnect reported that the portal's table does not know
        ("created_at", admin.DateFieldListFilter),
        "environment__organisation__firm",
        "environment",
    )
    search_fields = (
        "=invoice_number",
        "customer_name",
        "=econnect_document_id",
        "=submission_reference",
        "=afas_identity",
        "recipient_value",
    )
    list_select_related = ("environment__organisation",)
    show_full_result_count = False
    raw_id_fields = ("environment", "contact")
    fieldsets = (
        (None, {"fields": ("environment", "contact", "afas_identity", "is_test")}),
        (
            "Invoice",
            {
                "fields": (
                    "document_type",
                    "invoice_number",
                    "issue_date",
                    "customer_name",
                    "currency",
                    "payable_amount",
                )
            },
        ),
        (
            "Delivery",
            {
                "fields": (
                    "status",
                    "status_changed_at",
                    "recipient_identifier",
                    "attempts",
                    "next_attempt_at",
                    "last_error_kind",
                    "last_error_code",
                    "last_error_message",
                    "submission_reference",
                    "econnect_document_id",
                    "econnect_status",
                    "submitted_at",
                    "completed_at",
                )
            },
        ),
        ("Validation", {"fields": ("validated_at", "rules_checked", "validation_findings")}),
        ("UBL as sent", {"fields": ("ubl_document",), "classes": ("collapse",)}),
        ("Retention", {"fields": ("sha256", "kept_until", "document_removed_at")}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)  # support reads invoices here; changes go through services
    inlines = [EventInline]
    action_form = ReasonActionForm
    actions = ["retry_now", "resolve_manually"]

    @admin.action(description="Retry now (checks and sends again; never sends twice)", permissions=["change"])
    def retry_now(self, request, queryset):
        reason = action_reason(self, request, required=False)
        if reason is None:
            return
        retried = sum(outgoing_retry(invoice=invoice, actor=request.user, reason=reason) for invoice in queryset)
        skipped = queryset.count() - retried
        self.message_user(request, f"{retried} invoice(s) will be retried.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} invoice(s) skipped: only invoices that need attention or failed can be retried.",
                messages.WARNING,
            )

    @admin.action(description="Mark as resolved manually (give the reason)", permissions=["change"])
    def resolve_manually(self, request, queryset):
        reason = action_reason(self, request)
        if reason is None:
            return
        skipped = []
        for invoice in queryset:
            if not outgoing_resolve_manually(invoice=invoice, actor=request.user, reason=reason):
                skipped.append(f"{invoice} ({invoice.get_status_display()})")
        resolved = len(queryset) - len(skipped)
        self.message_user(request, f"{resolved} invoice(s) marked as resolved manually.", messages.SUCCESS)
        if skipped:
            allowed = ", ".join(str(Status(status).label) for status in RESOLVABLE_BY_PEOPLE)
            self.message_user(
                request,
                f"{len(skipped)} invoice(s) not changed: {'; '.join(skipped[:20])}. Only invoices in one of these "
                f"statuses can be resolved manually: {allowed}.",
                messages.WARNING,
            )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("_changelist"):
            qs = qs.defer("ubl")
        return qs

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Peppol rules"))
    def rules_checked(self, obj):
        """Which official rules the invoice was checked against; a verdict without them says so."""
        if obj.validated_at is None:
            return _("not checked yet")
        return obj.validation_rules or _("NOT checked: structure only (no rules pack)")

    @admin.display(description="UBL")
    def ubl_document(self, obj):
        if obj.document_removed_at:
            return f"Removed after the retention period on {timezone.localtime(obj.document_removed_at):%Y-%m-%d}."
        return xml_block(obj.ubl)

    @admin.display(description="kept until")
    def kept_until(self, obj):
        return document_kept_until(issue_date=obj.issue_date, stored_at=obj.created_at) if obj.created_at else "-"
