"""Forms of the environment pages: organisation and environment settings, and write-only credentials.

Formats are checked here, with translated messages; what needs the database (uniqueness) is checked by the
services, whose ``SettingsRefused`` the view puts on the form.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from portal.core.validators import (
    MAX_CREDENTIAL_LENGTH,
    afas_participant_validator,
    afas_sb_environment_validator,
    econnect_group_validator,
    kvk_validator,
)
from portal.organisations.models import Environment, Organisation
from portal.organisations.own_identifiers import MAX_IDENTIFIER_INPUT
from portal.organisations.services import POLL_INTERVAL_RANGE


def _translated(validator, message):
    """The shared validator, with a message in the reader's language (the shared one is English only)."""

    def validate(value):
        try:
            validator(value)
        except ValidationError as exc:
            raise ValidationError(message, code="invalid") from exc

    return validate


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kvk_number = forms.CharField(
        label=_("KvK number"),
        max_length=8,
        validators=[_translated(kvk_validator, _("A KvK number has exactly 8 digits."))],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class OwnIdentifierForm(forms.Form):
    identifier = forms.CharField(
        label=_("Peppol identifier"),
        max_length=MAX_IDENTIFIER_INPUT,
        help_text=_("Either notation: 0106:12345678 or NL:KVK:12345678 (KvK), 0190:… (OIN), 9944:NL…B01 (VAT)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class EnvironmentSettingsForm(forms.Form):
    afas_participant_number = forms.CharField(
        label=_("AFAS participant number"),
        max_length=6,
        validators=[
            _translated(
                afas_participant_validator,
                _("An AFAS participant number has 5 or 6 digits (the number in your AFAS URL)."),
            )
        ],
        help_text=_("The number in the AFAS address, e.g. 12345 in https://12345.rest.afas.online."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    afas_environment_type = forms.ChoiceField(label=_("Type"), choices=Environment.Type.choices)
    afas_edition = forms.ChoiceField(label=_("AFAS edition"), choices=Environment.Edition.choices)
    poll_interval_seconds = forms.IntegerField(
        label=_("Polling interval (seconds)"),
        min_value=POLL_INTERVAL_RANGE[0],
        max_value=POLL_INTERVAL_RANGE[1],
        initial=300,
        help_text=_("How often sending and receiving run: 60 to 86400 seconds."),
    )
    afas_sb_domain = forms.CharField(
        label=_("AFAS Small Business domain"),
        max_length=63,
        required=False,
        help_text=_("Small Business only: e.g. 'acme' in https://acme.afasfocus.nl/enyoi."),
    )
    afas_sb_environment = forms.CharField(
        label=_("AFAS Small Business customer environment"),
        max_length=63,
        required=False,
        validators=[
            _translated(
                afas_sb_environment_validator,
                _("The customer environment is the lowercase name after the host in the SB address, such as enyoi."),
            )
        ],
        help_text=_("Small Business only: the name after the host, e.g. 'enyoi' in https://acme.afasfocus.nl/enyoi."),
    )
    afas_sb_administration_id = forms.UUIDField(
        label=_("Small Business administration id"),
        required=False,
        help_text=_("Small Business only: the administration received invoices are booked in."),
    )
    afas_sb_ledger_account_id = forms.UUIDField(
        label=_("Small Business ledger account id"),
        required=False,
        help_text=_("Small Business only: the ledger account every VAT line of a received invoice is booked on."),
    )
    afas_sb_relation_id = forms.UUIDField(
        label=_("Small Business relation id"),
        required=False,
        help_text=_("Small Business only: the relation received invoices are booked on, e.g. a collective creditor."),
    )
    afas_sb_relation_type = forms.ChoiceField(
        label=_("Small Business relation type"),
        choices=Environment.SbRelationType.choices,
        required=False,
        help_text=_("'Diverse creditors' is SB's unknown relation; a creditor of your own is an organisation."),
    )
    afas_sales_invoice_subject_type = forms.IntegerField(
        label=_("AFAS dossier item type of sales invoices"),
        required=False,
        min_value=-999999,
        max_value=999999,
        help_text=_(
            "Only when needed: the dossier item type under which Profit files sales invoices. Empty: every dossier "
            "item linked to a sales invoice. 'AFAS setup' lists the types it sees."
        ),
    )
    econnect_group_id = forms.CharField(
        label=_("eConnect company id (GroupId)"),
        max_length=40,
        required=False,
        validators=[
            _translated(
                econnect_group_validator, _("An eConnect company id has letters and digits only, such as XCNL10019.")
            )
        ],
        help_text=_(
            "The eConnect company whose inbox this environment reads, e.g. XCNL10019. Needed when the connection "
            "keys' user sees several companies."
        ),
    )

    econnect_transport = forms.ChoiceField(
        label=_("eConnect transport"),
        choices=Environment.EConnectTransport.choices,
        initial=Environment.EConnectTransport.PLATFORM,
        required=False,
        help_text=_(
            "The eConnect platform with connection keys (App Key and Secret), or eConnect PSB (REST) with a client id "
            "and secret: new eConnect customers get PSB."
        ),
    )
    econnect_psb_party_id = forms.CharField(
        label=_("eConnect PSB party id"),
        max_length=MAX_IDENTIFIER_INPUT,
        required=False,
        help_text=_("PSB only: the party the environment sends and receives as, e.g. NL:KVK:12345678."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    econnect_psb_send_acknowledgement = forms.BooleanField(
        label=_("Send an acknowledgement (AB) over PSB"),
        required=False,
        help_text=_("PSB only: once AFAS accepted a purchase invoice, tell the supplier with an Invoice Response AB."),
    )
    econnect_psb_remove_after_delivery = forms.BooleanField(
        label=_("Remove received documents at eConnect once in AFAS"),
        required=False,
        help_text=_(
            "PSB only: eConnect keeps a downloaded document seven days; this removes it as soon as AFAS accepted it."
        ),
    )

    SMALL_BUSINESS_FIELDS = (
        "afas_sb_domain",
        "afas_sb_environment",
        "afas_sb_administration_id",
        "afas_sb_ledger_account_id",
        "afas_sb_relation_id",
        "afas_sb_relation_type",
    )

    def clean_econnect_transport(self) -> str:
        return self.cleaned_data.get("econnect_transport") or Environment.EConnectTransport.PLATFORM

    def clean_afas_sb_relation_type(self) -> str:
        return self.cleaned_data.get("afas_sb_relation_type") or Environment.SbRelationType.ORGANISATION

    def main_fields(self) -> list:
        return [self[name] for name in self.fields if name not in self.SMALL_BUSINESS_FIELDS]

    def small_business_fields(self) -> list:
        return [self[name] for name in self.SMALL_BUSINESS_FIELDS]

    def clean_afas_sb_domain(self) -> str:
        return self.cleaned_data["afas_sb_domain"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("afas_edition") == Environment.Edition.SMALL_BUSINESS and not cleaned.get("afas_sb_domain"):
            self.add_error("afas_sb_domain", _("AFAS Small Business needs its domain."))
        if (
            cleaned.get("econnect_transport") == Environment.EConnectTransport.PSB
            and not cleaned.get("econnect_psb_party_id", "").strip()
        ):
            self.add_error("econnect_psb_party_id", _("eConnect PSB needs the party id, e.g. NL:KVK:12345678."))
        return cleaned

    @classmethod
    def initial_from(cls, environment: Environment) -> dict:
        return {name: getattr(environment, name) for name in cls.base_fields}


class EnvironmentCreateForm(EnvironmentSettingsForm):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())

    field_order = ["organisation"]

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def settings(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "organisation"}


def _secret(label):
    # render_value=False: a stored or just-typed secret never goes back into the page, not even after an error.
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=MAX_CREDENTIAL_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"}),
        help_text=_("Write-only: leave empty to keep the stored value."),
    )


class CredentialsForm(forms.Form):
    """Write-only: blank keeps the stored value, the 'remove' boxes clear it."""

    afas_token = _secret(_("New AFAS token"))
    clear_afas_token = forms.BooleanField(label=_("Remove the stored AFAS token"), required=False)
    econnect_app_key = _secret(_("New eConnect App Key"))
    econnect_app_secret = _secret(_("New eConnect Secret"))
    clear_econnect_keys = forms.BooleanField(label=_("Remove the stored eConnect keys"), required=False)
    econnect_psb_client_id = _secret(_("New eConnect PSB client id"))
    econnect_psb_client_secret = _secret(_("New eConnect PSB client secret"))
    clear_econnect_psb_keys = forms.BooleanField(label=_("Remove the stored eConnect PSB credentials"), required=False)

    # Each pair of credentials that belong together, its "remove" box, and what to say when half is given or both
    # "set" and "remove" are asked.
    PAIRS = (
        (
            "econnect_app_key",
            "econnect_app_secret",
            "clear_econnect_keys",
            _("The eConnect App Key and Secret belong together: enter both."),
            _("Either set new eConnect keys or remove them, not both."),
        ),
        (
            "econnect_psb_client_id",
            "econnect_psb_client_secret",
            "clear_econnect_psb_keys",
            _("The eConnect PSB client id and secret belong together: enter both."),
            _("Either set new eConnect PSB credentials or remove them, not both."),
        ),
    )

    @sensitive_variables("cleaned")
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_afas_token") and cleaned.get("afas_token"):
            self.add_error("clear_afas_token", _("Either set a new AFAS token or remove it, not both."))
        for first, second, clear, half_given, set_and_clear in self.PAIRS:
            new_first, new_second = cleaned.get(first), cleaned.get(second)
            if cleaned.get(clear) and (new_first or new_second):
                self.add_error(clear, set_and_clear)
            elif bool(new_first) != bool(new_second):
                self.add_error(second if new_first else first, half_given)
        return cleaned

    @sensitive_variables("data", "changes")
    def changes(self) -> dict[str, str]:
        """The arguments for ``environment_set_credentials``: only what the person asked to change."""
        data = self.cleaned_data
        names = ("afas_token", *(name for pair in self.PAIRS for name in pair[:2]))
        changes = {name: data[name] for name in names if data[name]}
        if data.get("clear_afas_token"):
            changes["afas_token"] = ""
        for first, second, clear, *_messages in self.PAIRS:
            if data.get(clear):
                changes.update({first: "", second: ""})
        return changes
