from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.core.choices import DocumentType
from portal.core.validators import CURRENCY_PATTERN, SHA256_PATTERN
from portal.documents.models import DocumentWork


class OutgoingStatus(models.TextChoices):
    NEW = "new", _("New")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    NOT_SENT = "not_sent", _("Not sent by the portal")
    READY = "ready", _("Ready to send")
    SUBMITTING = "submitting", _("Submitting")
    RETRY_WAIT = "retry_wait", _("Waiting to retry")
    SUBMITTED = "submitted", _("Submitted")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected")
    STALE = "stale", _("No delivery status")
    RESOLVED_MANUALLY = "resolved_manually", _("Resolved manually")


class OutgoingInvoice(DocumentWork):
    """One AFAS sales invoice or credit note on its way to the customer via eConnect and Peppol."""

    Status = OutgoingStatus

    environment = models.ForeignKey(
        "organisations.Environment", on_delete=models.PROTECT, related_name="outgoing_invoices"
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="outgoing_invoices"
    )
    afas_identity = models.CharField(
        "AFAS identity", max_length=100, help_text="The AFAS dossier item the invoice came from."
    )
    is_test = models.BooleanField(default=False, help_text="A generated test invoice, not from AFAS.")
    afas_organisation_code = models.CharField(
        "AFAS organisation code", max_length=50, blank=True, help_text="The debtor's organisation (BcCo)."
    )
    afas_issue_method = models.CharField(
        "AFAS issue method (InPv)", max_length=10, blank=True, help_text="The debtor's issue method when collected."
    )

    document_type = models.CharField(max_length=20, choices=DocumentType.choices, default=DocumentType.INVOICE)
    invoice_number = models.CharField(max_length=100, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    customer_name = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    payable_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)

    ubl = models.BinaryField("UBL as sent", help_text="The UBL document exactly as it is sent.")
    sha256 = models.CharField(
        "SHA-256", max_length=64, blank=True, help_text="Of the UBL as stored, recorded when it was stored."
    )
    document_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the UBL was removed after the retention period (metadata and hash kept)."
    )
    validation_findings = models.JSONField(default=list, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    validation_rules = models.CharField(
        max_length=200,
        blank=True,
        help_text="The official rules the invoice was checked against, e.g. 'CEN 1.3.16 + Peppol 3.0.21'; empty when "
        "no rules pack was installed and only its structure was checked.",
    )

    recipient_scheme = models.CharField(max_length=4, blank=True)
    recipient_value = models.CharField(max_length=100, blank=True)
    recipient_lookups = models.JSONField(
        default=list, blank=True, help_text="Which identifiers were looked up on Peppol, and what the directory said."
    )

    submission_reference = models.CharField(
        max_length=64, blank=True, help_text="Our reference for eConnect, saved before the document is sent."
    )
    submission_prepared_at = models.DateTimeField(
        null=True, blank=True, help_text="When the reference was saved: eConnect's outbox is searched from there."
    )
    econnect_document_id = models.CharField("eConnect document id", max_length=100, blank=True)
    econnect_status = models.CharField("eConnect status", max_length=100, blank=True)
    econnect_status_code = models.CharField("eConnect status code", max_length=20, blank=True)
    econnect_status_unknown = models.BooleanField(
        "eConnect status unknown to the portal",
        default=False,
        help_text="eConnect reported a status the portal does not know: shown as eConnect wrote it, for support.",
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    last_error_code = models.CharField(max_length=50, blank=True, help_text="The remote system's error code.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(
        null=True, blank=True, help_text="Test invoices: when it came back through the environment's own inbox."
    )
    returned_document_id = models.CharField(
        "returned as eConnect document", max_length=100, blank=True, help_text="Test invoices: the inbox copy."
    )
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When a final status was reached.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "afas_identity"], name="outgoing_unique_afas_identity"),
            models.UniqueConstraint(
                fields=["submission_reference"],
                condition=~Q(submission_reference=""),
                name="outgoing_unique_submission_reference",
            ),
            models.UniqueConstraint(
                fields=["environment", "econnect_document_id"],
                condition=~Q(econnect_document_id=""),
                name="outgoing_unique_econnect_document_id",
            ),
            models.CheckConstraint(condition=Q(status__in=OutgoingStatus.values), name="outgoing_status_valid"),
            models.CheckConstraint(
                condition=Q(document_type__in=DocumentType.values), name="outgoing_document_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(currency="") | Q(currency__regex=CURRENCY_PATTERN), name="outgoing_currency_format"
            ),
            models.CheckConstraint(
                condition=Q(sha256="") | Q(sha256__regex=SHA256_PATTERN), name="outgoing_sha256_format"
            ),
            # Once something may have been sent, the reference that makes it safe to repeat must be kept.
            models.CheckConstraint(
                condition=~Q(
                    status__in=[
                        OutgoingStatus.SUBMITTING,
                        OutgoingStatus.RETRY_WAIT,
                        OutgoingStatus.SUBMITTED,
                        OutgoingStatus.DELIVERED,
                        OutgoingStatus.REJECTED,
                        OutgoingStatus.STALE,
                    ]
                )
                | ~Q(submission_reference=""),
                name="outgoing_reference_before_submit",
            ),
        ]
        indexes = [
            models.Index(fields=["environment", "-created_at"], name="outgoing_outbox_idx"),
            models.Index(fields=["environment", "status"], name="outgoing_env_status_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="outgoing_due_idx"),
            models.Index(fields=["environment", "invoice_number"], name="outgoing_number_idx"),
            # The readiness report sums the last twelve months per environment.
            models.Index(fields=["environment", "issue_date"], name="outgoing_env_issue_date_idx"),
            # The dashboard counts invoices sent per environment and day from the index alone (index-only scans).
            models.Index(
                fields=["environment", "submitted_at"],
                include=["status"],
                condition=Q(submitted_at__isnull=False),
                name="outgoing_sent_idx",
            ),
            # ... and failed or rejected ones by when they failed: few rows, so a small partial index.
            models.Index(
                fields=["environment", "status_changed_at"],
                include=["status"],
                condition=Q(status__in=["failed", "rejected"]),
                name="outgoing_failed_idx",
            ),
            # The daily expiry looks for the oldest documents still kept: removed ones drop out of this index.
            models.Index(
                fields=["created_at"], condition=Q(document_removed_at__isnull=True), name="outgoing_retention_idx"
            ),
        ]

    @property
    def awaiting_round_trip(self) -> bool:
        """A test invoice on its way, or delivered and expected back through the inbox (receiving on)."""
        if not self.is_test or self.returned_at is not None:
            return False
        if self.status == OutgoingStatus.DELIVERED:
            return self.environment.receiving_enabled
        return self.status in (
            OutgoingStatus.NEW,
            OutgoingStatus.READY,
            OutgoingStatus.SUBMITTING,
            OutgoingStatus.RETRY_WAIT,
            OutgoingStatus.SUBMITTED,
        )

    @property
    def checked_against_rules(self) -> bool:
        """Validated with the official rules, not only structurally (no rules pack)."""
        return self.validated_at is not None and bool(self.validation_rules)

    def __str__(self) -> str:
        return self.invoice_number or f"outgoing #{self.pk}"

    @property
    def recipient_identifier(self) -> str:
        return f"{self.recipient_scheme}:{self.recipient_value}" if self.recipient_scheme else ""
