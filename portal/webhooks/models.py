"""One webhook delivery as received (eConnect PSB, AFAS Profit), kept until it has been processed (and audited
afterwards)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.events.messages import render_data


class WebhookOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting to be processed")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Nothing to do")
    FAILED = "failed", _("Failed")


class WebhookSource(models.TextChoices):
    ECONNECT = "econnect", _("eConnect")
    AFAS = "afas", _("AFAS Profit")


class WebhookEvent(models.Model):
    """Stored before the sender gets its 2xx: a delivery that is answered is never lost. The same event delivered
    twice (eConnect and AFAS retry what failed) is one row (``source`` and ``event_key``)."""

    Outcome = WebhookOutcome
    Source = WebhookSource

    environment = models.ForeignKey(
        "organisations.Environment", on_delete=models.PROTECT, related_name="webhook_events"
    )
    source = models.CharField(max_length=10, choices=WebhookSource.choices, default=WebhookSource.ECONNECT)
    topic = models.CharField(max_length=100)
    document_id = models.CharField(
        "document id",
        max_length=200,
        blank=True,
        help_text="eConnect's document id, or AFAS's dossier item (SubjectId).",
    )
    event_key = models.CharField(max_length=400)
    body = models.BinaryField("body as received")
    received_at = models.DateTimeField(auto_now_add=True)
    deliveries = models.PositiveIntegerField(default=1, help_text="How often the sender delivered this event.")
    outcome = models.CharField(max_length=20, choices=WebhookOutcome.choices, default=WebhookOutcome.PENDING)
    outcome_message = models.TextField(blank=True)
    outcome_message_data = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its processing was queued; not queued again until that is 5 minutes ago."
    )
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "source", "event_key"], name="webhook_event_once_per_source"
            ),
            models.CheckConstraint(condition=Q(source__in=WebhookSource.values), name="webhook_source_valid"),
            models.CheckConstraint(condition=Q(outcome__in=WebhookOutcome.values), name="webhook_outcome_valid"),
        ]
        indexes = [
            models.Index(fields=["outcome", "next_attempt_at"], name="webhook_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.document_id}".strip()

    @property
    def outcome_text(self) -> str:
        """The outcome in the reader's language (a remote system's own words as they are)."""
        return render_data(self.outcome_message_data, self.outcome_message)
