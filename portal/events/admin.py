from __future__ import annotations

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from portal.events.models import Event

# ``text`` and ``actor_label`` are the message and the actor in the reader's language; ``message`` (English, as
# recorded) stays what the search looks in.
EVENT_FIELDS = ("created_at", "kind", "from_status", "to_status", "text", "reason", "actor_label")


class LatestEventsFormSet(BaseInlineFormSet):
    """Shows the newest events only, so a long history does not make the change page slow."""

    limit = 100

    def get_queryset(self):
        if not hasattr(self, "_latest_events"):
            self._latest_events = super().get_queryset()[: self.limit]
        return self._latest_events


class EventInline(admin.TabularInline):
    model = Event
    formset = LatestEventsFormSet
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS
    ordering = ("-created_at", "-id")
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = _("Timeline (newest 100)")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EnvironmentEventInline(EventInline):
    """Events about the environment itself; document events are on the documents."""

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(outgoing_invoice__isnull=True, incoming_invoice__isnull=True, contact__isnull=True)
        )


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "environment", "to_status", "actor_label", "text")
    list_filter = ("kind", "actor_type", ("created_at", admin.DateFieldListFilter), "environment__organisation__firm")
    search_fields = ("message", "reason", "actor_name", "kind")
    list_select_related = ("environment__organisation",)
    show_full_result_count = False
    readonly_fields = [*(field.name for field in Event._meta.fields), "text"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
