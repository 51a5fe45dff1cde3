"""A collect queues its invoices a few per prepare task; one task's invoices of an environment share its eConnect
gateway and the directory's answers, and their moves are written together, each with its own timeline entries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.events.models import Event
from portal.organisations import clients
from portal.outgoing_invoices import services, tasks
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.organisations.factories import EnvironmentFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

Status = OutgoingInvoice.Status


def collected(world, django_capture_on_commit_callbacks) -> list[OutgoingInvoice]:
    """Collect without running the queued preparations; the new invoices in the order they were stored."""
    with django_capture_on_commit_callbacks(execute=False):
        services.outgoing_collect(environment=world.environment)
    return list(world.environment.outgoing_invoices.filter(status=Status.NEW).order_by("pk"))


def counting_gateways(monkeypatch) -> tuple[list, list]:
    """The gateways opened and the directory lookups made through them, recorded as they happen."""
    opened, lookups = [], []
    make = clients.econnect_gateway_for

    def counted(environment):
        gateway = make(environment)
        look_up = gateway.look_up_participants

        def recorded(candidates, document_type):
            lookups.append(tuple(candidates))
            return look_up(candidates, document_type)

        gateway.look_up_participants = recorded
        opened.append(gateway)
        return gateway

    monkeypatch.setattr(clients, "econnect_gateway_for", counted)
    return opened, lookups


def test_a_collect_queues_its_invoices_a_few_per_prepare_task(world, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(services, "PREPARE_PER_TASK", 2)
    queued = []
    monkeypatch.setattr(tasks.prepare, "delay", lambda *ids: queued.append(ids))

    with django_capture_on_commit_callbacks(execute=True):
        services.outgoing_collect(environment=world.environment)

    stored = list(world.environment.outgoing_invoices.order_by("pk").values_list("pk", flat=True))
    assert [len(ids) for ids in queued] == [2, 2, 1]
    assert [pk for ids in queued for pk in ids] == stored


def test_one_task_opens_one_gateway_and_asks_the_directory_once_per_customer(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    world.issue_sales_invoice("10001")
    world.issue_sales_invoice("10001")
    invoices = collected(world, django_capture_on_commit_callbacks)
    opened, lookups = counting_gateways(monkeypatch)

    tasks.prepare(*(invoice.pk for invoice in invoices))

    statuses = dict(OutgoingInvoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("pk", "status"))
    assert set(statuses.values()) <= {Status.SUBMITTED, Status.NEEDS_ATTENTION, Status.NOT_SENT}
    assert Status.SUBMITTED in statuses.values()
    assert len(opened) == 1
    assert len(lookups) == len(set(lookups)) < len(invoices)  # the two invoices of 10001 asked once
    assert all(count == 1 for count in world.sent_counts().values())


def test_an_invoice_that_fails_unexpectedly_does_not_hold_up_the_others(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    invoices = collected(world, django_capture_on_commit_callbacks)
    broken = invoices[1]
    parse = services.parse_document

    def failing_for_one(ubl):
        if ubl == bytes(broken.ubl):
            raise RuntimeError("a bug")
        return parse(ubl)

    monkeypatch.setattr(services, "parse_document", failing_for_one)

    with pytest.raises(RuntimeError, match="a bug"):  # the task fails, so the error is seen
        tasks.prepare(*(invoice.pk for invoice in invoices))

    statuses = dict(OutgoingInvoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("pk", "status"))
    assert statuses.pop(broken.pk) == Status.NEW  # for the stalled-preparation sweep
    assert Status.NEW not in statuses.values()


def test_a_task_prepares_only_what_is_still_new(world, django_capture_on_commit_callbacks):
    invoices = collected(world, django_capture_on_commit_callbacks)
    tasks.prepare(invoices[0].pk)
    moved_on = OutgoingInvoice.objects.get(pk=invoices[0].pk).status

    tasks.prepare(*(invoice.pk for invoice in invoices))  # e.g. the sweep queued it again meanwhile

    assert OutgoingInvoice.objects.get(pk=invoices[0].pk).status == moved_on != Status.NEW
    assert all(count == 1 for count in world.sent_counts().values())


def test_stalled_preparations_are_queued_again_a_few_per_task_by_environment(db, monkeypatch):
    monkeypatch.setattr(services, "PREPARE_PER_TASK", 2)
    queued = []
    monkeypatch.setattr(tasks.prepare, "delay", lambda *ids: queued.append(ids))
    first, second = EnvironmentFactory(), EnvironmentFactory()
    invoices = [OutgoingInvoiceFactory(environment=environment, status=Status.NEW) for environment in
                (second, first, second, first, first)]  # fmt: skip
    OutgoingInvoice.objects.update(status_changed_at=timezone.now() - timedelta(minutes=6))

    tasks.work_due()

    by_environment = {invoice.pk: invoice.environment_id for invoice in invoices}
    assert [len(ids) for ids in queued] == [2, 2, 1]
    order = [by_environment[pk] for ids in queued for pk in ids]
    assert order == sorted(order)


def event_inserts(queries) -> int:
    return sum(1 for query in queries if query["sql"].startswith('INSERT INTO "events_event"'))


def test_a_task_writes_its_invoices_moves_together_each_with_its_timeline(world, django_capture_on_commit_callbacks):
    for _ in range(3):
        world.issue_sales_invoice("10001")
    invoices = collected(world, django_capture_on_commit_callbacks)

    with CaptureQueriesContext(connection) as queries:
        tasks.prepare(*(invoice.pk for invoice in invoices))

    statuses = dict(OutgoingInvoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("pk", "status"))
    submitted = [pk for pk, status in statuses.items() if status == Status.SUBMITTED]
    assert len(submitted) >= 3
    # READY → SUBMITTING of all in one INSERT, SUBMITTED of all in another; the others' outcomes one each.
    assert event_inserts(queries.captured_queries) == 2 + len(statuses) - len(submitted)
    for pk in submitted:
        steps = list(
            Event.objects.filter(outgoing_invoice_id=pk).order_by("pk").values_list("from_status", "to_status")
        )
        assert steps[-3:] == [
            (Status.NEW, Status.READY),
            (Status.READY, Status.SUBMITTING),
            (Status.SUBMITTING, Status.SUBMITTED),
        ]
    assert all(count == 1 for count in world.sent_counts().values())


def test_when_the_moves_cannot_be_written_together_each_is_written_on_its_own(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    invoices = collected(world, django_capture_on_commit_callbacks)
    ready = services._ready
    refused = []

    def refusing_one(invoice, *args, **kwargs):
        if not refused or invoice.pk == refused[0]:
            refused[:1] = [invoice.pk]
            raise RuntimeError("this one cannot be written")
        return ready(invoice, *args, **kwargs)

    monkeypatch.setattr(services, "_ready", refusing_one)

    with pytest.raises(RuntimeError, match="cannot be written"):
        tasks.prepare(*(invoice.pk for invoice in invoices))

    statuses = dict(OutgoingInvoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("pk", "status"))
    assert statuses.pop(refused[0]) == Status.NEW  # for the stalled-preparation sweep, with nothing on its timeline
    assert not Event.objects.filter(outgoing_invoice_id=refused[0]).exclude(to_status=Status.NEW).exists()
    assert Status.SUBMITTED in statuses.values() and Status.NEW not in statuses.values()
    for pk, status in statuses.items():  # the failed attempt to write them together left nothing behind
        moves = Event.objects.filter(outgoing_invoice_id=pk, to_status=status)
        assert moves.count() == 1
    assert all(count == 1 for count in world.sent_counts().values())
