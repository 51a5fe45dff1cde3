"""Demo data for `make run`: one firm, four clients, five AFAS environments (one on eConnect PSB), an accountant and a
support user."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from integrations import demo_data
from integrations.afas.simulator.demo import SB_ADMINISTRATION_ID, SB_LEDGER_ACCOUNTS
from portal.accounts.models import Membership, User
from portal.organisations.models import Environment, Firm, Organisation, OwnPeppolIdentifier, SyncCursor
from portal.organisations.services import environment_set_credentials

DEMO_FIRM = "Van Dijk & Partners Accountants"
ACCOUNTANT_LOGIN = ("accountant", "demo-accountant-2026")
SUPPORT_LOGIN = ("support", "demo-support-2026")
SUPPORT_GROUP = "Support"
DEMO_INBOX_FROM = "2020-01-01T00:00:00+00:00"


def _sb_settings(spec: demo_data.DemoEnvironment) -> dict:
    """The Small Business environment books received invoices in the simulator's demo administration, on "Inkopen",
    with SB's own "Diverse creditors" relation (RelationType unknown)."""
    return {
        "afas_sb_domain": "demo",
        "afas_sb_environment": spec.sb_environment,
        "afas_sb_administration_id": SB_ADMINISTRATION_ID,
        "afas_sb_ledger_account_id": SB_LEDGER_ACCOUNTS[0]["Id"],
        "afas_sb_relation_id": spec.sb_diverse_creditors_id,
        "afas_sb_relation_type": Environment.SbRelationType.UNKNOWN,
    }


def _psb_settings(spec: demo_data.DemoEnvironment) -> dict:
    """On eConnect PSB, with its hook already registered: the eConnect simulator's demo seed holds the same hook
    (address and secret), so webhooks arrive from the first minute."""
    return {
        "econnect_transport": Environment.EConnectTransport.PSB,
        "econnect_psb_party_id": spec.own_identifier,
        "econnect_hook_token": spec.hook_token,
        "econnect_hook_secret": spec.hook_secret,
        "econnect_hooks_connected_at": timezone.now(),
    }


def _econnect_credentials(spec: demo_data.DemoEnvironment) -> dict:
    if spec.transport == "psb":
        return {"econnect_psb_client_id": spec.psb_client_id, "econnect_psb_client_secret": spec.psb_client_secret}
    return {"econnect_app_key": spec.econnect_app_key, "econnect_app_secret": spec.econnect_app_secret}


SUPPORT_APPS = (
    "accounts",
    "organisations",
    "contacts",
    "outgoing_invoices",
    "incoming_invoices",
    "events",
    "webhooks",
    "django_celery_beat",
)


@dataclass(frozen=True)
class DemoLogins:
    accountant: tuple[str, str]
    support: tuple[str, str]


@transaction.atomic
def demo_seed() -> DemoLogins:
    """Idempotent: running it again changes nothing that exists."""
    firm, _ = Firm.objects.get_or_create(name=DEMO_FIRM)
    for spec in demo_data.ENVIRONMENTS:
        organisation, _ = Organisation.objects.get_or_create(
            firm=firm, kvk_number=spec.organisation_kvk, defaults={"name": spec.organisation_name}
        )
        environment, created = Environment.objects.get_or_create(
            afas_participant_number=spec.participant,
            afas_environment_type=spec.environment_type,
            defaults={
                "organisation": organisation,
                "afas_edition": spec.edition,
                # The demo shows sending and receiving working end to end on the Profit production environment; the
                # garage's identifier receives via AFAS's access point, so its receiving stays off (route conflict).
                "sending_enabled": _works_end_to_end(spec),
                "receiving_enabled": _works_end_to_end(spec),
                "poll_interval_seconds": 60,
                **(_sb_settings(spec) if spec.edition == Environment.Edition.SMALL_BUSINESS else {}),
                **(_psb_settings(spec) if spec.transport == "psb" else {}),
            },
        )
        if created:
            # The simulators accept exactly these demo credentials (integrations.demo_data).
            environment_set_credentials(
                environment=environment,
                actor=None,
                afas_token=spec.afas_token,
                **_econnect_credentials(spec),
            )
            # The demo inbox was filled before the portal's demo existed: it is read from the start (a backfill a
            # person would ask for; a real environment reads from the moment receiving is switched on).
            SyncCursor.objects.get_or_create(
                environment=environment, stream=SyncCursor.Stream.ECONNECT_INBOX, defaults={"position": DEMO_INBOX_FROM}
            )
            scheme, value = spec.own_identifier.split(":")
            OwnPeppolIdentifier.objects.create(
                environment=environment,
                scheme=scheme,
                value=value,
                receive_active=spec.environment_type == Environment.Type.PRODUCTION
                and spec.registered_at == "econnect",
            )

    accountant = _user(*ACCOUNTANT_LOGIN, first_name="Anna", last_name="de Vries")
    Membership.objects.get_or_create(user=accountant, defaults={"firm": firm, "role": Membership.Role.FIRM_ADMIN})

    support = _user(*SUPPORT_LOGIN, first_name="Sam", last_name="Support", is_staff=True)
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    group.permissions.set(Permission.objects.filter(content_type__app_label__in=SUPPORT_APPS))
    support.groups.add(group)
    return DemoLogins(accountant=ACCOUNTANT_LOGIN, support=SUPPORT_LOGIN)


def _works_end_to_end(spec: demo_data.DemoEnvironment) -> bool:
    return spec.environment_type == "production" and spec.edition == "profit" and spec.registered_at == "econnect"


def _user(username: str, password: str, **fields) -> User:
    user, created = User.objects.get_or_create(username=username, defaults=fields)
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user
