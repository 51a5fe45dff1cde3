"""Thin tasks: load by id, call one service. Retries are not Celery retries but due times in the database,
picked up by the periodic ``*_due`` tasks, so a lost message or a killed worker loses nothing."""

from __future__ import annotations

from celery import shared_task

from portal.organisations.models import Environment
from portal.outgoing_invoices import selectors, services
from portal.outgoing_invoices.models import OutgoingInvoice


@shared_task(name="outgoing.dispatch_collects")
def dispatch_collects() -> int:
    environment_ids = services.outgoing_dispatch_collects()
    for environment_id in environment_ids:
        collect.delay(environment_id)
    return len(environment_ids)


@shared_task(name="outgoing.collect")
def collect(environment_id: int) -> None:
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        services.outgoing_collect(environment=environment)


@shared_task(name="outgoing.prepare")
def prepare(*invoice_ids: int) -> None:
    """Prepare and submit a few invoices (of one collect, so mostly of one environment) in one task."""
    services.outgoing_prepare_and_submit_many(invoices=selectors.invoices_to_prepare(invoice_ids))


@shared_task(name="outgoing.submit")
def submit(invoice_id: int) -> None:
    invoice = OutgoingInvoice.objects.filter(pk=invoice_id).select_related("environment").first()
    if invoice is not None:
        services.outgoing_submit(invoice=invoice)


@shared_task(name="outgoing.follow_status")
def follow_status(invoice_id: int) -> None:
    invoice = OutgoingInvoice.objects.filter(pk=invoice_id).select_related("environment").first()
    if invoice is not None:
        services.outgoing_follow_status(invoice=invoice)


@shared_task(name="outgoing.work_due")
def work_due() -> None:
    """Enqueue what is due: submits and retries, status polls, and preparations whose message was lost."""
    submits, status_checks = selectors.submits_due(), selectors.status_checks_due()
    selectors.mark_dispatched(submits + status_checks)
    for invoice_id in submits:
        submit.delay(invoice_id)
    for invoice_id in status_checks:
        follow_status.delay(invoice_id)
    stalled = selectors.preparations_stalled()
    selectors.mark_dispatched(stalled)
    for start in range(0, len(stalled), services.PREPARE_PER_TASK):
        prepare.delay(*stalled[start : start + services.PREPARE_PER_TASK])


@shared_task(name="outgoing.sweep")
def sweep() -> int:
    return services.outgoing_sweep_stuck()
