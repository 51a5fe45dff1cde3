from __future__ import annotations

from django.contrib import admin, messages

from integrations.http import RemoteError
from portal.contacts import lookups
from portal.contacts.models import Contact, ContactIdentifier, ContactJob
from portal.events.admin import EventInline


class ContactIdentifierInline(admin.TabularInline):
    model = ContactIdentifier
    fields = (
        "scheme",
        "value",
        "source",
        "is_valid",
        "invalid_reason",
        "can_receive_invoice",
        "can_receive_credit_note",
        "access_point",
        "looked_up_at",
        "confirmed_at",
    )
    readonly_fields = fields  # derived from AFAS: change them in AFAS
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "afas_id",
        "kind",
        "environment",
        "lookup_outcome",
        "peppol_identifier_display",
        "route_display",
        "afas_state",
        "lookup_checked_at",
    )
    list_filter = (
        "kind",
        "lookup_outcome",
        "afas_state",
        "environment__afas_environment_type",
        "environment__organisation__firm",
    )
    search_fields = ("name", "afas_id", "kvk_number", "oin", "vat_number", "econnect_id", "identifiers__value")
    list_select_related = ("environment__organisation",)
    show_full_result_count = False
    readonly_fields = (
        "environment", "kind", "afas_id", "name", "kvk_number", "oin", "vat_number", "econnect_id", "issue_method",
        "email", "afas_state", "afas_modified_at", "identifier_problems", "lookup_outcome", "lookup_detail",
        "lookup_checked_at", "lookup_due_at", "lookup_error", "peppol_scheme", "peppol_value", "receives_invoices",
        "receives_credit_notes", "peppol_access_point", "created_at", "updated_at",
    )  # fmt: skip
    inlines = [ContactIdentifierInline, EventInline]
    actions = ["look_up_now", "write_back"]

    def has_add_permission(self, request):
        return False  # contacts come from AFAS

    @admin.display(description="Peppol identifier")
    def peppol_identifier_display(self, obj):
        return obj.peppol_identifier or "-"

    @admin.display(description="Route")
    def route_display(self, obj):
        return obj.route.label if obj.kind == Contact.Kind.DEBTOR else "-"

    @admin.action(description="Look up in the Peppol directory now", permissions=["change"])
    def look_up_now(self, request, queryset):
        for contact in queryset[:100]:
            try:
                lookups.contact_look_up_now(contact=contact)
            except RemoteError as exc:
                self.message_user(request, f"The Peppol directory could not be asked: {exc.message}", messages.ERROR)
                return
        self.message_user(request, "Looked up; the outcomes are in the list.")

    @admin.action(description="Write the reachable identifier to AFAS (EnId)", permissions=["change"])
    def write_back(self, request, queryset):
        written = 0
        for contact in queryset[:100]:
            try:
                lookups.contact_confirm_identifier(contact=contact, actor=request.user)
            except (lookups.ContactNotConfirmable, RemoteError) as exc:
                self.message_user(request, f"{contact}: {exc.message}", messages.ERROR)
            else:
                written += 1
        if written:
            self.message_user(request, f"{written} identifier(s) written to AFAS.", messages.SUCCESS)


@admin.register(ContactJob)
class ContactJobAdmin(admin.ModelAdmin):
    list_display = ("__str__", "environment", "state", "processed", "total", "failed", "created_at", "finished_at")
    list_filter = ("kind", "state")
    list_select_related = ("environment__organisation",)
    readonly_fields = [field.name for field in ContactJob._meta.fields]
    actions = ["cancel"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel", permissions=["change"])
    def cancel(self, request, queryset):
        done = sum(lookups.contact_job_cancel(job=job, actor=request.user) for job in queryset)
        self.message_user(request, f"{done} job(s) cancelled.")
