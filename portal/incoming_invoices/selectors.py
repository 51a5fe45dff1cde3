from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from portal.incoming_invoices.models import IncomingInvoice

Status = IncomingInvoice.Status
BATCH = 500
DISPATCH_LEASE = timedelta(minutes=5)


def _due(statuses, now: datetime):
    return (
        IncomingInvoice.objects.filter(status__in=statuses)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - DISPATCH_LEASE))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def deliveries_due(*, now: datetime | None = None) -> list[int]:
    return list(_due((Status.READY, Status.RETRY_WAIT), now or timezone.now()))


def acknowledgements_due(*, now: datetime | None = None) -> list[int]:
    return list(_due((Status.DELIVERED,), now or timezone.now()))


def processing_stalled(*, now: datetime | None = None) -> list[int]:
    before = (now or timezone.now()) - timedelta(minutes=5)
    return list(
        IncomingInvoice.objects.filter(status=Status.RECEIVED, status_changed_at__lt=before).values_list(
            "pk", flat=True
        )[:BATCH]
    )


def mark_dispatched(invoice_ids: list[int], *, now: datetime | None = None) -> None:
    IncomingInvoice.objects.filter(pk__in=invoice_ids).update(dispatched_at=now or timezone.now())
