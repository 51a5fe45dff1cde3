from __future__ import annotations

from typing import Any

from portal.accounts.models import User
from portal.events.messages import Msg, english_and_data
from portal.events.models import Event, EventKind


def event_record(
    *,
    environment,
    kind: EventKind | str,
    message: str | Msg,
    actor: User | None = None,
    system_actor: str = "portal",
    reason: str = "",
    outgoing_invoice=None,
    incoming_invoice=None,
    contact=None,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """Append one entry to a timeline.

    ``actor`` is the person who acted; without one, ``system_actor`` names the part of the system. A ``Msg``
    message is stored as its key and parameters (shown in the reader's language) and in English.
    """
    event = event_build(
        environment=environment, kind=kind, message=message, actor=actor, system_actor=system_actor, reason=reason,
        outgoing_invoice=outgoing_invoice, incoming_invoice=incoming_invoice, contact=contact,
        from_status=from_status, to_status=to_status, data=data,
    )  # fmt: skip
    event.save()
    return event


def events_record(events: list[Event]) -> list[Event]:
    """Append entries made by ``event_build`` in one statement (e.g. one per invoice a collect stored)."""
    return Event.objects.bulk_create(events)


def event_build(
    *,
    environment,
    kind: EventKind | str,
    message: str | Msg,
    actor: User | None = None,
    system_actor: str = "portal",
    reason: str = "",
    outgoing_invoice=None,
    incoming_invoice=None,
    contact=None,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> Event:
    """The entry ``event_record`` appends, not yet saved."""
    kind = EventKind(kind)  # ValueError for a kind that is not in the list
    text, message_data = english_and_data(message)
    return Event(
        environment=environment,
        outgoing_invoice=outgoing_invoice,
        incoming_invoice=incoming_invoice,
        contact=contact,
        actor_type=Event.ActorType.USER if actor else Event.ActorType.SYSTEM,
        actor=actor,
        actor_name=actor.get_username() if actor else system_actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        message=text,
        message_data=message_data,
        reason=reason,
        data=data or {},
    )
