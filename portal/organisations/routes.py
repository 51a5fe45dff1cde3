"""One route per Peppol identifier: an organisation's identifier receives via eConnect on one environment at most,
and not while the Peppol directory says it receives at another access point (for example AFAS's own)."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.econnect.lookup import PeppolLookup
from integrations.econnect.models import AccessPoint, ParticipantLookup, Reachability
from integrations.http import RemoteError
from integrations.peppol.identifiers import PeppolIdentifier
from portal.accounts.models import User
from portal.core.public_address import public_address_problem
from portal.core.validators import checked_reason
from portal.events.messages import Choice, Msg, explained
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients
from portal.organisations.models import Environment, OwnPeppolIdentifier, Registration, SyncCursor

logger = logging.getLogger(__name__)

REGISTRATION_OF = {
    AccessPoint.ECONNECT: Registration.ECONNECT,
    AccessPoint.AFAS: Registration.AFAS,
    AccessPoint.OTHER: Registration.OTHER,
    AccessPoint.UNKNOWN: Registration.UNKNOWN,
}


class ReceivingRefused(Exception):
    """Receiving cannot be switched on; ``message`` says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def own_identifiers_check(
    *, environment: Environment, lookup: PeppolLookup | None = None, now: datetime | None = None
) -> list[OwnPeppolIdentifier]:
    """Look the environment's own identifiers up and record where each is registered. A change is recorded in the
    timeline; a registration elsewhere while receiving is on is recorded as a route conflict. Directory errors
    are raised after the failure is noted on the identifiers."""
    now = now or timezone.now()
    identifiers = list(environment.own_identifiers.order_by("pk"))
    if not identifiers:
        Environment.objects.filter(pk=environment.pk).update(route_checked_at=now)
        return identifiers
    try:
        with nullcontext(lookup) if lookup is not None else clients.peppol_lookup() as directory:
            found = directory.participants([PeppolIdentifier(i.scheme, i.value) for i in identifiers])
    except RemoteError as exc:
        error = Msg("route.directory_unavailable", detail=exc.message)
        OwnPeppolIdentifier.objects.filter(pk__in=[i.pk for i in identifiers]).update(
            **explained("registration_error", error)
        )
        raise
    with transaction.atomic():
        for own in identifiers:
            before = own.registration
            apply_directory_answer(own, found.get(PeppolIdentifier(own.scheme, own.value)), now=now)
            own.save(update_fields=["registration", "registration_endpoint", "registration_checked_at",
                                    "registration_error", "registration_error_data"])  # fmt: skip
            if before != own.registration:
                _record_registration(environment, own, before)
        Environment.objects.filter(pk=environment.pk).update(route_checked_at=now)
    return identifiers


def registration_message(own: OwnPeppolIdentifier) -> Msg:
    """Where the directory says the identifier receives, as the timeline and the identifier's page say it."""
    where = Choice(Registration, own.registration)
    if own.registration == Registration.NOT_REGISTERED:
        return Msg("route.not_registered", identifier=own.identifier)
    if own.registered_elsewhere and own.registration_endpoint:
        return Msg("route.elsewhere_at", identifier=own.identifier, where=where, endpoint=own.registration_endpoint)
    if own.registered_elsewhere:
        return Msg("route.elsewhere", identifier=own.identifier, where=where)
    return Msg("route.registered", identifier=own.identifier, where=where)


def apply_directory_answer(
    own: OwnPeppolIdentifier, participant: ParticipantLookup | None, *, now: datetime | None = None
) -> None:
    """Set where the directory says ``own`` receives (not saved): nowhere, eConnect, AFAS or another access point."""
    if participant is None or participant.reachability is Reachability.NOT_REGISTERED:
        registration, endpoint = Registration.NOT_REGISTERED, ""
    else:
        registration, endpoint = REGISTRATION_OF[participant.access_point], participant.endpoint_url
    own.registration, own.registration_endpoint = registration, endpoint[:200]
    own.registration_checked_at, own.registration_error, own.registration_error_data = now or timezone.now(), "", {}


def _record_registration(environment: Environment, own: OwnPeppolIdentifier, before: str) -> None:
    conflict = own.registered_elsewhere and environment.receiving_enabled
    message = registration_message(own)
    if conflict:
        message = Msg("route.conflict_overridden" if own.overridden else "route.conflict", finding=message)
    event_record(
        environment=environment,
        kind=EventKind.ROUTE_CONFLICT if conflict else EventKind.ROUTE_REGISTRATION,
        system_actor="route check",
        message=message,
        from_status=before,
        to_status=own.registration,
        data={"identifier": own.identifier, "endpoint": own.registration_endpoint},
    )


def receiving_blockers(environment: Environment) -> list[str]:
    """Why receiving cannot be switched on, as they are known now (without a fresh lookup); [] when nothing blocks."""
    problems = []
    identifiers = list(environment.own_identifiers.all())
    if not identifiers:
        problems.append(_("The organisation has no own Peppol identifier on this environment; add it first."))
    if environment.uses_psb:
        problems.extend(_psb_receiving_blockers(environment))
    elif not environment.has_econnect_keys:
        problems.append(_("The eConnect connection keys are not set."))
    if not environment.has_afas_token:
        problems.append(_("The AFAS token is not set."))
    for own in identifiers:
        problems.extend(route_problems(environment, own))
    return problems


def _psb_receiving_blockers(environment: Environment) -> list[str]:
    """Over PSB invoices arrive by webhook: the portal must be reachable and the environment's hook connected."""
    problem = public_address_problem()
    if problem:
        return [problem]
    if not environment.has_econnect_keys:
        return [_("The eConnect PSB client id, secret and party id are not set.")]
    if environment.econnect_hooks_connected_at is None:
        return [_("The eConnect webhooks are not connected: connect them on the environment page first.")]
    return []


def route_problems(environment: Environment, own: OwnPeppolIdentifier) -> list[str]:
    """Why ``own`` cannot receive via eConnect on ``environment``: registered at another access point, or receiving
    on another environment already (one route per identifier); [] when nothing stands in the way."""
    problems = []
    if own.blocks_receiving:
        problems.append(
            _(
                "%(identifier)s is registered elsewhere: %(where)s. Suppliers' invoices for it go there, not to "
                "eConnect. Have it deregistered there first (support can override this deliberately)."
            )
            % {"identifier": own.identifier, "where": own.get_registration_display()}
        )
    other = (
        OwnPeppolIdentifier.objects.filter(scheme=own.scheme, value=own.value, receive_active=True)
        .exclude(environment=environment)
        .select_related("environment__organisation")
        .first()
    )
    if other is not None:
        problems.append(
            _(
                "%(identifier)s already receives via eConnect on %(environment)s: one identifier can receive on "
                "one environment only. Switch receiving off there first."
            )
            % {"identifier": own.identifier, "environment": other.environment}
        )
    return problems


def environment_set_receiving(
    *, environment: Environment, enabled: bool, actor: User | None, lookup: PeppolLookup | None = None
) -> None:
    """Switch receiving on or off. On: only after a fresh directory lookup finds no registration elsewhere and no
    other environment receives for the same identifier (the database constraint holds that line in a race);
    raises ``ReceivingRefused`` with the reason otherwise."""
    if not enabled:
        with transaction.atomic():
            Environment.objects.filter(pk=environment.pk).update(receiving_enabled=False, updated_at=timezone.now())
            environment.own_identifiers.update(receive_active=False)
            event_record(environment=environment, actor=actor, kind=EventKind.RECEIVING_SWITCHED,
                         message=Msg("environment.receiving_off"), to_status="off")  # fmt: skip
        environment.receiving_enabled = False
        return
    if environment.own_identifiers.exists():
        try:
            own_identifiers_check(environment=environment, lookup=lookup)
        except RemoteError as exc:
            raise ReceivingRefused(
                _(
                    "The Peppol directory could not be asked whether the organisation's identifier is registered at "
                    "another access point (%(reason)s). Receiving stays off; try again in a few minutes."
                )
                % {"reason": exc.message}
            ) from exc
    problems = receiving_blockers(environment)
    if problems:
        raise ReceivingRefused(" ".join(problems))
    try:
        with transaction.atomic():
            locked = Environment.objects.select_for_update().get(pk=environment.pk)
            locked.own_identifiers.update(receive_active=True)
            Environment.objects.filter(pk=locked.pk).update(receiving_enabled=True, updated_at=timezone.now())
            # The inbox is read from now on, never its history (portal.incoming_invoices.inbox_cursor).
            SyncCursor.objects.get_or_create(
                environment=locked,
                stream=SyncCursor.Stream.ECONNECT_INBOX,
                defaults={"position": timezone.now().isoformat()},
            )
            event_record(
                environment=locked,
                actor=actor,
                kind=EventKind.RECEIVING_SWITCHED,
                message=Msg(
                    "environment.receiving_on",
                    identifiers=", ".join(own.identifier for own in locked.own_identifiers.all()),
                ),
                to_status="on",
            )
    except IntegrityError as exc:  # another environment switched on for the same identifier a moment ago
        raise ReceivingRefused(
            _(
                "This Peppol identifier already receives via eConnect on another environment: one identifier can "
                "receive on one environment only. Switch receiving off there first."
            )
        ) from exc
    environment.receiving_enabled = True


def own_identifier_override_route(*, own: OwnPeppolIdentifier, actor: User, reason: str) -> bool:
    """Support allows receiving via eConnect although the directory names another access point (audited)."""
    reason = checked_reason(reason, required=_("An override needs a reason."))
    updated = OwnPeppolIdentifier.objects.filter(pk=own.pk, route_override_at__isnull=True).update(
        route_override_at=timezone.now(), route_override_by=actor, route_override_reason=reason
    )
    if updated:
        event_record(
            environment=own.environment,
            actor=actor,
            kind=EventKind.ROUTE_OVERRIDE,
            reason=reason,
            message=Msg("route.override", identifier=own.identifier, where=Choice(Registration, own.registration)),
        )
    return bool(updated)


def own_identifier_clear_override(*, own: OwnPeppolIdentifier, actor: User) -> bool:
    updated = OwnPeppolIdentifier.objects.filter(pk=own.pk, route_override_at__isnull=False).update(
        route_override_at=None, route_override_by=None, route_override_reason=""
    )
    if updated:
        event_record(environment=own.environment, actor=actor, kind=EventKind.ROUTE_OVERRIDE_CLEARED,
                     message=Msg("route.override_cleared", identifier=own.identifier))  # fmt: skip
    return bool(updated)


def routes_due(*, now: datetime | None = None) -> list[int]:
    """Environments with own identifiers whose last directory check is older than ``ROUTE_CHECK_SECONDS``."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.ROUTE_CHECK_SECONDS)
    has_own = Exists(OwnPeppolIdentifier.objects.filter(environment=OuterRef("pk")))
    return list(
        Environment.objects.filter(has_own)
        .filter(Q(route_checked_at__isnull=True) | Q(route_checked_at__lte=stale))
        .order_by("route_checked_at", "pk")
        .values_list("pk", flat=True)
    )


def routes_check_due(*, now: datetime | None = None) -> tuple[int, int]:
    """The daily check: (checked, failed). A failure is noted on the identifiers and tried again next run."""
    checked = failed = 0
    with clients.peppol_lookup() as lookup:
        for environment in Environment.objects.filter(pk__in=routes_due(now=now)):
            try:
                own_identifiers_check(environment=environment, lookup=lookup, now=now)
                checked += 1
            except RemoteError as exc:
                logger.warning("Route check of environment %s failed: %s", environment.pk, exc.message)
                failed += 1
    return checked, failed
