import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.documents import lifecycle
from portal.events.models import Event
from portal.incoming_invoices import services
from portal.incoming_invoices.models import IncomingInvoice
from tests.portal.accounts.factories import UserFactory

Status = IncomingInvoice.Status
Verdict = IncomingInvoice.DuplicateVerdict


def fetch_and_process(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.incoming_fetch(environment=world.environment)


def by_number(world, number, **filters):
    return IncomingInvoice.objects.filter(environment=world.environment, invoice_number=number, **filters)


def test_every_inbox_document_is_stored_once_with_its_exact_bytes(world, django_capture_on_commit_callbacks):
    first = fetch_and_process(world, django_capture_on_commit_callbacks)
    again = fetch_and_process(world, django_capture_on_commit_callbacks)

    assert first.stored == 5
    assert again.stored == 0
    for invoice in IncomingInvoice.objects.filter(environment=world.environment):
        assert invoice.sha256 == hashlib.sha256(bytes(invoice.raw_xml)).hexdigest()


def test_originals_reach_afas_unchanged_and_are_acknowledged_only_then(world, django_capture_on_commit_callbacks):
    fetch_and_process(world, django_capture_on_commit_callbacks)

    acknowledged = IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED)
    delivered = {entry["sha256"] for entry in world.delivered_to_afas()}
    assert acknowledged.count() == 3  # the invoice, F-1001 of the first supplier, the credit note
    assert {invoice.sha256 for invoice in acknowledged} == delivered
    assert len(world.delivered_to_afas()) == 3


def test_a_different_supplier_with_the_same_number_and_date_is_not_a_duplicate(
    world, django_capture_on_commit_callbacks
):
    fetch_and_process(world, django_capture_on_commit_callbacks)

    first, second = by_number(world, "F-1001", econnect_duplicate_flag__in=(False, True)).order_by("pk")[:2]

    assert first.status == Status.ACKNOWLEDGED
    assert second.econnect_duplicate_flag
    assert second.duplicate_verdict == Verdict.ORIGINAL
    assert (second.status, second.hold_reason) == (Status.HELD, IncomingInvoice.HoldReason.ECONNECT_FLAG_DISPUTED)
    assert "different supplier" in second.duplicate_evidence["econnect"]
    assert second.duplicate_evidence["other_suppliers_same_number_and_date"][0]["id"] == first.pk


def test_a_true_resend_is_held_as_a_duplicate_of_the_original(world, django_capture_on_commit_callbacks):
    fetch_and_process(world, django_capture_on_commit_callbacks)

    resend = IncomingInvoice.objects.get(
        environment=world.environment, hold_reason=IncomingInvoice.HoldReason.DUPLICATE
    )

    assert resend.duplicate_verdict in (Verdict.CERTAIN_DUPLICATE, Verdict.DUPLICATE)
    assert resend.duplicate_of.status == Status.ACKNOWLEDGED
    assert resend.duplicate_evidence["matched"]["id"] == resend.duplicate_of_id


def test_marking_the_disputed_document_as_original_delivers_it_with_an_audit_trail(
    world, django_capture_on_commit_callbacks
):
    fetch_and_process(world, django_capture_on_commit_callbacks)
    disputed = IncomingInvoice.objects.get(environment=world.environment, hold_reason="econnect_flag_disputed")
    support = UserFactory(username="sam")

    with pytest.raises(ValueError):
        services.incoming_mark_as_original(invoice=disputed, actor=support, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.incoming_mark_as_original(
            invoice=disputed, actor=support, reason="Other supplier: Verpakking B.V."
        )

    disputed.refresh_from_db()
    release = disputed.events.get(kind="marked_original")
    assert disputed.status == Status.ACKNOWLEDGED
    assert (release.actor, release.reason) == (support, "Other supplier: Verpakking B.V.")
    assert disputed.sha256 in {entry["sha256"] for entry in world.delivered_to_afas()}


def test_afas_unavailable_during_delivery_retries_later_and_delivers_once(world, django_capture_on_commit_callbacks):
    world.afas_fault(
        operation="POST /connectors/FiElectronicInvoicePurchase", status=503, headers={"Retry-After": "30"}, count=None
    )
    fetch_and_process(world, django_capture_on_commit_callbacks)
    waiting = list(IncomingInvoice.objects.filter(environment=world.environment, status=Status.RETRY_WAIT))
    assert len(waiting) == 3
    assert all(invoice.next_attempt_at > timezone.now() for invoice in waiting)
    world.afas.request("DELETE", "/_sim/faults")

    for invoice in waiting:
        services.incoming_deliver(invoice=invoice, now=timezone.now() + timedelta(hours=1))

    assert IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED).count() == 3
    assert len(world.delivered_to_afas()) == 3


def test_a_failed_acknowledgement_is_retried_without_delivering_again(world, django_capture_on_commit_callbacks):
    world.econnect_fault(operation="SetInboxDocumentStatus", status=500, count=None)
    fetch_and_process(world, django_capture_on_commit_callbacks)
    pending = list(IncomingInvoice.objects.filter(environment=world.environment, status=Status.DELIVERED))
    assert len(pending) == 3
    assert all("Acknowledging at eConnect failed" in invoice.last_error_message for invoice in pending)
    world.econnect.request("DELETE", "/_sim/faults")

    for invoice in pending:
        services.incoming_acknowledge(invoice=invoice)

    assert IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED).count() == 3
    assert len(world.delivered_to_afas()) == 3


def test_an_interrupted_delivery_is_held_for_a_person_never_delivered_twice(
    world, django_capture_on_commit_callbacks, settings
):
    world.afas_fault(operation="POST /connectors/FiElectronicInvoicePurchase", status=503, count=None)
    fetch_and_process(world, django_capture_on_commit_callbacks)
    invoice = IncomingInvoice.objects.filter(environment=world.environment, status=Status.RETRY_WAIT).first()
    IncomingInvoice.objects.filter(pk=invoice.pk).update(
        status=Status.DELIVERING, status_changed_at=timezone.now() - timedelta(hours=1)
    )

    assert services.incoming_sweep_stuck() == 1

    invoice.refresh_from_db()
    assert (invoice.status, invoice.hold_reason) == (Status.HELD, IncomingInvoice.HoldReason.DELIVERY_UNCERTAIN)


def test_a_hostile_document_is_held_as_evidence_and_blocks_nothing(world, django_capture_on_commit_callbacks):
    import hashlib

    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice>&e;</Invoice>'
    invoice = IncomingInvoice.objects.create(
        environment=world.environment,
        econnect_document_id="HOSTILE-1",
        raw_xml=hostile,
        sha256=hashlib.sha256(hostile).hexdigest(),
    )

    services.incoming_process(invoice=invoice)
    fetch_and_process(world, django_capture_on_commit_callbacks)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.hold_reason) == (Status.HELD, IncomingInvoice.HoldReason.HOSTILE)
    assert bytes(invoice.raw_xml) == hostile
    assert "DTD" in invoice.parse_error
    assert IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED).count() == 3


def test_receiving_switched_off_fetches_nothing(world):
    from portal.organisations.models import Environment

    Environment.objects.filter(pk=world.environment.pk).update(receiving_enabled=False)

    assert world.environment.pk not in services.incoming_dispatch_fetches()
    assert services.incoming_fetch(environment=world.environment).ran is False


def test_an_interrupted_small_business_delivery_is_retried_not_held(world):
    from portal.organisations.models import Environment

    small_business = Environment.objects.get(afas_participant_number="67890")
    document = IncomingInvoice.objects.create(
        environment=small_business,
        econnect_document_id="SB-1",
        raw_xml=b"<Invoice/>",
        sha256=hashlib.sha256(b"<Invoice/>").hexdigest(),
        status=Status.DELIVERING,
    )
    IncomingInvoice.objects.filter(pk=document.pk).update(status_changed_at=timezone.now() - timedelta(hours=1))

    assert services.incoming_sweep_stuck() == 1

    document.refresh_from_db()
    assert document.status == Status.RETRY_WAIT


def test_a_connection_lost_after_afas_accepted_is_held_never_delivered_twice(world, django_capture_on_commit_callbacks):
    world.afas_fault(operation="POST /connectors/FiElectronicInvoicePurchase", phase="after", drop=True, count=1)

    fetch_and_process(world, django_capture_on_commit_callbacks)

    uncertain = IncomingInvoice.objects.get(environment=world.environment, hold_reason="delivery_uncertain")
    assert uncertain.status == Status.HELD
    assert "Check AFAS" in uncertain.events.latest("created_at").message
    delivered = [entry["sha256"] for entry in world.delivered_to_afas()]
    assert delivered.count(uncertain.sha256) == 1  # AFAS has it once; the portal did not send it again


def test_afas_refusing_the_connection_is_simply_retried(world, django_capture_on_commit_callbacks, monkeypatch):
    import httpx

    from integrations.http import RemoteUnavailable
    from portal.incoming_invoices.services import _may_have_reached_the_remote

    never_sent = RemoteUnavailable("refused")
    never_sent.__cause__ = httpx.ConnectError("refused")
    maybe_sent = RemoteUnavailable("dropped")
    maybe_sent.__cause__ = httpx.RemoteProtocolError("disconnected")
    answered = RemoteUnavailable("maintenance", status=503)

    assert not _may_have_reached_the_remote(never_sent)
    assert _may_have_reached_the_remote(maybe_sent)
    assert not _may_have_reached_the_remote(answered)


def test_marking_as_original_releases_it_at_the_econnect_simulator_too(world, django_capture_on_commit_callbacks):
    fetch_and_process(world, django_capture_on_commit_callbacks)
    disputed = IncomingInvoice.objects.get(environment=world.environment, hold_reason="econnect_flag_disputed")

    with django_capture_on_commit_callbacks(execute=True):
        services.incoming_mark_as_original(invoice=disputed, actor=UserFactory(), reason="Other supplier")

    inbox = world.econnect.request("GET", "/_sim/inbox").json()
    documents = inbox.get("documents", inbox)
    state = next(document for document in documents if document["external_id"] == disputed.econnect_document_id)
    assert state.get("released") is True


def test_an_interrupted_delivery_found_in_afas_counts_as_delivered_and_is_acknowledged(
    world, django_capture_on_commit_callbacks
):
    from tests.portal.accounts.factories import UserFactory

    world.afas_fault(operation="POST /connectors/FiElectronicInvoicePurchase", phase="after", drop=True, count=1)
    fetch_and_process(world, django_capture_on_commit_callbacks)
    uncertain = IncomingInvoice.objects.get(environment=world.environment, hold_reason="delivery_uncertain")
    person = UserFactory()

    assert services.incoming_confirm_in_afas(invoice=uncertain, actor=person, reason="Entry 2026-118 in AFAS.")

    uncertain.refresh_from_db()
    assert uncertain.status == Status.ACKNOWLEDGED
    inbox = world.econnect.request("GET", "/_sim/inbox").json()
    states = {entry["external_id"]: entry["state"] for entry in inbox["documents"]}
    assert states[uncertain.econnect_document_id] == "processed"
    confirmed = Event.objects.get(incoming_invoice=uncertain, kind="confirmed_in_afas")
    assert (confirmed.actor, confirmed.reason) == (person, "Entry 2026-118 in AFAS.")
    assert [entry["sha256"] for entry in world.delivered_to_afas()].count(uncertain.sha256) == 1


def test_only_an_interrupted_delivery_can_be_confirmed_in_afas(world, django_capture_on_commit_callbacks):
    from tests.portal.accounts.factories import UserFactory

    fetch_and_process(world, django_capture_on_commit_callbacks)
    acknowledged = IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED).first()

    assert not services.incoming_confirm_in_afas(invoice=acknowledged, actor=UserFactory(), reason="Seen it.")
    with pytest.raises(ValueError):
        services.incoming_confirm_in_afas(invoice=acknowledged, actor=UserFactory(), reason=" ")


def test_a_retried_delivery_records_the_status_it_was_claimed_from(world, django_capture_on_commit_callbacks):
    world.afas_fault(operation="POST /connectors/FiElectronicInvoicePurchase", status=503, count=1)
    fetch_and_process(world, django_capture_on_commit_callbacks)
    waiting = IncomingInvoice.objects.get(environment=world.environment, status=Status.RETRY_WAIT)
    IncomingInvoice.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now())

    services.incoming_deliver(invoice=waiting)

    claim = Event.objects.filter(incoming_invoice=waiting, to_status=Status.DELIVERING).latest("id")
    assert claim.from_status == Status.RETRY_WAIT


def test_a_stalled_document_is_queued_again_once_per_lease_not_on_every_run(world):
    import hashlib

    from portal.incoming_invoices import selectors

    document = IncomingInvoice.objects.create(
        environment=world.environment,
        econnect_document_id="STALLED-1",
        raw_xml=b"<Invoice/>",
        sha256=hashlib.sha256(b"<Invoice/>").hexdigest(),
    )
    IncomingInvoice.objects.filter(pk=document.pk).update(status_changed_at=timezone.now() - timedelta(hours=1))

    first = selectors.processing_stalled()
    selectors.mark_dispatched(first)

    assert document.pk in first
    assert document.pk not in selectors.processing_stalled()
    assert document.pk in selectors.processing_stalled(now=timezone.now() + lifecycle.DISPATCH_LEASE * 2)


def test_a_processed_document_is_delivered_in_the_same_task_with_every_step_on_its_timeline(
    world, django_capture_on_commit_callbacks
):
    from portal.incoming_invoices import tasks

    with django_capture_on_commit_callbacks(execute=False):
        services.incoming_fetch(environment=world.environment)
    document = IncomingInvoice.objects.get(environment=world.environment, econnect_document_id="XCNIN1002")

    with django_capture_on_commit_callbacks(execute=False) as queued:
        tasks.process(document.pk)

    document.refresh_from_db()
    assert document.status == Status.ACKNOWLEDGED and queued == []
    steps = list(Event.objects.filter(incoming_invoice=document).order_by("pk").values_list("from_status", "to_status"))
    assert steps == [
        ("", Status.RECEIVED),
        (Status.RECEIVED, Status.READY),
        (Status.READY, Status.DELIVERING),
        (Status.DELIVERING, Status.DELIVERED),
        (Status.DELIVERED, Status.ACKNOWLEDGED),
    ]


def test_a_document_stored_meanwhile_by_another_run_is_stored_once(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    from portal.incoming_invoices import fetching

    download = fetching._download
    taken_in = []

    def another_run_stores_the_first_one(gateway, external_id):
        fetched = download(gateway, external_id)
        if not taken_in:  # a webhook or a person's import stores it while this page is being downloaded
            taken_in.append(fetching._store(world.environment, external_id, False, fetched)[0])
        return fetched

    monkeypatch.setattr(fetching, "_download", another_run_stores_the_first_one)
    with django_capture_on_commit_callbacks(execute=False):
        result = services.incoming_fetch(environment=world.environment)

    stored = IncomingInvoice.objects.filter(environment=world.environment)
    assert stored.count() == 5 and result.stored + 1 == 5
    assert stored.filter(econnect_document_id=taken_in[0].econnect_document_id).count() == 1
    assert Event.objects.filter(incoming_invoice__in=stored, kind="received").count() == 5
