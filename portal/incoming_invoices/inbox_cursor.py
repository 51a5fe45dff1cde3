"""Where reading an environment's eConnect inbox starts: a ``CreatedOn`` cursor, as eConnect tells clients to poll.

The cursor starts at the moment receiving is first switched on (``routes.environment_set_receiving``), so a first fetch never pulls the inbox's history
(other years, or documents someone already handled in eConnect's platform) into AFAS. It moves to the newest
``CreatedOn`` seen once a fetch read every listing to its end, and never moves back by itself: only a person asks
for an earlier start ("backfill", with a date and a reason, recorded in the timeline).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.accounts.models import User
from portal.core.validators import checked_reason
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations.models import Environment, SyncCursor

STREAM = SyncCursor.Stream.ECONNECT_INBOX
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
EARLIEST_BACKFILL_DAYS = 366  # eConnect keeps documents for a limited time; a year back is already generous


class BackfillRefused(Exception):
    pass


def inbox_since(environment: Environment) -> dt.datetime:
    """The cursor; an environment without one (receiving switched on before cursors existed) starts now."""
    cursor, _created = SyncCursor.objects.get_or_create(
        environment=environment, stream=STREAM, defaults={"position": timezone.now().isoformat()}
    )
    return _parse(cursor.position)


def inbox_advance(environment: Environment, newest: dt.datetime) -> None:
    """Forward only: a conditional update, so a slower fetch can never move the cursor back."""
    with transaction.atomic():
        cursor = SyncCursor.objects.select_for_update().get(environment=environment, stream=STREAM)
        if newest > _parse(cursor.position):
            cursor.position = newest.isoformat()
            cursor.save(update_fields=["position", "updated_at"])


def incoming_backfill(*, environment: Environment, since: dt.date, actor: User | None, reason: str) -> dt.datetime:
    """A person asks for the inbox from ``since`` (00:00 Amsterdam time) on. Every document found is checked like any
    other: addressed to this environment, not a duplicate of one the portal has."""
    reason = checked_reason(reason, required=_("Say why the inbox is read again from an earlier date."))
    start = dt.datetime.combine(since, dt.time.min, tzinfo=AMSTERDAM)
    now = timezone.now()
    if start > now:
        raise BackfillRefused(_("The date is in the future."))
    if start < now - dt.timedelta(days=EARLIEST_BACKFILL_DAYS):
        raise BackfillRefused(_("At most a year back: eConnect does not keep documents longer."))
    with transaction.atomic():
        cursor, _created = SyncCursor.objects.select_for_update().get_or_create(
            environment=environment, stream=STREAM, defaults={"position": start.isoformat()}
        )
        before = _parse(cursor.position)
        if start < before:
            cursor.position = start.isoformat()
            cursor.save(update_fields=["position", "updated_at"])
        event_record(
            environment=environment,
            actor=actor,
            kind=EventKind.INBOX_BACKFILL,
            message=Msg("incoming.backfill", since=since.isoformat(), reason=reason),
            data={"from": before.isoformat(), "to": min(start, before).isoformat()},
        )
    Environment.objects.filter(pk=environment.pk, receiving_enabled=True).update(next_fetch_at=now)
    return min(start, before)


def _parse(position: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(position)
    except ValueError:
        return timezone.now()
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
