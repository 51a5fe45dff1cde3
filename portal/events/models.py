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


class EventKind(models.TextChoices):
    """What happened. Every Event has one of these; ``event_record`` refuses any other."""

    STATUS_CHANGED = "status_changed", _("Status changed")
    RECEIVED = "received", _("Received")
    COLLECTED = "collected", _("Collected from AFAS")
    MARKED_ORIGINAL = "marked_original", _("Marked as original")
    DELIVER_AGAIN = "deliver_again", _("Delivered again")
    CONFIRMED_IN_AFAS = "confirmed_in_afas", _("Confirmed in AFAS")
    ACKNOWLEDGED_AGAIN = "acknowledged_again", _("Acknowledged again")
    INBOX_BACKFILL = "inbox_backfill", _("Inbox read again from an earlier date")
    ECONNECT_STATUS_UNKNOWN = "econnect_status_unknown", _("eConnect status unknown to the portal")
    STATUS_ADOPTED = "status_adopted", _("eConnect's status adopted")
    RECORDED_FROM_ECONNECT = "recorded_from_econnect", _("Recorded from eConnect")
    TEST_INVOICE = "test_invoice", _("Test invoice")
    TEST_RETURNED = "test_returned", _("Test invoice came back")
    DOCUMENT_REMOVED = "document_removed", _("Document removed after retention")
    ENVIRONMENT_CREATED = "environment_created", _("Environment created")
    ENVIRONMENT_IMPORTED = "environment_imported", _("Environment imported")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    CREDENTIALS_CHANGED = "credentials_changed", _("Credentials changed")
    CONNECTION_TESTED = "connection_tested", _("Connection tested")
    AFAS_SETUP_CHECKED = "afas_setup_checked", _("AFAS setup checked")
    AFAS_LINK_CONFIRMED = "afas_link_confirmed", _("AFAS's own eConnect link confirmed off")
    SENDING_SWITCHED = "sending_switched", _("Sending switched")
    RECEIVING_SWITCHED = "receiving_switched", _("Receiving switched")
    OWN_IDENTIFIER_ADDED = "own_identifier_added", _("Own identifier added")
    OWN_IDENTIFIER_REMOVED = "own_identifier_removed", _("Own identifier removed")
    ROUTE_REGISTRATION = "route_registration", _("Peppol directory checked")
    ROUTE_CONFLICT = "route_conflict", _("Route conflict")
    ROUTE_OVERRIDE = "route_override", _("Route allowed by support")
    ROUTE_OVERRIDE_CLEARED = "route_override_cleared", _("Route override cleared")
    CONTACTS_SYNCED = "contacts_synced", _("Contacts synced")
    CONTACTS_SYNC_FAILED = "contacts_sync_failed", _("Contacts sync failed")
    CONTACTS_SYNC_RECOVERED = "contacts_sync_recovered", _("Contacts sync works again")
    IDENTIFIERS_CHANGED = "identifiers_changed", _("Identifiers changed")
    PEPPOL_LOOKUP_CHANGED = "peppol_lookup_changed", _("Peppol lookup changed")
    IDENTIFIER_WRITTEN_BACK = "identifier_written_back", _("Identifier written back to AFAS")
    IDENTIFIER_WRITE_BACK_FAILED = "identifier_write_back_failed", _("Writing the identifier back failed")
    CONTACT_JOB_STARTED = "contact_job_started", _("Contact job started")
    CONTACT_JOB_CANCELLED = "contact_job_cancelled", _("Contact job cancelled")
    CONTACT_JOB_DONE = "contact_job_done", _("Contact job finished")
    CONTACT_JOB_FAILED = "contact_job_failed", _("Contact job stopped")
    RECONCILIATION_FINDING = "reconciliation_finding", _("Reconciliation finding")
    RECONCILIATION_RESOLVED = "reconciliation_resolved", _("Reconciliation finding resolved")
    RECONCILIATION_FIXED = "reconciliation_fixed", _("Reconciliation finding fixed")
    RECONCILIATION_DISMISSED = "reconciliation_dismissed", _("Reconciliation finding dismissed")
    WEBHOOK_REFUSED = "webhook_refused", _("Webhook refused")
    WEBHOOKS_CONNECTED = "webhooks_connected", _("eConnect webhooks connected")
    AFAS_WEBHOOKS_SET_UP = "afas_webhooks_set_up", _("AFAS webhook set up")
    AFAS_WEBHOOK_TEST = "afas_webhook_test", _("AFAS webhook test message")
    CUSTOMER_RESPONSE = "customer_response", _("Response of the customer")
    RECIPIENT_ADDRESS_SET = "recipient_address_set", _("Customer's Peppol address set")
    RESPONSE_SENT = "response_sent", _("Response sent to the supplier")


class Event(models.Model):
    """One entry of a timeline: a state change or decision, who or what made it, and why. Append-only."""

    Kind = EventKind

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
    kind = models.CharField(max_length=60, choices=EventKind.choices, help_text="What happened.")
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
