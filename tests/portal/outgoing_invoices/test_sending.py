from datetime import timedelta

import pytest
from django.utils import timezone

from portal.events.models import Event
from portal.organisations.models import Environment, SyncCursor
from portal.outgoing_invoices import round_trip, services
from portal.outgoing_invoices.models import OutgoingInvoice

Status = OutgoingInvoice.Status


def collect_and_process(world, django_capture_on_commit_callbacks):
    """One collect; prepare and submit run as the enqueued (eager) tasks after each commit."""
    with django_capture_on_commit_callbacks(execute=True):
        return services.outgoing_collect(environment=world.environment)


def test_collect_stores_each_issued_invoice_once_and_advances_the_cursor(world, django_capture_on_commit_callbacks):
    first = collect_and_process(world, django_capture_on_commit_callbacks)
    second = collect_and_process(world, django_capture_on_commit_callbacks)

    assert first.created == 5
    assert second.created == 0
    assert world.environment.outgoing_invoices.count() == 5
    cursor = SyncCursor.objects.get(environment=world.environment, stream=SyncCursor.Stream.SALES_INVOICES)
    assert cursor.position == first.cursor != "0"


def test_a_collected_invoice_is_validated_resolved_and_submitted_exactly_once(
    world, django_capture_on_commit_callbacks
):
    collect_and_process(world, django_capture_on_commit_callbacks)

    statuses = dict(world.environment.outgoing_invoices.values_list("invoice_number", "status"))
    submitted = [number for number, status in statuses.items() if status == Status.SUBMITTED]
    assert submitted, statuses
    assert all(count == 1 for count in world.sent_counts().values())
    assert len(world.sent_counts()) == len(submitted)


def test_a_submitted_invoice_ends_delivered(world, django_capture_on_commit_callbacks):
    collect_and_process(world, django_capture_on_commit_callbacks)
    invoice = world.environment.outgoing_invoices.filter(status=Status.SUBMITTED).first()

    world.advance_econnect_clock(120)
    services.outgoing_follow_status(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == Status.DELIVERED
    assert invoice.completed_at is not None


def test_every_transition_is_on_the_timeline(world, django_capture_on_commit_callbacks):
    collect_and_process(world, django_capture_on_commit_callbacks)
    invoice = world.environment.outgoing_invoices.filter(status=Status.SUBMITTED).first()

    steps = list(
        Event.objects.filter(outgoing_invoice=invoice).order_by("created_at", "id").values_list("to_status", flat=True)
    )

    assert steps == [Status.NEW, Status.READY, Status.SUBMITTING, Status.SUBMITTED]


def test_a_debtor_that_afas_sends_to_itself_is_not_sent_by_the_portal(world, django_capture_on_commit_callbacks):
    world.issue_sales_invoice("10010")  # Café Centraal: issue method C (AFAS's own access point)

    collect_and_process(world, django_capture_on_commit_callbacks)

    invoice = world.environment.outgoing_invoices.get(afas_organisation_code__isnull=False, afas_issue_method="C")
    assert invoice.status == Status.NOT_SENT
    assert "AFAS sends it via its own Peppol access point" in invoice.events.latest("created_at").message


def test_a_customer_not_on_peppol_needs_attention_with_what_was_tried(world, django_capture_on_commit_callbacks):
    world.issue_sales_invoice("10004")  # Supermarkt Van Dam: KvK and VAT, registered nowhere

    collect_and_process(world, django_capture_on_commit_callbacks)

    invoice = world.environment.outgoing_invoices.filter(customer_name__icontains="Van Dam").get()
    assert invoice.status == Status.NEEDS_ATTENTION
    assert invoice.last_error_kind == "recipient"
    assert "Customer not on Peppol" in invoice.last_error_message
    tried = {entry["identifier"] for entry in invoice.recipient_lookups}
    assert "0106:30123459" in tried


def test_sending_switched_off_stops_new_collects(world):
    Environment.objects.filter(pk=world.environment.pk).update(sending_enabled=False)

    assert world.environment.pk not in services.outgoing_dispatch_collects()
    assert services.outgoing_collect(environment=world.environment).ran is False


def test_a_collect_is_dispatched_once_per_polling_interval(world):
    now = timezone.now()

    first = services.outgoing_dispatch_collects(now=now)
    again = services.outgoing_dispatch_collects(now=now + timedelta(seconds=10))
    later = services.outgoing_dispatch_collects(
        now=now + timedelta(seconds=world.environment.poll_interval_seconds + 1)
    )

    assert world.environment.pk in first
    assert world.environment.pk not in again
    assert world.environment.pk in later


def test_no_two_collects_of_one_environment_run_at_once(world):
    Environment.objects.filter(pk=world.environment.pk).update(
        collect_lease_until=timezone.now() + timedelta(minutes=5)
    )

    assert services.outgoing_collect(environment=world.environment).ran is False
    assert world.environment.outgoing_invoices.count() == 0


def ready_invoice(world, django_capture_on_commit_callbacks):
    """One invoice prepared up to READY, without submitting it yet."""
    world.fault(operation="SendDocument", status=503, headers={"Retry-After": "1"}, count=50)
    collect_and_process(world, django_capture_on_commit_callbacks)
    world.econnect.request("DELETE", "/_sim/faults")
    invoice = world.environment.outgoing_invoices.filter(status=Status.RETRY_WAIT).first()
    assert invoice is not None
    return invoice


def collected_invoice(world, django_capture_on_commit_callbacks):
    """One invoice collected (NEW), its preparation not run."""
    with django_capture_on_commit_callbacks(execute=False):
        services.outgoing_collect(environment=world.environment)
    return world.environment.outgoing_invoices.filter(status=Status.NEW).first()


def test_a_prepared_invoice_is_submitted_in_the_same_task_with_every_step_on_its_timeline(
    world, django_capture_on_commit_callbacks
):
    from portal.events.models import Event
    from portal.outgoing_invoices import tasks

    invoice = collected_invoice(world, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        tasks.prepare(invoice.pk)

    invoice.refresh_from_db()
    assert invoice.status == Status.SUBMITTED and queued == []
    assert list(world.sent_counts().values()) == [1]
    steps = list(Event.objects.filter(outgoing_invoice=invoice).order_by("pk").values_list("from_status", "to_status"))
    assert steps[1:] == [
        (Status.NEW, Status.READY),
        (Status.READY, Status.SUBMITTING),
        (Status.SUBMITTING, Status.SUBMITTED),
    ]


def test_a_prepared_invoice_whose_submit_is_queued_is_off_the_due_list_until_it_runs(
    world, django_capture_on_commit_callbacks
):
    from portal.outgoing_invoices import selectors

    invoice = collected_invoice(world, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=False) as queued:
        services.outgoing_prepare(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == Status.READY and len(queued) == 1
    assert invoice.pk not in selectors.submits_due()


def test_a_transient_failure_waits_for_its_retry_time(world, django_capture_on_commit_callbacks):
    invoice = ready_invoice(world, django_capture_on_commit_callbacks)

    assert invoice.next_attempt_at > timezone.now()
    assert invoice.last_error_kind == "transient"
    assert world.sent_counts() == {}


def test_a_timeout_after_econnect_accepted_still_sends_exactly_once(world, django_capture_on_commit_callbacks):
    invoice = ready_invoice(world, django_capture_on_commit_callbacks)
    world.fault(operation="SendDocument", phase="after", drop=True)  # eConnect keeps it, the answer is lost

    services.outgoing_submit(invoice=invoice, now=timezone.now() + timedelta(hours=2))
    invoice.refresh_from_db()
    assert invoice.status == Status.RETRY_WAIT
    services.outgoing_submit(invoice=invoice, now=timezone.now() + timedelta(hours=4))

    invoice.refresh_from_db()
    assert invoice.status == Status.SUBMITTED
    assert list(world.sent_counts().values()) == [1]


def test_a_worker_killed_mid_submit_is_recovered_by_the_sweeper_without_a_second_send(
    world, django_capture_on_commit_callbacks
):
    invoice = ready_invoice(world, django_capture_on_commit_callbacks)
    world.fault(operation="SendDocument", phase="after", drop=True)
    services.outgoing_submit(invoice=invoice, now=timezone.now() + timedelta(hours=2))  # eConnect has it now
    # The worker dies before recording the answer: the row is left SUBMITTING.
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(
        status=Status.SUBMITTING, status_changed_at=timezone.now() - timedelta(hours=1)
    )

    assert services.outgoing_sweep_stuck() == 1
    invoice.refresh_from_db()
    services.outgoing_submit(invoice=invoice, now=timezone.now() + timedelta(hours=5))

    invoice.refresh_from_db()
    assert invoice.status == Status.SUBMITTED
    assert list(world.sent_counts().values()) == [1]


def test_a_submit_in_flight_is_not_taken_over_by_the_sweeper(world, django_capture_on_commit_callbacks):
    invoice = ready_invoice(world, django_capture_on_commit_callbacks)
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(status=Status.SUBMITTING, status_changed_at=timezone.now())

    assert services.outgoing_sweep_stuck() == 0


def test_repeated_transient_failures_stop_at_the_attempt_limit(world, django_capture_on_commit_callbacks, settings):
    settings.DOCUMENT_MAX_ATTEMPTS = 2
    invoice = ready_invoice(world, django_capture_on_commit_callbacks)
    world.fault(operation="SendDocument", status=500, count=None)

    services.outgoing_submit(invoice=invoice, now=timezone.now() + timedelta(hours=2))

    invoice.refresh_from_db()
    assert invoice.status == Status.FAILED
    assert "Gave up after 2 attempts" in invoice.events.latest("created_at").message


def test_an_expired_econnect_token_is_renewed_and_the_send_goes_through(world, django_capture_on_commit_callbacks):
    invoice = ready_invoice(world, django_capture_on_commit_callbacks)
    app_key = world.environment.econnect_app_key
    world.econnect.request("POST", f"/_sim/accounts/{app_key}/expire-tokens")

    services.outgoing_submit(invoice=invoice, now=timezone.now() + timedelta(hours=2))

    invoice.refresh_from_db()
    assert invoice.status == Status.SUBMITTED


def test_wrong_connection_keys_need_attention_with_the_reason(world, django_capture_on_commit_callbacks):
    from portal.organisations.services import environment_set_credentials

    invoice = ready_invoice(world, django_capture_on_commit_callbacks)
    environment_set_credentials(environment=world.environment, actor=None, econnect_app_secret="wrong")

    services.outgoing_submit(invoice=invoice, now=timezone.now() + timedelta(hours=2))

    invoice.refresh_from_db()
    assert invoice.status == Status.NEEDS_ATTENTION
    assert invoice.last_error_kind == "credentials"
    assert "App Key and Secret" in invoice.last_error_message


def test_an_invoice_without_a_final_status_becomes_stale_and_is_not_resent(
    world, django_capture_on_commit_callbacks, settings
):
    collect_and_process(world, django_capture_on_commit_callbacks)
    invoice = world.environment.outgoing_invoices.filter(status=Status.SUBMITTED).first()
    sent_before = world.sent_counts()

    services.outgoing_follow_status(
        invoice=invoice, now=timezone.now() + timedelta(hours=settings.OUTGOING_STALE_AFTER_HOURS + 1)
    )

    invoice.refresh_from_db()
    assert invoice.status in (Status.STALE, Status.DELIVERED)  # the simulator may have delivered it by then
    assert world.sent_counts() == sent_before


def test_an_invalid_invoice_needs_attention_with_findings_and_hints(world, django_capture_on_commit_callbacks):
    from portal.outgoing_invoices.services import outgoing_prepare
    from tests.shared_artefacts import require_shared_peppol

    require_shared_peppol()  # the findings come from the official rules

    invoice = OutgoingInvoice.objects.create(
        environment=world.environment,
        afas_identity="dossier:broken",
        ubl=b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>1</ID></Invoice>',
    )

    outgoing_prepare(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == Status.NEEDS_ATTENTION
    assert invoice.last_error_kind == "invalid_document"
    assert invoice.validation_findings
    assert all({"rule_id", "message", "hint_en", "hint_nl"} <= set(finding) for finding in invoice.validation_findings)


def test_a_test_invoice_is_delivered_into_the_environments_own_inbox(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = round_trip.outgoing_send_test_invoice(environment=world.environment, actor=None)

    invoice.refresh_from_db()
    assert invoice.is_test
    assert invoice.status == Status.SUBMITTED, invoice.last_error_message
    world.advance_econnect_clock(120)
    services.outgoing_follow_status(invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.status == Status.DELIVERED
    inbox = world.econnect.request("GET", "/_sim/inbox").json()
    assert any(invoice.invoice_number in str(document) for document in inbox.get("documents", inbox))


def test_a_person_can_retry_and_resolve_manually_with_an_audit_trail(world, django_capture_on_commit_callbacks):
    from tests.portal.accounts.factories import UserFactory

    world.issue_sales_invoice("10004")
    collect_and_process(world, django_capture_on_commit_callbacks)
    invoice = world.environment.outgoing_invoices.get(status=Status.NEEDS_ATTENTION)
    support = UserFactory(username="sam")

    with pytest.raises(ValueError):
        services.outgoing_resolve_manually(invoice=invoice, actor=support, reason=" ")
    assert services.outgoing_resolve_manually(invoice=invoice, actor=support, reason="Sent by post")

    invoice.refresh_from_db()
    event = invoice.events.latest("created_at")
    assert (invoice.status, event.actor, event.reason) == (Status.RESOLVED_MANUALLY, support, "Sent by post")


def test_afas_maintenance_during_collect_loses_nothing_and_the_next_collect_gets_everything(
    world, django_capture_on_commit_callbacks
):
    from integrations.http import TransientError

    world.afas.request(
        "POST",
        "/_sim/faults",
        json={
            "operation": "GET /connectors/ProfitSubjectsAuthorized",
            "status": 503,
            "headers": {"Retry-After": "600"},
        },
    )

    with pytest.raises(TransientError) as failure:
        collect_and_process(world, django_capture_on_commit_callbacks)

    assert failure.value.retry_after == 600
    assert world.environment.outgoing_invoices.count() == 0
    assert not SyncCursor.objects.filter(
        environment=world.environment, stream=SyncCursor.Stream.SALES_INVOICES, position__gt="0"
    ).exists()
    world.environment.refresh_from_db()
    assert world.environment.collect_lease_until is None
    assert collect_and_process(world, django_capture_on_commit_callbacks).created == 5


def test_a_failed_download_stores_none_of_its_chunk_and_the_next_collect_stores_each_once(
    world, django_capture_on_commit_callbacks
):
    from integrations.http import TransientError

    world.afas.request(
        "POST",
        "/_sim/faults",
        json={"operation": "GET /SubjectConnector", "status": 503, "headers": {"Retry-After": "600"}},
    )

    with pytest.raises(TransientError):
        collect_and_process(world, django_capture_on_commit_callbacks)

    assert world.environment.outgoing_invoices.count() == 0
    assert not Event.objects.filter(environment=world.environment, kind="collected").exists()
    assert collect_and_process(world, django_capture_on_commit_callbacks).created == 5
    assert Event.objects.filter(environment=world.environment, kind="collected").count() == 5
    assert sorted(world.sent_counts().values()) == [1] * 5


def test_an_unknown_econnect_status_is_shown_as_written_flagged_and_never_turns_stale(
    world, django_capture_on_commit_callbacks, settings
):
    collect_and_process(world, django_capture_on_commit_callbacks)
    invoice = world.environment.outgoing_invoices.filter(status=Status.SUBMITTED).first()
    world.econnect.request(
        "POST",
        f"/_sim/outbox/{invoice.econnect_document_id}/state",
        json={"state": "in_progress", "code": "91", "name": "In wachtrij Peppol"},
    )
    much_later = timezone.now() + timedelta(hours=settings.OUTGOING_STALE_AFTER_HOURS + 1)

    services.outgoing_follow_status(invoice=invoice, now=much_later)
    invoice.refresh_from_db()
    services.outgoing_follow_status(invoice=invoice, now=much_later)  # asked again: flagged once

    invoice.refresh_from_db()
    assert invoice.status == Status.SUBMITTED and invoice.next_attempt_at is not None
    assert (invoice.econnect_status, invoice.econnect_status_code) == ("In wachtrij Peppol", "91")
    assert invoice.econnect_status_unknown
    [flag] = Event.objects.filter(outgoing_invoice=invoice, kind="econnect_status_unknown")
    assert '"In wachtrij Peppol" (code 91)' in flag.message
    assert OutgoingInvoice.objects.filter(econnect_status_unknown=True).count() == 1  # support's admin filter


def test_a_known_status_after_an_unknown_one_clears_the_flag(world, django_capture_on_commit_callbacks):
    collect_and_process(world, django_capture_on_commit_callbacks)
    invoice = world.environment.outgoing_invoices.filter(status=Status.SUBMITTED).first()
    world.econnect.request(
        "POST", f"/_sim/outbox/{invoice.econnect_document_id}/state", json={"state": "in_progress", "name": "Nieuw"}
    )
    services.outgoing_follow_status(invoice=invoice)
    world.econnect.request("POST", f"/_sim/outbox/{invoice.econnect_document_id}/state", json={"state": "delivered"})
    invoice.refresh_from_db()

    services.outgoing_follow_status(invoice=invoice)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.econnect_status, invoice.econnect_status_unknown) == (
        Status.DELIVERED,
        "Ontvangen",
        False,
    )
