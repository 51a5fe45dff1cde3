from __future__ import annotations

from django.contrib import admin

from portal.contacts.models import Contact, ContactIdentifier
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
    readonly_fields = ("looked_up_at", "confirmed_at")
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "afas_id", "kind", "environment", "lookup_outcome", "afas_state", "lookup_checked_at")
    list_filter = (
        "kind",
        "lookup_outcome",
        "afas_state",
        "environment__afas_environment_type",
        "environment__organisation__firm",
    )
    search_fields = ("name", "afas_id", "kvk_number", "oin", "vat_number", "econnect_id", "identifiers__value")
    list_select_related = ("environment__organisation",)
    autocomplete_fields = ("environment",)
    show_full_result_count = False
    inlines = [ContactIdentifierInline, EventInline]
