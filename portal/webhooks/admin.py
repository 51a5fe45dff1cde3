from django.contrib import admin

from portal.webhooks.models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Read-only: what eConnect pushed and what became of it."""

    list_display = ("received_at", "environment", "source", "topic", "document_id", "outcome", "deliveries", "attempts")
    list_filter = ("source", "outcome", "topic")
    search_fields = ("document_id", "environment__organisation__name", "environment__afas_participant_number")
    readonly_fields = [field.name for field in WebhookEvent._meta.fields if field.name != "body"] + ["outcome_text"]
    exclude = ("body",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
