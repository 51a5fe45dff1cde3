"""Readiness lookups against the eConnect simulator's Peppol directory: every outcome, batching, the time-to-live,
failures, bulk jobs with progress, and writing confirmed identifiers back to the AFAS simulator."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from portal.contacts import lookups
from portal.contacts.lookups import (
    ContactNotConfirmable,
    JobAlreadyRunning,
    contact_confirm_identifier,
    contact_job_run_chunk,
    contact_job_start,
    contact_jobs_resume_stalled,
    contacts_look_up_due,
)
from portal.contacts.models import Contact, ContactJob
from portal.contacts.services import contacts_sync
from portal.events.models import Event

Outcome = Contact.LookupOutcome


def customers(environment):
    return {
        c.afas_id: c
        for c in Contact.objects.filter(environment=environment, kind=Contact.Kind.DEBTOR).prefetch_related(
            "identifiers"
        )
    }


@pytest.fixture
def synced(contacts_world):
    contacts_sync(environment=contacts_world.environment)
    return contacts_world


def test_every_outcome_from_the_directory(synced):
    builder_vat = Contact.objects.get(afas_id="10012", environment=synced.environment).vat_number
    for party_id in ("0106:30123467", f"9944:{builder_vat}"):  # Bouwbedrijf: only credit notes
        synced.register(party_id, document_types=["credit_note"])

    assert contacts_look_up_due() == 13  # 15 customers, 2 without a usable identifier

    found = customers(synced.environment)
    restaurant = found["10001"]
    assert restaurant.lookup_outcome == Outcome.REACHABLE
    assert restaurant.peppol_identifier == "0106:30123456"  # its eConnect id, tried first
    assert restaurant.receives_invoices and restaurant.receives_credit_notes
    assert restaurant.peppol_access_point == "econnect"
    brewery = found["10008"]
    assert brewery.lookup_outcome == Outcome.REACHABLE and brewery.receives_credit_notes is False
    assert "cannot receive credit notes" in brewery.lookup_detail
    assert found["10006"].peppol_access_point == "afas" and found["10009"].peppol_access_point == "other"
    assert found["10004"].lookup_outcome == Outcome.NOT_ON_PEPPOL
    assert "None of 0106:30123459, 9944:" in found["10004"].lookup_detail
    builder = found["10012"]
    assert builder.lookup_outcome == Outcome.CANNOT_RECEIVE
    assert builder.receives_invoices is False and builder.receives_credit_notes is True
    assert "can receive only credit notes" in builder.lookup_detail
    assert found["10005"].lookup_outcome == Outcome.IDENTIFIER_INVALID  # never asked
    printer = found["10011"]  # invalid EnId, valid KvK not on Peppol
    assert printer.lookup_outcome == Outcome.NOT_ON_PEPPOL and "3012346X" in printer.lookup_detail

    def per_identifier(contact):
        return {(i.scheme, i.can_receive_invoice, i.can_receive_credit_note) for i in contact.identifiers.all()}

    assert per_identifier(restaurant) == {("0106", True, True), ("9944", True, True)}
    assert per_identifier(builder) == {("0106", False, True), ("9944", False, True)}
    assert per_identifier(found["10004"]) == {("0106", False, False), ("9944", False, False)}


def test_lookups_are_batched_up_to_ten_identifiers_per_request(synced):
    contacts_look_up_due()

    # 13 customers with 16 distinct valid identifiers between them: two requests, not thirteen.
    assert synced.lookup_requests == 2


def test_results_are_cached_for_their_time_to_live(synced, settings):
    contacts_look_up_due()
    requests = synced.lookup_requests

    assert contacts_look_up_due() == 0
    assert synced.lookup_requests == requests

    later = timezone.now() + timedelta(seconds=settings.PEPPOL_LOOKUP_TTL_SECONDS + 1)
    assert contacts_look_up_due(now=later) == 13


def test_changed_identifiers_are_looked_up_again_at_once(synced):
    contacts_look_up_due()
    synced.change_debtor("10004", CcNr="30123456", VaId=None)  # now the restaurant's (registered) KvK number
    contacts_sync(environment=synced.environment, full=False)

    assert customers(synced.environment)["10004"].lookup_outcome == Outcome.NOT_CHECKED
    assert contacts_look_up_due() == 1
    supermarket = customers(synced.environment)["10004"]
    assert supermarket.lookup_outcome == Outcome.REACHABLE


def test_a_changed_outcome_is_recorded_in_the_contacts_timeline(synced):
    contacts_look_up_due()
    synced.register("0106:30123459")  # the supermarket joins Peppol
    later = timezone.now() + timedelta(days=8)

    contacts_look_up_due(now=later)

    event = Event.objects.get(contact__afas_id="10004", kind="peppol_lookup_changed")
    assert event.from_status == Outcome.NOT_ON_PEPPOL and event.to_status == Outcome.REACHABLE


def test_a_failing_directory_keeps_the_previous_outcome_and_retries_later(synced):
    synced.econnect_fault(operation="deliveryOption", status=503, headers={"Retry-After": "120"}, count=None)

    assert contacts_look_up_due() == 0

    restaurant = customers(synced.environment)["10001"]
    assert restaurant.lookup_outcome == Outcome.NOT_CHECKED
    assert "could not be asked" in restaurant.lookup_error
    assert restaurant.lookup_due_at > timezone.now() + timedelta(seconds=100)


def test_a_slow_directory_is_a_timeout_not_a_stalled_worker(synced, monkeypatch):
    from portal.organisations import clients

    class Slow(httpx.BaseTransport):
        def handle_request(self, request):
            raise httpx.ReadTimeout("read timed out", request=request)

    make = clients.PeppolLookup
    monkeypatch.setattr(clients, "peppol_lookup", lambda: make(base_url="http://127.0.0.1:8102", transport=Slow()))

    assert contacts_look_up_due() == 0
    assert "could not be asked" in customers(synced.environment)["10001"].lookup_error


# --- bulk jobs ----------------------------------------------------------------------------------------------------


def test_a_bulk_lookup_runs_to_the_end_with_its_progress(synced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)

    job.refresh_from_db()
    assert job.state == ContactJob.State.DONE
    assert (job.total, job.processed, job.succeeded, job.failed) == (15, 15, 15, 0)
    assert job.percent == 100
    checked = Contact.objects.filter(environment=synced.environment, kind=Contact.Kind.DEBTOR)
    assert not checked.filter(lookup_outcome=Outcome.NOT_CHECKED).exists()
    assert Event.objects.filter(environment=synced.environment, kind="contact_job_done").exists()


def test_a_bulk_lookup_reports_reachable_not_reachable_and_invalid_separately(
    synced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)

    job.refresh_from_db()
    debtors = Contact.objects.filter(environment=synced.environment, kind=Contact.Kind.DEBTOR)
    expected = {
        "reachable": debtors.filter(lookup_outcome=Outcome.REACHABLE).count(),
        "not_reachable": debtors.filter(lookup_outcome__in=(Outcome.NOT_ON_PEPPOL, Outcome.CANNOT_RECEIVE)).count(),
        "invalid": debtors.filter(lookup_outcome=Outcome.IDENTIFIER_INVALID).count(),
    }
    assert {name: getattr(job, name) for name in expected} == expected
    assert expected["reachable"] and expected["not_reachable"] and expected["invalid"]
    assert sum(expected.values()) == job.processed
    done = Event.objects.get(environment=synced.environment, kind="contact_job_done")
    assert f"{expected['reachable']} reachable, {expected['not_reachable']} not reachable" in done.message


def test_a_second_bulk_lookup_is_not_started_while_one_runs(synced):
    job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)

    with pytest.raises(JobAlreadyRunning) as raised:
        contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)
    assert raised.value.job == job


def test_a_bulk_lookup_works_in_chunks_and_saves_its_progress(synced, settings, monkeypatch):
    monkeypatch.setattr(lookups, "LOOKUP_BATCH", 4)
    settings.CONTACT_JOB_CHUNK_SECONDS = 0  # one batch per chunk
    job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)

    assert contact_job_run_chunk(job_id=job.pk) == 0
    job.refresh_from_db()
    assert (job.processed, job.state) == (4, ContactJob.State.RUNNING)
    while contact_job_run_chunk(job_id=job.pk) is not None:
        pass
    job.refresh_from_db()
    assert (job.processed, job.state) == (15, ContactJob.State.DONE)


def test_a_bulk_lookup_pauses_while_the_directory_fails_and_stops_after_too_many_failures(synced):
    synced.econnect_fault(operation="deliveryOption", status=503, count=None)
    job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)

    delay = contact_job_run_chunk(job_id=job.pk)
    job.refresh_from_db()
    assert delay is not None and job.state == ContactJob.State.RUNNING
    assert "The Peppol directory is not answering" in job.last_error and job.consecutive_errors == 1

    for _ in range(lookups.JOB_MAX_CONSECUTIVE_ERRORS - 1):
        contact_job_run_chunk(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ContactJob.State.FAILED and "kept failing" in job.last_error
    assert job.processed == 0


def test_a_job_held_by_another_worker_is_left_alone(synced):
    job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)
    ContactJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() + timedelta(minutes=1))

    assert contact_job_run_chunk(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.processed == 0


def test_a_job_whose_chunk_was_lost_is_resumed(synced, monkeypatch):
    queued = []
    monkeypatch.setattr(lookups, "_enqueue_chunk", lambda job_id, countdown=0: queued.append(job_id))
    job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)
    queued.clear()

    assert contact_jobs_resume_stalled() == []  # just queued: not lost yet
    ContactJob.objects.filter(pk=job.pk).update(next_run_at=timezone.now() - timedelta(minutes=2))
    assert contact_jobs_resume_stalled() == [job.pk]
    assert queued == [job.pk]


def test_a_cancelled_job_stops(synced):
    job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.LOOKUP, actor=None)

    assert lookups.contact_job_cancel(job=job, actor=None)
    assert contact_job_run_chunk(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.state == ContactJob.State.CANCELLED and job.processed == 0


# --- write back -----------------------------------------------------------------------------------------------------


def test_confirming_writes_the_identifier_to_afas_in_econnect_notation(synced):
    contacts_look_up_due()
    hotel = customers(synced.environment)["10002"]  # EnId typed as 0106:30123457
    user = None

    written = contact_confirm_identifier(contact=hotel, actor=user)

    assert written == "NL:KVK:30123457"
    assert synced.debtor_rows()["10002"]["EnId"] == "NL:KVK:30123457"
    hotel.refresh_from_db()
    assert hotel.econnect_id == "NL:KVK:30123457" and hotel.peppol_identifier_in_afas
    assert hotel.identifiers.get(scheme="0106").confirmed_at is not None
    assert (
        "written to AFAS as eConnect id 'NL:KVK:30123457'"
        in Event.objects.get(contact=hotel, kind="identifier_written_back").message
    )

    # AFAS now reports the change; the sync sees the same identifiers, so the result stands.
    contacts_sync(environment=synced.environment, full=False)
    hotel.refresh_from_db()
    assert hotel.lookup_outcome == Outcome.REACHABLE


def test_a_customer_that_is_not_reachable_cannot_be_confirmed(synced):
    contacts_look_up_due()

    with pytest.raises(ContactNotConfirmable, match="not reachable via Peppol"):
        contact_confirm_identifier(contact=customers(synced.environment)["10004"], actor=None)
    assert "EnId" not in synced.debtor_rows()["10004"] or not synced.debtor_rows()["10004"]["EnId"]


def test_when_afas_refuses_the_write_nothing_changes_in_the_portal(synced):
    from integrations.http import RemoteError

    contacts_look_up_due()
    synced.afas_fault(operation="PUT /connectors/KnSalesRelationOrg", status=500, count=None,
                      body='{"externalMessage": "The debtor is locked.", "errorNumber": -1}')  # fmt: skip
    restaurant = customers(synced.environment)["10012"]
    Contact.objects.filter(pk=restaurant.pk).update(lookup_outcome=Outcome.REACHABLE, peppol_scheme="9944",
                                                    peppol_value=restaurant.vat_number)  # fmt: skip

    with pytest.raises(RemoteError):
        contact_confirm_identifier(contact=restaurant, actor=None)

    restaurant.refresh_from_db()
    assert restaurant.econnect_id == ""
    assert not Event.objects.filter(contact=restaurant, kind="identifier_written_back").exists()


def test_a_bulk_write_back_writes_every_reachable_identifier_not_yet_in_afas(
    synced, django_capture_on_commit_callbacks
):
    contacts_look_up_due()
    reachable = set(
        Contact.objects.filter(environment=synced.environment, lookup_outcome=Outcome.REACHABLE).values_list(
            "afas_id", flat=True
        )
    )
    writes_before = sum(1 for p in synced.afas_transport.paths if p.endswith("/connectors/KnSalesRelationOrg"))

    with django_capture_on_commit_callbacks(execute=True):
        job = contact_job_start(environment=synced.environment, kind=ContactJob.Kind.WRITE_BACK, actor=None)

    job.refresh_from_db()
    assert job.state == ContactJob.State.DONE and job.total == len(reachable) == job.succeeded
    rows = synced.debtor_rows()
    assert rows["10002"]["EnId"] == "NL:KVK:30123457" and rows["10014"]["EnId"] == "NL:OINO:00000001001234569000"
    writes = sum(1 for p in synced.afas_transport.paths if p.endswith("/connectors/KnSalesRelationOrg")) - writes_before
    already = {"10001", "10003", "10006", "10007"}  # their EnId already held it in eConnect notation
    assert writes == len(reachable - already)


def test_a_write_back_is_refused_up_front_without_an_afas_token(synced):
    from portal.organisations.services import environment_set_credentials

    environment_set_credentials(environment=synced.environment, actor=None, afas_token="")
    synced.environment.refresh_from_db()

    with pytest.raises(lookups.JobRefused, match="AFAS token"):
        contact_job_start(environment=synced.environment, kind=ContactJob.Kind.WRITE_BACK, actor=None)
    assert not ContactJob.objects.exists()
