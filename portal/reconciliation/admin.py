from __future__ import annotations

import json

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from portal.core.admin_actions import ReasonActionForm, action_reason
from portal.reconciliation.fixes import FindingNotFixable, finding_dismiss, finding_fix
from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun


def _link(obj, label: str) -> str:
    if obj is None:
        return "-"
    meta = obj._meta
    return format_html(
        '<a href="{}">{}</a>', reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]), label
    )


@admin.register(ReconciliationFinding)
class ReconciliationFindingAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "environment",
        "econnect_document_id",
        "invoice_link",
        "first_seen_at",
        "last_seen_at",
        "closed_by",
    )
    list_filter = (
        "status",
        "kind",
        ("first_seen_at", admin.DateFieldListFilter),
        "environment__organisation__firm",
        "environment",
    )
    search_fields = ("=econnect_document_id", "key", "=afas_reference")
    list_select_related = ("environment__organisation", "outgoing_invoice", "incoming_invoice", "closed_by")
    show_full_result_count = False
    raw_id_fields = ("environment", "outgoing_invoice", "incoming_invoice", "first_run", "last_run", "closed_by")
    fields = (
        "environment",
        "kind",
        "status",
        "key",
        "econnect_document_id",
        "afas_reference",
        "outgoing_invoice",
        "incoming_invoice",
        "document_at",
        "what_each_side_says",
        "first_run",
        "last_run",
        "first_seen_at",
        "last_seen_at",
        "closed_at",
        "closed_by",
        "reason",
        "outcome",
    )
    readonly_fields = fields  # findings change through the actions (services), never by editing
    action_form = ReasonActionForm
    actions = ["fix", "dismiss"]

    @admin.display(description="Invoice")
    def invoice_link(self, finding: ReconciliationFinding) -> str:
        invoice = finding.outgoing_invoice or finding.incoming_invoice
        return _link(invoice, str(invoice)) if invoice else "-"

    @admin.display(description="What each side says")
    def what_each_side_says(self, finding: ReconciliationFinding) -> str:
        return format_html("<pre>{}</pre>", json.dumps(finding.details, indent=2, ensure_ascii=False))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _reason(self, request) -> str:
        return action_reason(self, request) or ""

    @admin.action(description="Fix: apply the action of its kind (give the reason)", permissions=["change"])
    def fix(self, request, queryset):
        reason = self._reason(request)
        if not reason:
            return
        fixed = 0
        for finding in queryset.select_related("environment"):
            try:
                finding_fix(finding=finding, actor=request.user, reason=reason)
            except FindingNotFixable as exc:
                self.message_user(request, f"Finding {finding.pk} not fixed: {exc}", messages.WARNING)
                continue
            fixed += 1
        self.message_user(request, f"{fixed} finding(s) fixed.", messages.SUCCESS if fixed else messages.INFO)

    @admin.action(description="Dismiss: no action needed (give the reason)", permissions=["change"])
    def dismiss(self, request, queryset):
        reason = self._reason(request)
        if not reason:
            return
        count = sum(finding_dismiss(finding=finding, actor=request.user, reason=reason) for finding in queryset)
        self.message_user(request, f"{count} finding(s) dismissed.", messages.SUCCESS)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "environment",
        "trigger",
        "night",
        "status",
        "started_at",
        "duration",
        "findings_opened",
        "findings_still_open",
        "findings_resolved",
        "truncated",
        "error",
    )
    list_filter = ("status", "trigger", "truncated", ("started_at", admin.DateFieldListFilter), "environment")
    list_select_related = ("environment__organisation",)
    show_full_result_count = False
    raw_id_fields = ("environment",)
    readonly_fields = (
        "environment",
        "trigger",
        "night",
        "status",
        "started_at",
        "finished_at",
        "window_start",
        "counts",
        "truncated",
        "findings_opened",
        "findings_still_open",
        "findings_resolved",
        "error",
    )
    fields = readonly_fields

    @admin.display(description="Duration (s)")
    def duration(self, run: ReconciliationRun) -> str:
        seconds = run.duration_seconds
        return "-" if seconds is None else f"{seconds:.2f}"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
