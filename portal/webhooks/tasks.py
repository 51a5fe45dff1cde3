"""Thin tasks: process one stored webhook event; pick up those whose task was lost or that wait for a retry."""

from __future__ import annotations

from celery import shared_task

from portal.documents import lifecycle
from portal.webhooks import services
from portal.webhooks.models import WebhookEvent


@shared_task(name="webhooks.process")
def process(event_id: int) -> None:
    # A primary key lookup needs no ORDER BY (which .first() adds and Django compiles for every task).
    for event in WebhookEvent.objects.filter(pk=event_id).select_related("environment")[:1]:
        services.webhook_process(event=event)


@shared_task(name="webhooks.work_due")
def work_due() -> int:
    due = services.webhooks_dispatch_due()
    lifecycle.enqueue("webhooks.process", *due)
    return len(due)
