from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.core.models_base import PeppolIdentifierFields, TimeStampedModel
from portal.core.validators import ICD_SCHEME_PATTERN
from portal.events.messages import render_data


class ContactKind(models.TextChoices):
    DEBTOR = "debtor", _("Debtor (customer)")
    CREDITOR = "creditor", _("Creditor (supplier)")


class ContactAfasState(models.TextChoices):
    ACTIVE = "active", _("Active")
    BLOCKED = "blocked", _("Blocked in AFAS")
    DELETED = "deleted", _("Deleted in AFAS")


class ContactRoute(models.TextChoices):
    """Who issues this customer's invoices, from the AFAS issue method (InPv)."""

    PORTAL = "portal", _("Via the portal and eConnect")
    AFAS_PEPPOL = "afas_peppol", _("By AFAS via its own Peppol access point")
    AFAS_ECONNECT = "afas_econnect", _("By AFAS via its own eConnect link")
    OTHER = "other", _("Not electronic (print, e-mail or other)")


# AFAS issue methods (InPv): R = invoice and UBL in the dossier, which the portal picks up and sends.
ISSUE_METHOD_ROUTES = {"R": ContactRoute.PORTAL, "C": ContactRoute.AFAS_PEPPOL, "F": ContactRoute.AFAS_ECONNECT}


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
    lookup_detail = models.TextField(blank=True, help_text="Why the outcome is what it is, e.g. an invalid KvK number.")
    lookup_detail_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="The lookup explanation as a message key and parameters, shown in the reader's language.",
    )
    identifier_problems = models.TextField(
        blank=True, help_text="What is wrong with the identifiers in AFAS (kept with every lookup's explanation)."
    )
    identifier_problems_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="The identifier problems as a message key and parameters, shown in the reader's language.",
    )
    lookup_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the Peppol directory is asked (again): now when identifiers change, later when the "
        "result expires. Empty: never (creditors, deleted contacts).",
    )
    lookup_error = models.TextField(blank=True, help_text="Why the last lookup could not be done; it is retried.")
    lookup_error_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="The lookup error as a message key and parameters, shown in the reader's language.",
    )
    # The identifier through which the customer is reachable (outcome "reachable"), and what it can receive.
    peppol_scheme = models.CharField(max_length=4, blank=True)
    peppol_value = models.CharField(max_length=100, blank=True)
    receives_invoices = models.BooleanField(null=True, blank=True)
    receives_credit_notes = models.BooleanField(null=True, blank=True)
    peppol_access_point = models.CharField(max_length=20, blank=True)

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
        indexes = [
            models.Index(fields=["environment", "kind", "lookup_outcome"], name="contact_readiness_idx"),
            models.Index(fields=["lookup_due_at"], name="contact_lookup_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.afas_id})"

    @property
    def lookup_detail_text(self) -> str:
        return render_data(self.lookup_detail_data, self.lookup_detail)

    @property
    def lookup_error_text(self) -> str:
        return render_data(self.lookup_error_data, self.lookup_error)

    @property
    def route(self) -> ContactRoute:
        return ISSUE_METHOD_ROUTES.get(self.issue_method.strip().upper(), ContactRoute.OTHER)

    @property
    def peppol_identifier(self) -> str:
        """The reachable identifier as ``0106:12345678``, or ""."""
        return f"{self.peppol_scheme}:{self.peppol_value}" if self.peppol_scheme else ""

    @property
    def peppol_identifier_in_afas(self) -> bool:
        """Whether AFAS's eConnect id field (EnId) already holds the reachable identifier in eConnect notation."""
        if not self.peppol_scheme:
            return False
        from integrations.peppol.identifiers import PeppolIdentifier

        identifier = PeppolIdentifier(self.peppol_scheme, self.peppol_value)
        return self.econnect_id.strip().upper() == (identifier.econnect or identifier.icd).upper()


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

    @property
    def invalid_reason_text(self) -> str:
        """Why the identifier is invalid, in the reader's language: the check is cheap and pure, so it is run again
        for the Dutch wording of the stored (English) reason."""
        if self.is_valid:
            return ""
        from integrations.peppol.identifiers import PeppolIdentifier, check_identifier

        check = check_identifier(PeppolIdentifier(self.scheme, self.value))
        if check.has_problem and check.reason.en == self.invalid_reason:  # the stored reason is this check's
            return check.reason.in_language(get_language() or "en")
        return self.invalid_reason


class ContactJobKind(models.TextChoices):
    LOOKUP = "lookup", _("Check all customers in the Peppol directory")
    WRITE_BACK = "write_back", _("Write all reachable identifiers to AFAS")


class ContactJobState(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Stopped")
    CANCELLED = "cancelled", _("Cancelled")


class ContactJob(models.Model):
    """A bulk run over an environment's customers, in chunks, with its progress; resumed after a crash."""

    Kind = ContactJobKind

    State = ContactJobState

    environment = models.ForeignKey("organisations.Environment", on_delete=models.CASCADE, related_name="contact_jobs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    requested_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # A directory check's outcomes (lookup jobs only): what "succeeded" means to the person who started it.
    reachable = models.PositiveIntegerField(default=0, help_text="Lookup jobs: customers reachable via Peppol.")
    not_reachable = models.PositiveIntegerField(
        default=0, help_text="Lookup jobs: customers not on Peppol, or on it but unable to receive invoices."
    )
    invalid = models.PositiveIntegerField(default=0, help_text="Lookup jobs: customers without a valid identifier.")
    cursor_pk = models.BigIntegerField(default=0, help_text="The contacts up to this id are done.")
    consecutive_errors = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_data = models.JSONField(
        default=dict,
        blank=True,
        help_text="The last error as a message key and parameters, shown in the reader's language.",
    )
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A running chunk holds the job until then.")
    next_run_at = models.DateTimeField(null=True, blank=True, help_text="When the next chunk is due (backoff).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A second "check all" while one runs would double the directory load: the running one is shown instead.
            models.UniqueConstraint(
                fields=["environment", "kind"],
                condition=Q(state="running"),
                name="contact_job_one_running_per_kind",
            ),
            models.CheckConstraint(condition=Q(kind__in=ContactJobKind.values), name="contact_job_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=ContactJobState.values), name="contact_job_state_valid"),
        ]
        indexes = [models.Index(fields=["state", "next_run_at"], name="contact_job_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.processed}/{self.total})"

    @property
    def last_error_text(self) -> str:
        return render_data(self.last_error_data, self.last_error)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.processed / self.total))

    @property
    def is_running(self) -> bool:
        return self.state == ContactJobState.RUNNING
