from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.core.choices import DocumentType
from portal.core.validators import CURRENCY_PATTERN, SHA256_PATTERN
from portal.documents.models import DocumentWork


class IncomingStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    HELD = "held", _("Held")
    READY = "ready", _("Ready to deliver")
    DELIVERING = "delivering", _("Delivering to AFAS")
    RETRY_WAIT = "retry_wait", _("Waiting to retry")
    DELIVERED = "delivered", _("In AFAS, acknowledging")
    ACKNOWLEDGED = "acknowledged", _("In AFAS and acknowledged")
    FAILED = "failed", _("Failed")
    RESOLVED_MANUALLY = "resolved_manually", _("Resolved manually")
    # The organisation's own test invoice came back: acknowledged at eConnect, never delivered to AFAS.
    TEST_RECEIVED = "test_received", _("Own test invoice: acknowledging, not booked")
    TEST_DONE = "test_done", _("Own test invoice: received back, not booked")


class HoldReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate")
    ECONNECT_FLAG_DISPUTED = "econnect_flag_disputed", _("eConnect duplicate flag likely wrong: different supplier")
    UNPARSEABLE = "unparseable", _("Cannot be read")
    HOSTILE = "hostile", _("Refused as unsafe XML")
    VAT_NOT_MAPPABLE = "vat_not_mappable", _("VAT cannot be mapped to AFAS Small Business")
    DELIVERY_UNCERTAIN = "delivery_uncertain", _("Delivery to AFAS interrupted: check AFAS before delivering again")
    TEST_UNMATCHED = "test_unmatched", _("Marked as the portal's test invoice, but matches none sent")
    OTHER_PARTY = "other_party", _("Addressed to another party: not delivered, not acknowledged")


class DuplicateVerdict(models.TextChoices):
    NOT_CHECKED = "not_checked", _("Not checked yet")
    ORIGINAL = "original", _("Original")
    CERTAIN_DUPLICATE = "certain_duplicate", _("Duplicate: identical file")
    DUPLICATE = "duplicate", _("Duplicate: same supplier, number, type and date")
    SUSPECTED_DUPLICATE = "suspected_duplicate", _("Suspected duplicate: amounts differ")
    SUPPLIER_UNKNOWN = "supplier_unknown", _("Not compared: supplier not resolved")


class IncomingInvoice(DocumentWork):
    """One purchase document received via eConnect, kept byte for byte, on its way into AFAS."""

    Status = IncomingStatus

    HoldReason = HoldReason

    DuplicateVerdict = DuplicateVerdict

    environment = models.ForeignKey(
        "organisations.Environment", on_delete=models.PROTECT, related_name="incoming_invoices"
    )
    econnect_document_id = models.CharField("eConnect document id", max_length=100)
    raw_xml = models.BinaryField("document as received")
    sha256 = models.CharField("SHA-256", max_length=64)
    document_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the XML was removed after the retention period (metadata and hash kept)."
    )
    econnect_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="PSB: when the portal removed the document at eConnect (after AFAS took it)."
    )

    parse_error = models.TextField(blank=True)
    document_type = models.CharField(max_length=20, choices=DocumentType.choices, blank=True)
    invoice_number = models.CharField(max_length=100, blank=True)
    normalised_invoice_number = models.CharField(max_length=100, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    supplier_name = models.CharField(max_length=255, blank=True)
    supplier_identifiers = models.JSONField(default=list, blank=True, help_text="Endpoint id, KvK, OIN, VAT, IBAN.")
    supplier_key = models.CharField(
        max_length=120, blank=True, help_text="The supplier the identifiers resolved to; empty when unresolved."
    )
    supplier = models.ForeignKey(
        "contacts.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="incoming_invoices"
    )
    payable_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    tax_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    # BT-111: the VAT in the VAT accounting currency, when the document is in another currency (a DKK invoice with
    # its VAT in EUR for the Dutch VAT return).
    tax_currency = models.CharField(max_length=3, blank=True)
    tax_amount_in_tax_currency = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    vat_breakdown = models.JSONField(default=list, blank=True)
    attachments = models.JSONField(default=list, blank=True)

    econnect_allowed_statuses = models.JSONField(
        "eConnect's allowed statuses",
        default=list,
        blank=True,
        help_text="The statuses eConnect allows for this document ([{code, name}]), read when it was fetched; the "
        "acknowledgement uses one of them.",
    )
    receiver_evidence = models.JSONField(
        default=dict,
        blank=True,
        help_text="To whom the document is addressed, beside the environment's own identifiers, when it is not one "
        "of them.",
    )
    econnect_duplicate_flag = models.BooleanField("eConnect says duplicate", default=False)
    duplicate_verdict = models.CharField(
        max_length=20, choices=DuplicateVerdict.choices, default=DuplicateVerdict.NOT_CHECKED
    )
    duplicate_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates")
    duplicate_evidence = models.JSONField(default=dict, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    hold_reason = models.CharField(max_length=30, choices=HoldReason.choices, blank=True)
    released_at = models.DateTimeField(null=True, blank=True, help_text="When someone marked it as original.")
    afas_reference = models.CharField("AFAS reference", max_length=100, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "econnect_document_id"], name="incoming_unique_econnect_document_id"
            ),
            models.CheckConstraint(condition=Q(sha256__regex=SHA256_PATTERN), name="incoming_sha256_format"),
            models.CheckConstraint(condition=Q(status__in=IncomingStatus.values), name="incoming_status_valid"),
            models.CheckConstraint(
                condition=Q(duplicate_verdict__in=DuplicateVerdict.values), name="incoming_verdict_valid"
            ),
            models.CheckConstraint(
                condition=Q(document_type="") | Q(document_type__in=DocumentType.values),
                name="incoming_document_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(currency="") | Q(currency__regex=CURRENCY_PATTERN), name="incoming_currency_format"
            ),
            models.CheckConstraint(condition=~Q(status="held") | ~Q(hold_reason=""), name="incoming_held_has_reason"),
        ]
        indexes = [
            models.Index(fields=["environment", "-created_at"], name="incoming_inbox_idx"),
            models.Index(fields=["environment", "status"], name="incoming_env_status_idx"),
            models.Index(fields=["status", "next_attempt_at"], name="incoming_due_idx"),
            models.Index(fields=["environment", "sha256"], name="incoming_sha256_idx"),
            models.Index(
                fields=["environment", "supplier_key", "normalised_invoice_number", "document_type", "issue_date"],
                name="incoming_duplicate_key_idx",
            ),
            # Same number and date across suppliers: the evidence when eConnect's flag is disputed.
            models.Index(
                fields=["environment", "normalised_invoice_number", "issue_date"], name="incoming_number_date_idx"
            ),
            # The dashboard counts documents received per environment and day, with their state and eConnect's
            # duplicate flag, from the index alone (index-only scans).
            models.Index(
                fields=["environment", "created_at"],
                include=["status", "econnect_duplicate_flag", "duplicate_verdict", "hold_reason"],
                name="incoming_received_idx",
            ),
            # ... failed ones by when they failed, and held ones by reason: few rows, so small partial indexes.
            models.Index(
                fields=["environment", "status_changed_at"], condition=Q(status="failed"), name="incoming_failed_idx"
            ),
            models.Index(fields=["environment", "hold_reason"], condition=Q(status="held"), name="incoming_held_idx"),
            # The daily expiry looks for the oldest documents still kept: removed ones drop out of this index.
            models.Index(
                fields=["created_at"], condition=Q(document_removed_at__isnull=True), name="incoming_retention_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.invoice_number or f"incoming {self.econnect_document_id}"

    @property
    def disagrees_with_econnect(self) -> bool:
        """eConnect flagged it, but the portal found no duplicate from the same supplier."""
        return self.econnect_duplicate_flag and self.duplicate_verdict == self.DuplicateVerdict.ORIGINAL


# Statuses in which the document is in AFAS (delivered, and perhaps acknowledged at eConnect).
IN_AFAS_STATUSES = (IncomingStatus.DELIVERED, IncomingStatus.ACKNOWLEDGED)


class SupplierIdentity(models.Model):
    """One identifier (endpoint id, KvK, OIN, VAT number, IBAN) of a supplier, mapped to the supplier it belongs to.

    Documents of one supplier may carry different identifiers; any identifier seen before links a document to the
    same supplier, so duplicates are found per supplier and never across suppliers.
    """

    environment = models.ForeignKey("organisations.Environment", on_delete=models.CASCADE, related_name="+")
    identifier = models.CharField(max_length=140, help_text="e.g. 0106:12345678, VAT:NL123456789B01, IBAN:NL91...")
    supplier_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["environment", "identifier"], name="supplier_identity_unique"),
        ]
        indexes = [models.Index(fields=["environment", "supplier_key"], name="supplier_identity_key_idx")]

    def __str__(self) -> str:
        return f"{self.identifier} → {self.supplier_key}"


class ResponseCode(models.TextChoices):
    """The Invoice Responses a person sends from the inbox (eConnect PSB; AB goes automatically)."""

    REJECTED = "RE", _("Rejected")
    UNDER_QUERY = "UQ", _("Under query")


class ResponseReasonCode(models.TextChoices):
    """The reason codes eConnect documents for an Invoice Response (UNCL 4343 subset, OpenPeppol clarification)."""

    REFERENCES_INCORRECT = "REF", _("References incorrect")
    LEGAL_INFORMATION_INCORRECT = "LEG", _("Legal information incorrect")
    RECEIVER_UNKNOWN = "REC", _("Receiver unknown")
    ITEM_QUALITY = "QUA", _("Item quality insufficient")
    DELIVERY_ISSUES = "DEL", _("Delivery issues")
    PRICES_INCORRECT = "PRI", _("Prices incorrect")
    QUANTITY_INCORRECT = "QTY", _("Quantity incorrect")
    ITEMS_INCORRECT = "ITM", _("Items incorrect")
    PAYMENT_TERMS_INCORRECT = "PAY", _("Payment terms incorrect")
    NOT_RECOGNIZED = "UNR", _("Not recognised")
    FINANCE_INCORRECT = "FIN", _("Finance terms incorrect")
    OTHER = "OTH", _("Other")


class SupplierResponse(models.Model):
    """An Invoice Response (RE or UQ) a person sends the supplier from the inbox. Its document id is saved before
    the call, so sending again after any doubt is answered 409 by eConnect and counts as sent."""

    class State(models.TextChoices):
        PENDING = "pending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not sent")

    incoming_invoice = models.ForeignKey(IncomingInvoice, on_delete=models.PROTECT, related_name="responses")
    code = models.CharField(max_length=2, choices=ResponseCode.choices)
    reason = models.CharField(max_length=3, choices=ResponseReasonCode.choices)
    note = models.CharField(max_length=500, blank=True)
    response_document_id = models.CharField(max_length=64, unique=True, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    last_error = models.TextField(blank=True)
    actor = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(code__in=ResponseCode.values), name="supplier_response_code_valid"),
            models.CheckConstraint(
                condition=Q(reason__in=ResponseReasonCode.values), name="supplier_response_reason_valid"
            ),
            # One response on its way per document: a second click cannot send a second one.
            models.UniqueConstraint(
                fields=["incoming_invoice"], condition=Q(state="pending"), name="supplier_response_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.reason} for {self.incoming_invoice}"
