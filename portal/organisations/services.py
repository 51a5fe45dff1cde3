from __future__ import annotations

import re
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from integrations.peppol.identifiers import IdentifierSyntaxError, parse_identifier
from portal.accounts.models import User
from portal.core.validators import (
    AFAS_PARTICIPANT_PATTERN,
    AFAS_SB_ENVIRONMENT_PATTERN,
    ECONNECT_GROUP_PATTERN,
    KVK_PATTERN,
    MAX_CREDENTIAL_LENGTH,
)
from portal.events.messages import Choice, Join, Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations.models import CREDENTIAL_FIELDS, Environment, Firm, Organisation


# No @transaction.atomic here: its wrapper frame would hold the secrets where error reports show them.
@sensitive_variables(
    "afas_token",
    "econnect_app_key",
    "econnect_app_secret",
    "econnect_psb_client_id",
    "econnect_psb_client_secret",
    "new_values",
)
def environment_set_credentials(
    *,
    environment: Environment,
    actor: User | None,
    afas_token: str | None = None,
    econnect_app_key: str | None = None,
    econnect_app_secret: str | None = None,
    econnect_psb_client_id: str | None = None,
    econnect_psb_client_secret: str | None = None,
) -> list[str]:
    """Replace the credentials that are given (None leaves one unchanged, "" clears it).

    Returns the names of the credentials that changed. The values never leave this function:
    the timeline records which credential changed, not what it became.
    """
    new_values = {
        "afas_token": afas_token,
        "econnect_app_key": econnect_app_key,
        "econnect_app_secret": econnect_app_secret,
        "econnect_psb_client_id": econnect_psb_client_id,
        "econnect_psb_client_secret": econnect_psb_client_secret,
    }
    changed = [name for name, value in new_values.items() if value is not None]
    if not changed:
        return []
    for name in changed:
        if len(new_values[name].strip()) > MAX_CREDENTIAL_LENGTH:
            raise SettingsRefused(
                _("This is far longer than a credential (at most %(max)s characters): check what was pasted.")
                % {"max": MAX_CREDENTIAL_LENGTH},
                field=name,
            )
    with transaction.atomic():
        environment = Environment.objects.select_for_update().get(pk=environment.pk)
        now = timezone.now()
        for name in changed:
            setattr(environment, name, new_values[name].strip())
        update_fields = [*changed, "updated_at"]
        if "afas_token" in changed:
            environment.afas_token_set_at = now if environment.afas_token else None
            update_fields.append("afas_token_set_at")
        if {"econnect_app_key", "econnect_app_secret"} & set(changed):
            both_set = bool(environment.econnect_app_key and environment.econnect_app_secret)
            environment.econnect_keys_set_at = now if both_set else None
            update_fields.append("econnect_keys_set_at")
        if {"econnect_psb_client_id", "econnect_psb_client_secret"} & set(changed):
            both_set = bool(environment.econnect_psb_client_id and environment.econnect_psb_client_secret)
            environment.econnect_psb_keys_set_at = now if both_set else None
            update_fields.append("econnect_psb_keys_set_at")
        environment.save(update_fields=update_fields)
        described = Join(
            Msg(
                "environment.credential_replaced" if new_values[name].strip() else "environment.credential_cleared",
                credential=Msg(f"credential.{name}"),
            )
            for name in changed
        )
        event_record(
            environment=environment,
            actor=actor,
            kind=EventKind.CREDENTIALS_CHANGED,
            message=Msg("environment.credentials_changed", changes=described),
            data={"changed": changed},
        )
        return changed


# --- organisations and environment settings (firm admins) ---------------------------------------------------------


class SettingsRefused(Exception):
    """An organisation or environment cannot be saved like this; ``message`` says why, ``field`` names the input."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# The settings a firm admin may change; everything else on an environment is the portal's own bookkeeping.
SETTINGS_FIELDS = (
    "afas_participant_number",
    "afas_environment_type",
    "afas_edition",
    "poll_interval_seconds",
    "afas_sb_domain",
    "afas_sb_environment",
    "afas_sb_administration_id",
    "afas_sb_ledger_account_id",
    "afas_sb_relation_id",
    "afas_sb_relation_type",
    "econnect_group_id",
    "afas_sales_invoice_subject_type",
    "econnect_transport",
    "econnect_psb_party_id",
    "econnect_psb_send_acknowledgement",
    "econnect_psb_remove_after_delivery",
)
POLL_INTERVAL_RANGE = (60, 86400)
SB_DOMAIN_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"


def organisation_create(*, firm: Firm, name: str, kvk_number: str, actor: User | None) -> Organisation:
    """A new client of the firm. Its KvK number is unique within the firm."""
    name, kvk_number = name.strip(), kvk_number.strip()
    if not name:
        raise SettingsRefused(_("Give the organisation a name."), field="name")
    if not re.match(KVK_PATTERN, kvk_number):
        raise SettingsRefused(_("A KvK number has exactly 8 digits."), field="kvk_number")
    duplicate = SettingsRefused(
        _("The firm already has a client with KvK number %(kvk)s.") % {"kvk": kvk_number}, field="kvk_number"
    )
    if Organisation.objects.filter(firm=firm, kvk_number=kvk_number).exists():
        raise duplicate
    try:
        with transaction.atomic():
            return Organisation.objects.create(firm=firm, name=name, kvk_number=kvk_number)
    except IntegrityError as exc:  # created by someone else a moment ago
        raise duplicate from exc


def environment_create(*, organisation: Organisation, actor: User | None, **settings: Any) -> Environment:
    """A new AFAS environment of the organisation, with sending and receiving off and no credentials yet."""
    values = {name: settings[name] for name in SETTINGS_FIELDS if name in settings}
    unknown = set(settings) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not environment settings: {', '.join(sorted(unknown))}")
    environment = Environment(organisation=organisation, **values)
    _settings_check(environment)
    try:
        with transaction.atomic():
            environment.save()
            event_record(
                environment=environment,
                actor=actor,
                kind=EventKind.ENVIRONMENT_CREATED,
                message=Msg(
                    "environment.created",
                    participant=environment.afas_participant_number,
                    type=Choice(Environment.Type, environment.afas_environment_type),
                    edition=Choice(Environment.Edition, environment.afas_edition),
                ),
                data={name: _plain(getattr(environment, name)) for name in SETTINGS_FIELDS},
            )
    except IntegrityError as exc:
        raise _already_there(environment) from exc
    return environment


def environment_update_settings(*, environment: Environment, actor: User | None, **changes: Any) -> list[str]:
    """Change the given settings; returns the names of those that changed (recorded, with old and new values)."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not environment settings: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Environment.objects.select_for_update().defer(*CREDENTIAL_FIELDS).get(pk=environment.pk)
        before = {name: getattr(locked, name) for name in SETTINGS_FIELDS}
        for name, value in changes.items():
            setattr(locked, name, value)
        changed = [name for name in SETTINGS_FIELDS if _plain(getattr(locked, name)) != _plain(before[name])]
        if not changed:
            return []
        _settings_check(locked)  # may normalise a value (the PSB party id) to what is already stored
        changed = [name for name in changed if _plain(getattr(locked, name)) != _plain(before[name])]
        if not changed:
            return []
        try:
            with transaction.atomic():
                locked.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:
            raise _already_there(locked) from exc
        described = Join(
            Msg(
                "environment.setting_change",
                setting=Msg(f"setting.{name}"),
                before=_shown(name, before[name]),
                after=_shown(name, getattr(locked, name)),
            )
            for name in changed
        )
        event_record(
            environment=locked,
            actor=actor,
            kind=EventKind.SETTINGS_CHANGED,
            message=Msg("environment.settings_changed", changes=described),
            data={name: {"from": _plain(before[name]), "to": _plain(getattr(locked, name))} for name in changed},
        )
    for name in changed:
        setattr(environment, name, getattr(locked, name))
    return changed


def _settings_check(environment: Environment) -> None:
    """The rules the database enforces, and the one it cannot, as messages a person can act on."""
    if not re.match(AFAS_PARTICIPANT_PATTERN, environment.afas_participant_number or ""):
        raise SettingsRefused(
            _("An AFAS participant number has 5 or 6 digits (the number in your AFAS URL)."),
            field="afas_participant_number",
        )
    if environment.afas_environment_type not in Environment.Type.values:
        raise SettingsRefused(_("Choose production, test or acceptance."), field="afas_environment_type")
    if environment.afas_edition not in Environment.Edition.values:
        raise SettingsRefused(_("Choose AFAS Profit or AFAS Small Business."), field="afas_edition")
    low, high = POLL_INTERVAL_RANGE
    if not low <= int(environment.poll_interval_seconds) <= high:
        raise SettingsRefused(
            _("The polling interval is between %(low)s and %(high)s seconds.") % {"low": low, "high": high},
            field="poll_interval_seconds",
        )
    if environment.afas_sb_domain and not re.match(SB_DOMAIN_PATTERN, environment.afas_sb_domain):
        raise SettingsRefused(
            _("The domain is the part before .afasfocus.nl: lower-case letters, digits and hyphens."),
            field="afas_sb_domain",
        )
    if environment.afas_edition == Environment.Edition.SMALL_BUSINESS and not environment.afas_sb_domain:
        raise SettingsRefused(
            _("AFAS Small Business needs its domain, e.g. 'acme' in https://acme.afasfocus.nl/enyoi."),
            field="afas_sb_domain",
        )
    if environment.afas_sb_environment and not re.match(AFAS_SB_ENVIRONMENT_PATTERN, environment.afas_sb_environment):
        raise SettingsRefused(
            _("The customer environment is the lowercase name after the host in the SB address, such as enyoi."),
            field="afas_sb_environment",
        )
    if environment.afas_sb_relation_type not in Environment.SbRelationType.values:
        raise SettingsRefused(_("Choose organisation or 'Diverse creditors'."), field="afas_sb_relation_type")
    if environment.econnect_group_id and not re.match(ECONNECT_GROUP_PATTERN, environment.econnect_group_id):
        raise SettingsRefused(
            _("An eConnect company id has letters and digits only, such as XCNL10019."), field="econnect_group_id"
        )
    if environment.econnect_transport not in Environment.EConnectTransport.values:
        raise SettingsRefused(_("Choose the eConnect platform or eConnect PSB."), field="econnect_transport")
    if environment.econnect_psb_party_id:
        environment.econnect_psb_party_id = _psb_party(environment.econnect_psb_party_id)
    taken = Environment.objects.filter(
        afas_participant_number=environment.afas_participant_number,
        afas_environment_type=environment.afas_environment_type,
    ).exclude(pk=environment.pk)
    if taken.exists():
        raise _already_there(environment)


def _psb_party(text: str) -> str:
    """The PSB party id in the ICD notation (eConnect accepts both, NL:KVK:… and 0106:…)."""
    try:
        return parse_identifier(text.strip()).icd
    except IdentifierSyntaxError as exc:
        raise SettingsRefused(
            _("The eConnect PSB party id is a Peppol identifier, such as NL:KVK:12345678 or 0106:12345678."),
            field="econnect_psb_party_id",
        ) from exc


def _already_there(environment: Environment) -> SettingsRefused:
    # Unique across all firms: two rows for one AFAS environment would collect and send every invoice twice.
    return SettingsRefused(
        _(
            "AFAS participant %(number)s (%(type)s) is already set up in the portal. Every AFAS environment can be "
            "set up once; ask support if it belongs to another firm."
        )
        % {"number": environment.afas_participant_number, "type": environment.get_afas_environment_type_display()},
        field="afas_participant_number",
    )


CHOICE_SETTINGS = {"afas_environment_type": Environment.Type, "afas_edition": Environment.Edition}


def _shown(name: str, value: Any) -> Any:
    """A setting's value as the timeline shows it: choices by their label, empty as "(empty)"."""
    plain = _plain(value)
    if plain in ("", None):
        return Msg("environment.empty_value")
    if name in CHOICE_SETTINGS:
        return Choice(CHOICE_SETTINGS[name], plain)
    return plain


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else ("" if value is None else value)


# --- sending switch ------------------------------------------------------------------------------------------------


class SendingRefused(Exception):
    """Sending cannot be switched on; ``message`` says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def sending_blockers(environment: Environment) -> list[str]:
    """Why sending cannot be switched on; [] when nothing blocks."""
    problems = []
    if not environment.has_afas_token:
        problems.append(_("The AFAS token is not set."))
    if not environment.has_econnect_keys:
        problems.append(_("The eConnect connection keys (App Key and Secret) are not set."))
    if not environment.own_identifiers.exists():
        problems.append(
            _("The organisation has no own Peppol identifier on this environment to send from; add it first.")
        )
    return problems


def environment_set_sending(*, environment: Environment, enabled: bool, actor: User | None) -> None:
    """Switch collecting and sending of issued sales invoices on or off (recorded on the timeline).

    On only with an AFAS token, eConnect keys and an own identifier to send from; raises ``SendingRefused`` otherwise.
    """
    with transaction.atomic():
        locked = Environment.objects.select_for_update().defer(*CREDENTIAL_FIELDS).get(pk=environment.pk)
        if enabled:
            problems = sending_blockers(locked)
            if problems:
                raise SendingRefused(_("Sending stays off: %(problems)s") % {"problems": " ".join(problems)})
        if locked.sending_enabled != enabled:
            Environment.objects.filter(pk=locked.pk).update(sending_enabled=enabled, updated_at=timezone.now())
            event_record(
                environment=locked,
                actor=actor,
                kind=EventKind.SENDING_SWITCHED,
                message=Msg("environment.sending_on" if enabled else "environment.sending_off"),
                from_status="on" if locked.sending_enabled else "off",
                to_status="on" if enabled else "off",
            )
    environment.sending_enabled = enabled


def environment_confirm_afas_link_off(*, environment: Environment, actor: User) -> bool:
    """A person confirms that AFAS's own eConnect link (eVerbinding) does not receive for this environment: with it
    and the portal both receiving, every purchase invoice arrives in AFAS twice. Recorded, once."""
    now = timezone.now()
    confirmed = Environment.objects.filter(pk=environment.pk, afas_own_econnect_link_off_at__isnull=True).update(
        afas_own_econnect_link_off_at=now, afas_own_econnect_link_off_by=actor, updated_at=now
    )
    if confirmed:
        event_record(
            environment=environment,
            actor=actor,
            kind=EventKind.AFAS_LINK_CONFIRMED,
            message=Msg("environment.afas_link_off"),
        )
        environment.afas_own_econnect_link_off_at, environment.afas_own_econnect_link_off_by = now, actor
    return bool(confirmed)
