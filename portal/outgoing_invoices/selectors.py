from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from portal.outgoing_invoices.models import OutgoingInvoice

Status = OutgoingInvoice.Status
BATCH = 500
# Work put on the queue is not queued again for this long; after it, a lost message is made good.
DISPATCH_LEASE = timedelta(minutes=5)


def _not_dispatched_recently(now: datetime) -> Q:
    return Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - DISPATCH_LEASE)


def submits_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    due = (
        OutgoingInvoice.objects.filter(status__in=(Status.READY, Status.RETRY_WAIT))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(_not_dispatched_recently(now))
    )
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])


def status_checks_due(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    due = OutgoingInvoice.objects.filter(status=Status.SUBMITTED, next_attempt_at__lte=now).filter(
        _not_dispatched_recently(now)
    )
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])


def preparations_stalled(*, now: datetime | None = None) -> list[int]:
    """NEW invoices nobody prepared within a few minutes (the prepare message was lost)."""
    before = (now or timezone.now()) - timedelta(minutes=5)
    stalled = OutgoingInvoice.objects.filter(status=Status.NEW, status_changed_at__lt=before)
    return list(stalled.values_list("pk", flat=True)[:BATCH])


def mark_dispatched(invoice_ids: list[int], *, now: datetime | None = None) -> None:
    OutgoingInvoice.objects.filter(pk__in=invoice_ids).update(dispatched_at=now or timezone.now())


def outbox_for_environment(*, environment):
    return OutgoingInvoice.objects.filter(environment=environment).defer("ubl").order_by("-created_at", "-pk")
