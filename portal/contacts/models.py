from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.core.models_base import PeppolIdentifierFields, TimeStampedModel
from portal.core.validators import ICD_SCHEME_PATTERN


class ContactKind(models.TextChoices):
    DEBTOR = "debtor", _("Debtor (customer)")
    CREDITOR = "creditor", _("Creditor (supplier)")


class ContactAfasState(models.TextChoices):
    ACTIVE = "active", _("Active")
    BLOCKED = "blocked", _("Blocked in AFAS")
    DELETED = "deleted", _("Deleted in AFAS")


class LookupOutcome(models.TextChoices):
    NOT_CHECKED = "not_checked", _("Not checked yet")
    REACHABLE = "reachable", _("Reachable via Peppol")
    NOT_ON_PEPPOL = "not_on_peppol", _("Not on Peppol")
    CANNOT_RECEIVE = "cannot_receive", _("On Peppol, cannot receive invoices or credit notes")
    IDENTIFIER_INVALID = "identifier_invalid", _("Identifier invalid")


class Contact(TimeStampedModel):
    """An AFAS debtor (customer) or creditor (supplier) of one environment."""

    Kind = ContactKind

    AfasState = ContactAfasState

    LookupOutcome = LookupOutcome

    environment = models.ForeignKey("organisations.Environment", on_delete=models.PROTECT, related_name="contacts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    afas_id = models.CharField("AFAS number", max_length=50, help_text="Debtor or creditor number in AFAS.")
    name = models.CharField(max_length=255)
    kvk_number = models.CharField("KvK number", max_length=50, blank=True)
    oin = models.CharField("OIN", max_length=50, blank=True)
    vat_number = models.CharField("VAT number", max_length=50, blank=True)
    econnect_id = models.CharField("eConnect id (EnId)", max_length=100, blank=True)
    issue_method = models.CharField(
        "issue method (InPv)", max_length=10, blank=True, help_text="How AFAS issues invoices to this debtor."
    )
    email = models.EmailField(blank=True)
    afas_state = models.CharField(max_length=10, choices=AfasState.choices, default=AfasState.ACTIVE)
    afas_modified_at = models.DateTimeField(null=True, blank=True)
    lookup_outcome = models.CharField(max_length=20, choices=LookupOutcome.choices, default=LookupOutcome.NOT_CHECKED)
    lookup_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "kind", "afas_id"], name="contact_unique_afas_id"),
            models.CheckConstraint(condition=Q(kind__in=ContactKind.values), name="contact_kind_valid"),
            models.CheckConstraint(
                condition=Q(afas_state__in=ContactAfasState.values), name="contact_afas_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(lookup_outcome__in=LookupOutcome.values), name="contact_lookup_outcome_valid"
            ),
        ]
        indexes = [models.Index(fields=["environment", "kind", "lookup_outcome"], name="contact_readiness_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.afas_id})"


class IdentifierSource(models.TextChoices):
    ECONNECT_ID = "econnect_id", _("eConnect id field (EnId)")
    KVK = "kvk", _("KvK number")
    OIN = "oin", _("OIN")
    VAT = "vat", _("VAT number")
    MANUAL = "manual", _("Entered in the portal")


class ContactIdentifier(PeppolIdentifierFields):
    """A candidate Peppol identifier of a contact, derived from its AFAS fields, with validation and lookup."""

    Source = IdentifierSource

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identifiers")
    source = models.CharField(max_length=20, choices=Source.choices)
    is_valid = models.BooleanField(default=True)
    invalid_reason = models.TextField(blank=True)
    can_receive_invoice = models.BooleanField(null=True, blank=True, help_text="Empty until looked up.")
    can_receive_credit_note = models.BooleanField(null=True, blank=True, help_text="Empty until looked up.")
    access_point = models.CharField(max_length=200, blank=True)
    looked_up_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When someone confirmed this identifier and it was written to AFAS."
    )

    class Meta:
        constraints = [
            # One canonical identifier per contact and scheme.
            models.UniqueConstraint(fields=["contact", "scheme"], name="contact_identifier_one_per_scheme"),
            models.CheckConstraint(
                condition=Q(scheme__regex=ICD_SCHEME_PATTERN), name="contact_identifier_scheme_format"
            ),
            models.CheckConstraint(condition=~Q(value=""), name="contact_identifier_value_not_empty"),
            models.CheckConstraint(
                condition=Q(source__in=IdentifierSource.values), name="contact_identifier_source_valid"
            ),
        ]
        indexes = [models.Index(fields=["scheme", "value"], name="contact_identifier_lookup_idx")]

    def __str__(self) -> str:
        return self.identifier
