"""A fetch queues its documents a few per process task; one task's documents of an environment share its AFAS client
and eConnect gateway, are judged in the order they were received, and each still moves on its own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.incoming_invoices import services, tasks
from portal.incoming_invoices.fetching import incoming_fetch
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import clients
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.organisations.factories import EnvironmentFactory

Status = IncomingInvoice.Status


def fetched(world, django_capture_on_commit_callbacks) -> list[IncomingInvoice]:
    """Fetch without running the queued processing; the stored documents in the order they were received."""
    with django_capture_on_commit_callbacks(execute=False):
        incoming_fetch(environment=world.environment)
    return list(IncomingInvoice.objects.filter(environment=world.environment).order_by("pk"))


def counting_clients(monkeypatch) -> dict[str, int]:
    built = {"afas": 0, "econnect": 0}
    make_afas, make_gateway = clients.afas_client_for, clients.econnect_gateway_for

    def afas(environment):
        built["afas"] += 1
        return make_afas(environment)

    def econnect(environment):
        built["econnect"] += 1
        return make_gateway(environment)

    monkeypatch.setattr(clients, "afas_client_for", afas)
    monkeypatch.setattr(clients, "econnect_gateway_for", econnect)
    return built


def test_a_fetch_queues_its_documents_a_few_per_process_task(world, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("portal.incoming_invoices.fetching.PROCESS_PER_TASK", 2)
    queued = []
    monkeypatch.setattr(tasks.process, "delay", lambda *ids: queued.append(ids))

    with django_capture_on_commit_callbacks(execute=True):
        incoming_fetch(environment=world.environment)

    stored = list(
        IncomingInvoice.objects.filter(environment=world.environment).order_by("pk").values_list("pk", flat=True)
    )
    assert all(1 <= len(ids) <= 2 for ids in queued) and len(queued) < len(stored)  # per listing page, two at most
    assert [pk for ids in queued for pk in ids] == stored


def test_one_task_builds_each_client_once_and_judges_in_the_order_received(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    documents = fetched(world, django_capture_on_commit_callbacks)
    built = counting_clients(monkeypatch)

    tasks.process(*reversed([document.pk for document in documents]))  # the order of the message does not count

    statuses = dict(IncomingInvoice.objects.filter(environment=world.environment).values_list("pk", "status"))
    assert list(statuses.values()).count(Status.ACKNOWLEDGED) == 3
    assert built == {"afas": 1, "econnect": 1}
    assert len(world.delivered_to_afas()) == 3
    resend = IncomingInvoice.objects.get(
        environment=world.environment, hold_reason=IncomingInvoice.HoldReason.DUPLICATE
    )
    assert resend.duplicate_of_id < resend.pk  # the one received first is the original, as when one by one


def test_a_document_that_fails_unexpectedly_does_not_hold_up_the_others(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    documents = fetched(world, django_capture_on_commit_callbacks)
    raws = [bytes(document.raw_xml) for document in documents]
    broken = next(document for document, raw in zip(documents, raws, strict=True) if raws.count(raw) == 1)
    parse = services.parse_document

    def failing_for_one(raw, **options):
        if raw == bytes(broken.raw_xml):
            raise RuntimeError("a bug")
        return parse(raw, **options)

    monkeypatch.setattr(services, "parse_document", failing_for_one)

    with pytest.raises(RuntimeError, match="a bug"):
        tasks.process(*(document.pk for document in documents))

    statuses = dict(IncomingInvoice.objects.filter(environment=world.environment).values_list("pk", "status"))
    assert statuses.pop(broken.pk) == Status.RECEIVED  # for the stalled-processing sweep
    assert Status.RECEIVED not in statuses.values()


def test_stalled_processing_is_queued_again_a_few_per_task_by_environment(db, monkeypatch):
    monkeypatch.setattr(tasks, "PROCESS_PER_TASK", 2)
    queued = []
    monkeypatch.setattr(tasks.process, "delay", lambda *ids: queued.append(ids))
    first, second = EnvironmentFactory(), EnvironmentFactory()
    documents = [IncomingInvoiceFactory(environment=environment, status=Status.RECEIVED) for environment in
                 (second, first, second, first, first)]  # fmt: skip
    IncomingInvoice.objects.update(status_changed_at=timezone.now() - timedelta(minutes=6))

    tasks.work_due()

    by_environment = {document.pk: document.environment_id for document in documents}
    assert [len(ids) for ids in queued] == [2, 2, 1]
    order = [by_environment[pk] for ids in queued for pk in ids]
    assert order == sorted(order)
