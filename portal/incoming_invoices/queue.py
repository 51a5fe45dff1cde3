"""Receiving's follow-up work goes on the queue only once the transaction that made it due has committed."""

from __future__ import annotations

from django.db import transaction


def enqueue(task_name: str, *ids: int) -> None:
    from portal.incoming_invoices import tasks  # tasks import the services, which use this

    task = getattr(tasks, task_name)
    for pk in ids:
        transaction.on_commit(lambda pk=pk: task.delay(pk))
