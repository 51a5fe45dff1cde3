from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.core.fields import CredentialField
from portal.core.models_base import PeppolIdentifierFields, TimeStampedModel
from portal.core.validators import (
    AFAS_PARTICIPANT_PATTERN,
    ICD_SCHEME_PATTERN,
    KVK_PATTERN,
    afas_participant_validator,
    afas_sb_environment_validator,
    econnect_group_validator,
    kvk_validator,
)
from portal.events.messages import render_data

# The Environment fields that hold secrets: encrypted, write-only, deferred wherever they are not used.
CREDENTIAL_FIELDS = (
    "afas_token",
    "econnect_app_key",
    "econnect_app_secret",
    "econnect_psb_client_id",
    "econnect_psb_client_secret",
    "econnect_hook_secret",
    "afas_hook_password",
)


class Firm(TimeStampedModel):
    """An accounting firm: the tenant. Its accountants see only its organisations."""

    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organisation(TimeStampedModel):
    """A client of the firm, booking in AFAS."""

    firm = models.ForeignKey(Firm, on_delete=models.PROTECT, related_name="organisations")
    name = models.CharField(max_length=200)
    kvk_number = models.CharField("KvK number", max_length=8, validators=[kvk_validator])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "kvk_number"], name="organisation_kvk_unique_per_firm"),
            models.CheckConstraint(condition=Q(kvk_number__regex=KVK_PATTERN), name="organisation_kvk_format"),
        ]

    def __str__(self) -> str:
        return self.name


class EnvironmentType(models.TextChoices):
    PRODUCTION = "production", _("Production")
    TEST = "test", _("Test")
    ACCEPT = "accept", _("Acceptance")


class EnvironmentEdition(models.TextChoices):
    PROFIT = "profit", _("AFAS Profit")
    SMALL_BUSINESS = "small_business", _("AFAS Small Business")


class EConnectTransport(models.TextChoices):
    """How the environment talks to eConnect: the platform SOAP API (deprecated, closed to new connections) or the
    PSB REST API that firms onboarding now get credentials for."""

    PLATFORM = "soap", _("eConnect platform (connection keys)")
    PSB = "psb", _("eConnect PSB (REST)")


class SbRelationType(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation (a creditor)")
    UNKNOWN = "unknown", _("Diverse creditors (SB's unknown relation)")


class Environment(TimeStampedModel):
    """One AFAS environment of an organisation, with its own AFAS token and eConnect connection keys."""

    Type = EnvironmentType

    Edition = EnvironmentEdition

    SbRelationType = SbRelationType

    EConnectTransport = EConnectTransport

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="environments")
    afas_participant_number = models.CharField(
        "AFAS participant number", max_length=6, validators=[afas_participant_validator]
    )
    afas_environment_type = models.CharField(
        "AFAS environment type", max_length=20, choices=Type.choices, default=Type.PRODUCTION
    )
    afas_edition = models.CharField("AFAS edition", max_length=20, choices=Edition.choices, default=Edition.PROFIT)

    # Write-only everywhere: set through environment_set_credentials, never rendered.
    afas_token = CredentialField("AFAS token", blank=True, default="")
    econnect_app_key = CredentialField("eConnect App Key", blank=True, default="")
    econnect_app_secret = CredentialField("eConnect Secret", blank=True, default="")
    econnect_transport = models.CharField(
        "eConnect transport", max_length=10, choices=EConnectTransport.choices, default=EConnectTransport.PLATFORM
    )
    econnect_psb_client_id = CredentialField("eConnect PSB client id", blank=True, default="")
    econnect_psb_client_secret = CredentialField("eConnect PSB client secret", blank=True, default="")
    econnect_hook_token = models.CharField(
        "eConnect webhook path token",
        max_length=64,
        blank=True,
        editable=False,
        help_text="The unguessable part of the address eConnect PSB posts this environment's webhooks to.",
    )
    econnect_hook_secret = CredentialField("eConnect webhook secret", blank=True, default="")
    econnect_hooks_connected_at = models.DateTimeField(null=True, blank=True, editable=False)
    # AFAS Profit 8 dossier webhooks (optional): a new sales invoice is collected at once instead of at the next poll.
    afas_hook_token = models.CharField(
        "AFAS webhook path token",
        max_length=64,
        blank=True,
        editable=False,
        help_text="The unguessable part of the address AFAS Profit posts this environment's dossier webhooks to.",
    )
    afas_hook_password = CredentialField("AFAS webhook password", blank=True, default="")
    afas_hooks_set_up_at = models.DateTimeField(null=True, blank=True, editable=False)
    econnect_psb_send_acknowledgement = models.BooleanField(
        "Send an acknowledgement (AB) over PSB",
        default=False,
        help_text="PSB only: once AFAS accepted a purchase invoice, tell the supplier with an Invoice Response AB.",
    )
    econnect_psb_remove_after_delivery = models.BooleanField(
        "Remove received documents at eConnect once in AFAS",
        default=False,
        help_text="PSB only: delete a purchase invoice at eConnect once AFAS accepted it (eConnect would keep it "
        "seven days after download).",
    )
    econnect_psb_party_id = models.CharField(
        "eConnect PSB party id",
        max_length=80,
        blank=True,
        help_text="The party the environment sends and receives as at eConnect PSB, e.g. NL:KVK:12345678.",
    )
    afas_sales_invoice_subject_type = models.IntegerField(
        "AFAS dossier item type of sales invoices",
        null=True,
        blank=True,
        help_text="Only when needed: the dossier item type (Profit_SubjectTypes) under which Profit files issued "
        "sales invoices. Empty: every dossier item linked to a sales invoice.",
    )
    econnect_group_id = models.CharField(
        "eConnect company id (GroupId)",
        max_length=40,
        blank=True,
        validators=[econnect_group_validator],
        help_text="The eConnect company whose inbox and outbox this environment reads, e.g. XCNL10019. Needed when "
        "the connection keys' user sees several companies; empty: the keys' own inbox.",
    )
    afas_own_econnect_link_off_at = models.DateTimeField(
        "AFAS's own eConnect link confirmed off",
        null=True,
        blank=True,
        editable=False,
        help_text="When a person confirmed that AFAS's built-in eConnect link (eVerbinding) does not receive for "
        "this environment; with both on, every purchase invoice arrives in AFAS twice.",
    )
    afas_own_econnect_link_off_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    afas_token_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    econnect_keys_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    econnect_psb_keys_set_at = models.DateTimeField(null=True, blank=True, editable=False)

    # AFAS Small Business only: SB cannot break down VAT from a UBL, so the portal books each received invoice as a
    # purchase journal entry itself. The SB app token is the AFAS token above.
    afas_sb_domain = models.CharField(
        "AFAS SB domain",
        max_length=63,
        blank=True,
        help_text="The subdomain of the SB address, e.g. 'acme' in https://acme.afasfocus.nl/enyoi.",
    )
    afas_sb_environment = models.CharField(
        "AFAS SB customer environment",
        max_length=63,
        blank=True,
        validators=[afas_sb_environment_validator],
        help_text="The customer environment, the name after the host in the SB address, e.g. 'enyoi' in "
        "https://acme.afasfocus.nl/enyoi.",
    )
    afas_sb_administration_id = models.UUIDField(
        "AFAS SB administration id",
        null=True,
        blank=True,
        help_text="The SB administration (uuid) purchase invoices are booked in.",
    )
    afas_sb_ledger_account_id = models.UUIDField(
        "AFAS SB ledger account id",
        null=True,
        blank=True,
        help_text="The SB ledger account (uuid) every VAT line of a received invoice is booked on, e.g. 'Inkopen'.",
    )
    afas_sb_relation_id = models.UUIDField(
        "AFAS SB relation id",
        null=True,
        blank=True,
        help_text="The SB relation (uuid) received invoices are booked on: an organisation (a collective creditor) "
        "or SB's own 'Diverse creditors' relation; the supplier's name stays in the invoice and its UBL.",
    )
    afas_sb_relation_type = models.CharField(
        "AFAS SB relation type",
        max_length=20,
        choices=SbRelationType.choices,
        default=SbRelationType.ORGANISATION,
        help_text="'Diverse creditors' (SB's unknown relation) is booked as 'unknown', a real creditor as "
        "'organisation'; SB refuses the wrong combination.",
    )

    sending_enabled = models.BooleanField(default=False, help_text="Collect issued sales invoices and send them.")
    receiving_enabled = models.BooleanField(default=False, help_text="Fetch purchase invoices and deliver to AFAS.")
    poll_interval_seconds = models.PositiveIntegerField(
        default=300, help_text="How often sending and receiving run, in seconds (60 to 86400)."
    )
    next_collect_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the next collect of sales invoices is due."
    )
    next_fetch_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the next fetch of the eConnect inbox is due."
    )
    fetch_lease_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="A running receiving run (an inbox fetch; over PSB, taking in announced documents) holds the "
        "environment until then.",
    )
    collect_lease_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="A running collect holds the environment until then; no second collect starts meanwhile.",
    )
    next_contacts_sync_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the next sync of AFAS debtors and creditors is due."
    )
    contacts_sync_lease_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="A running contacts sync holds the environment until then."
    )
    contacts_synced_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When debtors and creditors were last read from AFAS."
    )
    contacts_full_sync_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When all debtors and creditors were last read, which is how deleted ones are noticed.",
    )
    contacts_sync_error = models.TextField(blank=True, editable=False, help_text="Why the last contacts sync failed.")
    contacts_sync_error_data = models.JSONField(
        default=dict, blank=True, editable=False, help_text="The same as a message key, shown in the reader's language."
    )
    afas_setup_checked_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a connection test last read AFAS's list of the connectors the token may use.",
    )
    afas_setup_missing = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="The connectors the portal needs that the token's app connector lacked at that test.",
    )
    test_round_trip_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a test invoice of this environment last came back through the inbox.",
    )
    route_checked_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the organisation's own identifiers were last looked up in the Peppol directory.",
    )

    # Connection health, recorded for every AFAS and eConnect call (portal.organisations.health).
    afas_last_success_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a call to AFAS last succeeded (to the minute)."
    )
    afas_failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Since when AFAS refuses the token or the portal's address."
    )
    afas_failure = models.TextField(blank=True, editable=False, help_text="AFAS's refusal, cleared by a success.")
    econnect_last_success_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a call to eConnect last succeeded (to the minute)."
    )
    econnect_failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Since when eConnect refuses the connection keys."
    )
    econnect_failure = models.TextField(
        blank=True, editable=False, help_text="eConnect's refusal, cleared by a success."
    )

    class Meta:
        ordering = ["afas_participant_number", "afas_environment_type"]
        constraints = [
            # Two rows for one AFAS environment would collect and send every invoice twice.
            models.UniqueConstraint(
                fields=["afas_participant_number", "afas_environment_type"], name="environment_afas_unique"
            ),
            models.CheckConstraint(
                condition=Q(afas_participant_number__regex=AFAS_PARTICIPANT_PATTERN),
                name="environment_afas_participant_format",
            ),
            models.CheckConstraint(
                condition=Q(afas_environment_type__in=EnvironmentType.values), name="environment_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(afas_edition__in=EnvironmentEdition.values), name="environment_edition_valid"
            ),
            models.CheckConstraint(
                condition=Q(poll_interval_seconds__gte=60, poll_interval_seconds__lte=86400),
                name="environment_poll_interval_range",
            ),
            models.CheckConstraint(
                condition=Q(econnect_transport__in=EConnectTransport.values),
                name="environment_econnect_transport_valid",
            ),
            # The token is the address eConnect posts to: one environment per token.
            models.UniqueConstraint(
                fields=["econnect_hook_token"],
                condition=~Q(econnect_hook_token=""),
                name="environment_hook_token_unique",
            ),
            models.UniqueConstraint(
                fields=["afas_hook_token"],
                condition=~Q(afas_hook_token=""),
                name="environment_afas_hook_token_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation.name} · {self.get_afas_environment_type_display()} ({self.afas_participant_number})"

    @property
    def has_afas_token(self) -> bool:
        return self.afas_token_set_at is not None

    @property
    def has_econnect_keys(self) -> bool:
        """The credentials of the environment's eConnect transport are stored (both halves)."""
        if self.econnect_transport == EConnectTransport.PSB:
            return self.econnect_psb_keys_set_at is not None and bool(self.econnect_psb_party_id)
        return self.econnect_keys_set_at is not None

    @property
    def uses_psb(self) -> bool:
        return self.econnect_transport == EConnectTransport.PSB

    @property
    def contacts_sync_error_text(self) -> str:
        return render_data(self.contacts_sync_error_data, self.contacts_sync_error)

    @property
    def credentials_failing(self) -> bool:
        """AFAS or eConnect refused this environment's credentials at the last call that reached it."""
        return self.afas_failing_since is not None or self.econnect_failing_since is not None


class Registration(models.TextChoices):
    """Where the Peppol directory says an identifier receives."""

    NOT_CHECKED = "not_checked", _("Not checked yet")
    NOT_REGISTERED = "not_registered", _("Not registered on Peppol")
    ECONNECT = "econnect", _("eConnect")
    AFAS = "afas", _("AFAS")
    OTHER = "other", _("Another access point")
    UNKNOWN = "unknown", _("An access point that cannot be told apart")


# Registered at one of these, invoices for the identifier go past eConnect: receiving via eConnect would get nothing.
REGISTERED_ELSEWHERE = (Registration.AFAS, Registration.OTHER, Registration.UNKNOWN)


class OwnPeppolIdentifier(PeppolIdentifierFields):
    """A Peppol identifier of the organisation itself, under which it receives on an environment."""

    Registration = Registration

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="own_identifiers")
    receive_active = models.BooleanField(
        default=False, help_text="Receiving via eConnect is active for this identifier on this environment."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    registration = models.CharField(
        max_length=20,
        choices=Registration.choices,
        default=Registration.NOT_CHECKED,
        help_text="Where the Peppol directory said this identifier receives, at the last check.",
    )
    registration_endpoint = models.URLField(blank=True, help_text="The access point address the directory named.")
    registration_checked_at = models.DateTimeField(null=True, blank=True)
    registration_error = models.TextField(blank=True, help_text="Why the last check could not be done.")
    registration_error_data = models.JSONField(
        default=dict, blank=True, help_text="The same as a message key, shown in the reader's language."
    )
    route_override_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    route_override_at = models.DateTimeField(null=True, blank=True)
    route_override_reason = models.TextField(
        blank=True,
        help_text="Why support allowed receiving via eConnect although the directory names another access point.",
    )

    class Meta:
        verbose_name = "own Peppol identifier"
        constraints = [
            models.UniqueConstraint(fields=["environment", "scheme", "value"], name="own_identifier_unique_per_env"),
            # One route per Peppol identifier: receiving may be active on one environment only.
            models.UniqueConstraint(
                fields=["scheme", "value"],
                condition=Q(receive_active=True),
                name="own_identifier_one_receiving_route",
                violation_error_message="This Peppol identifier already receives via eConnect on another environment.",
            ),
            models.CheckConstraint(condition=Q(scheme__regex=ICD_SCHEME_PATTERN), name="own_identifier_scheme_format"),
            models.CheckConstraint(condition=~Q(value=""), name="own_identifier_value_not_empty"),
            models.CheckConstraint(
                condition=Q(registration__in=Registration.values), name="own_identifier_registration_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def registration_error_text(self) -> str:
        return render_data(self.registration_error_data, self.registration_error)

    @property
    def registered_elsewhere(self) -> bool:
        return self.registration in REGISTERED_ELSEWHERE

    @property
    def overridden(self) -> bool:
        return self.route_override_at is not None

    @property
    def blocks_receiving(self) -> bool:
        """Registered at another access point, and support has not deliberately allowed it."""
        return self.registered_elsewhere and not self.overridden


class SyncStream(models.TextChoices):
    SALES_INVOICES = "sales_invoices", _("AFAS sales invoices")
    DEBTORS = "debtors", _("AFAS debtors")
    CREDITORS = "creditors", _("AFAS creditors")
    ECONNECT_INBOX = "econnect_inbox", _("eConnect inbox")


class SyncCursor(models.Model):
    """How far one stream of an environment has been read; advanced only after the rows it covers are committed."""

    Stream = SyncStream

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=30, choices=Stream.choices)
    position = models.CharField(max_length=200, blank=True, help_text="Opaque position, e.g. a modification date.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["environment", "stream"], name="sync_cursor_unique_per_stream"),
            models.CheckConstraint(condition=Q(stream__in=SyncStream.values), name="sync_cursor_stream_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stream_display()}: {self.position or '(start)'}"
