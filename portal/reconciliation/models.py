"""The nightly comparison of eConnect, the portal and AFAS: one run per environment and night, and what it found.

A finding has a ``key`` that names the condition (e.g. ``inbox:XCNIN1001``): a rerun that finds the same condition
updates the open finding instead of adding one (one open finding per key and environment), and a run that no longer
finds it closes it as resolved.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.events.messages import render_data


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class RunTrigger(models.TextChoices):
    NIGHTLY = "nightly", _("Nightly")
    MANUAL = "manual", _("Manual")


class ReconciliationRun(models.Model):
    """One comparison of one environment. A failed run changed nothing; the next night tries again."""

    Status = RunStatus
    Trigger = RunTrigger

    environment = models.ForeignKey(
        "organisations.Environment", on_delete=models.CASCADE, related_name="reconciliation_runs"
    )
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices, default=RunTrigger.NIGHTLY)
    night = models.DateField(null=True, blank=True, help_text="The night a nightly run belongs to (one per night).")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True, help_text="Documents from here on were compared.")
    counts = models.JSONField(default=dict, blank=True, help_text="How many documents each side listed.")
    truncated = models.BooleanField(
        default=False, help_text="A side had more documents than one run reads: open findings were not closed."
    )
    findings_opened = models.PositiveIntegerField(default=0)
    findings_still_open = models.PositiveIntegerField(default=0)
    findings_resolved = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the run failed; nothing was changed.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "night"], condition=Q(trigger="nightly"), name="reconciliation_one_per_night"
            ),
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="reconciliation_run_status_valid"),
            models.CheckConstraint(condition=Q(trigger__in=RunTrigger.values), name="reconciliation_run_trigger_valid"),
        ]
        indexes = [
            models.Index(fields=["environment", "-started_at"], name="reconciliation_run_env_idx"),
            models.Index(fields=["status", "started_at"], name="reconciliation_run_status_idx"),
        ]

    def __str__(self) -> str:
        return f"reconciliation #{self.pk} of environment {self.environment_id} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class FindingKind(models.TextChoices):
    MISSING_IN_AFAS = "missing_in_afas", _("Delivered to AFAS, but not in AFAS")
    UNSEEN_INBOX = "unseen_inbox", _("Received at eConnect, never seen by the portal")
    UNSEEN_OUTBOX = "unseen_outbox", _("Sent via eConnect, not known to the portal")
    OUTGOING_STATUS = "outgoing_status", _("Sending status differs from eConnect's")
    INCOMING_STATUS = "incoming_status", _("Processed in the portal, still new at eConnect")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FIXED = "fixed", _("Fixed")
    DISMISSED = "dismissed", _("Dismissed")
    RESOLVED = "resolved", _("No longer found")


class ReconciliationFinding(models.Model):
    """One disagreement between eConnect, the portal and AFAS, until it is fixed, dismissed or no longer found."""

    Kind = FindingKind
    Status = FindingStatus

    environment = models.ForeignKey(
        "organisations.Environment", on_delete=models.CASCADE, related_name="reconciliation_findings"
    )
    kind = models.CharField(max_length=20, choices=FindingKind.choices)
    key = models.CharField(max_length=150, help_text="The condition found, e.g. inbox:XCNIN1001.")
    status = models.CharField(max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    outgoing_invoice = models.ForeignKey(
        "outgoing_invoices.OutgoingInvoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    incoming_invoice = models.ForeignKey(
        "incoming_invoices.IncomingInvoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    econnect_document_id = models.CharField("eConnect document id", max_length=100, blank=True)
    afas_reference = models.CharField("AFAS reference", max_length=100, blank=True)
    document_at = models.DateTimeField(
        null=True, blank=True, help_text="When the document was sent, received or delivered: the run's window."
    )
    details = models.JSONField(default=dict, blank=True, help_text="What each side said.")
    first_run = models.ForeignKey(ReconciliationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_run = models.ForeignKey(ReconciliationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="Why it was fixed or dismissed, in the person's words.")
    outcome = models.TextField(blank=True, help_text="What the fix did, or why the finding was closed.")
    outcome_data = models.JSONField(
        default=dict, blank=True, help_text="The same as a message key, shown in the reader's language."
    )

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            # A rerun updates the open finding of the same condition instead of adding a second one.
            models.UniqueConstraint(
                fields=["environment", "key"], condition=Q(status="open"), name="reconciliation_one_open_per_key"
            ),
            models.CheckConstraint(condition=Q(kind__in=FindingKind.values), name="reconciliation_finding_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=FindingStatus.values), name="reconciliation_finding_status_valid"
            ),
        ]
        indexes = [
            # The dashboard counts open findings per environment from this small partial index.
            models.Index(fields=["environment"], condition=Q(status="open"), name="reconciliation_open_idx"),
            models.Index(fields=["status", "kind"], name="reconciliation_status_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.key})"

    @property
    def outcome_text(self) -> str:
        return render_data(self.outcome_data, self.outcome)

    @property
    def is_open(self) -> bool:
        return self.status == FindingStatus.OPEN
