from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction

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
    pending = _written_together.get()
    if pending is not None:
        pending.append(event)
    else:
        event.save()
    return event


def events_record(events: list[Event]) -> list[Event]:
    """Append entries made by ``event_build`` in one statement (e.g. one per invoice a collect stored)."""
    pending = _written_together.get()
    if pending is not None:
        pending.extend(events)
        return events
    return Event.objects.bulk_create(events)


# The entries recorded inside ``events_written_together``, written when it ends; None outside one.
_written_together: ContextVar[list[Event] | None] = ContextVar("events_written_together", default=None)


@contextmanager
def events_written_together() -> Iterator[None]:
    """One transaction whose timeline entries (``event_record``, ``events_record``) are written in one INSERT at its
    end, e.g. the status changes of the ten invoices one task submits. They stand or fall with the transaction as
    before; only their primary keys are unknown until it ends."""
    pending: list[Event] = []
    token = _written_together.set(pending)
    try:
        with transaction.atomic():
            yield
            Event.objects.bulk_create(pending)
    finally:
        _written_together.reset(token)


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
