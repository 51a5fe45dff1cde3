"""Thin tasks: load by id, call one service. Retries are due times in the database, picked up by ``work_due``."""

from __future__ import annotations

from celery import shared_task

from portal.incoming_invoices import selectors, services
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.models import Environment


@shared_task(name="incoming.dispatch_fetches")
def dispatch_fetches() -> int:
    environment_ids = services.incoming_dispatch_fetches()
    for environment_id in environment_ids:
        fetch.delay(environment_id)
    return len(environment_ids)


@shared_task(name="incoming.fetch")
def fetch(environment_id: int) -> None:
    environment = Environment.objects.filter(pk=environment_id).first()
    if environment is not None:
        services.incoming_fetch(environment=environment)


def _with_invoice(invoice_id: int, service) -> None:
    invoice = IncomingInvoice.objects.filter(pk=invoice_id).select_related("environment").first()
    if invoice is not None:
        service(invoice=invoice)


@shared_task(name="incoming.process")
def process(invoice_id: int) -> None:
    _with_invoice(invoice_id, services.incoming_process_and_deliver)


@shared_task(name="incoming.deliver")
def deliver(invoice_id: int) -> None:
    _with_invoice(invoice_id, services.incoming_deliver)


@shared_task(name="incoming.acknowledge")
def acknowledge(invoice_id: int) -> None:
    _with_invoice(invoice_id, services.incoming_acknowledge)


@shared_task(name="incoming.work_due")
def work_due() -> None:
    deliveries, acknowledgements = selectors.deliveries_due(), selectors.acknowledgements_due()
    selectors.mark_dispatched(deliveries + acknowledgements)
    for invoice_id in deliveries:
        deliver.delay(invoice_id)
    for invoice_id in acknowledgements:
        acknowledge.delay(invoice_id)
    stalled = selectors.processing_stalled()
    selectors.mark_dispatched(stalled)
    for invoice_id in stalled:
        process.delay(invoice_id)


@shared_task(name="incoming.sweep")
def sweep() -> int:
    return services.incoming_sweep_stuck()
