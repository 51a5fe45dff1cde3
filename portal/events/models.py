from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.events.messages import actor_label, render_data


class AppendOnlyError(RuntimeError):
    pass


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Events are append-only: they cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Events are append-only: they cannot be deleted.")


class Event(models.Model):
    """One entry of a timeline: a state change or decision, who or what made it, and why. Append-only."""

    class ActorType(models.TextChoices):
        USER = "user", _("Person")
        SYSTEM = "system", _("System")

    created_at = models.DateTimeField(auto_now_add=True)
    environment = models.ForeignKey("organisations.Environment", on_delete=models.PROTECT, related_name="events")
    outgoing_invoice = models.ForeignKey(
        "outgoing_invoices.OutgoingInvoice", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    incoming_invoice = models.ForeignKey(
        "incoming_invoices.IncomingInvoice", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150, help_text="The user's name at the time, or the part of the system that acted."
    )
    kind = models.CharField(max_length=60, help_text="What happened, e.g. status_changed or credentials_changed.")
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    message = models.TextField(help_text="In English, as recorded: the audit trail and what the admin searches.")
    message_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="The message as a key of portal.events.catalogue and its parameters, shown in the reader's language.",
    )
    reason = models.TextField(blank=True, help_text="Why, in the actor's words.")
    data = models.JSONField(default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(outgoing_invoice__isnull=True, incoming_invoice__isnull=True)
                    | Q(outgoing_invoice__isnull=True, contact__isnull=True)
                    | Q(incoming_invoice__isnull=True, contact__isnull=True)
                ),
                name="event_one_subject_at_most",
            ),
            models.CheckConstraint(
                condition=Q(actor_type="system", actor__isnull=True) | Q(actor_type="user", actor__isnull=False),
                name="event_actor_matches_type",
            ),
        ]
        indexes = [
            models.Index(fields=["environment", "-created_at"], name="event_environment_idx"),
            models.Index(fields=["kind", "-created_at"], name="event_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Events are append-only: they cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Events are append-only: they cannot be deleted.")

    @property
    def text(self) -> str:
        """The message in the reader's language (entries from before message keys: as recorded)."""
        return render_data(self.message_data, self.message)

    @property
    def actor_label(self) -> str:
        """Who acted: the person's name, or the part of the system in the reader's language."""
        return self.actor_name if self.actor_type == self.ActorType.USER else actor_label(self.actor_name)
