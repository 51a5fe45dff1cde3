"""The nightly reconciliation against both simulators: each kind of finding detected, no duplicates on a rerun,
closed when the condition goes away, each fix applied and audited, and a failing remote changing nothing."""

from __future__ import annotations

import hashlib

import pytest
from django.utils import timezone

from portal.events.models import Event
from portal.incoming_invoices.models import IncomingInvoice
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.reconciliation import comparison, fixes, services
from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun
from tests.portal.accounts.factories import UserFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

Kind = ReconciliationFinding.Kind
Open = ReconciliationFinding.Status.OPEN
In = IncomingInvoice.Status
Out = OutgoingInvoice.Status


def reconcile(world) -> ReconciliationRun:
    return services.reconciliation_run_now(environment=world.environment)


def open_findings(world, kind=None):
    findings = ReconciliationFinding.objects.filter(environment=world.environment, status=Open)
    return list(findings.filter(kind=kind) if kind else findings)


@pytest.fixture
def person(db):
    return UserFactory(username="anna")


@pytest.fixture
def received(world, django_capture_on_commit_callbacks):
    """The demo inbox fetched, checked, delivered to AFAS and acknowledged."""
    world.fetch(django_capture_on_commit_callbacks)
    return IncomingInvoice.objects.filter(environment=world.environment, status=In.ACKNOWLEDGED).order_by("pk")


def test_when_everything_agrees_the_run_finds_nothing_and_says_what_it_compared(world, received):
    run = reconcile(world)

    assert run.status == ReconciliationRun.Status.SUCCEEDED
    assert open_findings(world) == []
    assert run.counts["econnect_inbox"] == 5
    assert run.counts["portal_delivered_to_afas"] == run.counts["afas_delivered"] == received.count() == 3
    assert run.finished_at is not None and not run.truncated


# --- (a) delivered to AFAS, missing there -------------------------------------------------------------------------------


def _remove_from_afas(world, invoice: IncomingInvoice) -> None:
    entry = next(d for d in world.delivered_to_afas() if d["xml_sha256"] == invoice.sha256)
    world.remove_from_afas(entry["id"])


def test_a_document_missing_in_afas_is_found(world, received):
    missing = received[0]
    _remove_from_afas(world, missing)

    reconcile(world)

    [finding] = open_findings(world)
    assert (finding.kind, finding.incoming_invoice) == (Kind.MISSING_IN_AFAS, missing)
    assert finding.details["invoice_number"] == missing.invoice_number
    assert Event.objects.filter(incoming_invoice=missing, kind="reconciliation_finding").count() == 1


def test_fixing_a_missing_document_delivers_it_again_unchanged_with_an_audit_trail(
    world, received, person, django_capture_on_commit_callbacks
):
    missing = received[0]
    _remove_from_afas(world, missing)
    reconcile(world)
    [finding] = open_findings(world)

    with pytest.raises(ValueError):
        fixes.finding_fix(finding=finding, actor=person, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        fixes.finding_fix(finding=finding, actor=person, reason="Checked AFAS: not there")

    finding.refresh_from_db()
    missing.refresh_from_db()
    assert (finding.status, finding.closed_by, finding.reason) == (
        ReconciliationFinding.Status.FIXED,
        person,
        "Checked AFAS: not there",
    )
    assert missing.status == In.ACKNOWLEDGED
    assert sorted(d["xml_sha256"] for d in world.delivered_to_afas()) == sorted(i.sha256 for i in received)
    again = Event.objects.get(incoming_invoice=missing, kind="deliver_again")
    assert (again.actor, again.reason) == (person, "Checked AFAS: not there")
    assert Event.objects.filter(incoming_invoice=missing, kind="reconciliation_fixed", actor=person).exists()
    assert open_findings(world) == [] and reconcile(world).findings_opened == 0


# --- (b) at eConnect, never seen by the portal --------------------------------------------------------------------------


def test_an_inbox_document_the_portal_never_saw_is_found(world, received):
    injected = world.inject("REC-77")

    reconcile(world)

    [finding] = open_findings(world)
    assert (finding.kind, finding.econnect_document_id) == (Kind.UNSEEN_INBOX, injected["external_id"])
    assert finding.details["econnect_state"] == "new"


def test_importing_an_unseen_inbox_document_stores_its_exact_bytes_and_delivers_it(
    world, received, person, django_capture_on_commit_callbacks
):
    injected = world.inject("REC-78")
    reconcile(world)
    [finding] = open_findings(world)

    with django_capture_on_commit_callbacks(execute=True):
        fixes.finding_fix(finding=finding, actor=person, reason="Fetch was off that night")

    imported = IncomingInvoice.objects.get(environment=world.environment, econnect_document_id=injected["external_id"])
    assert imported.sha256 == injected["sha256"] == hashlib.sha256(bytes(imported.raw_xml)).hexdigest()
    assert imported.status == In.ACKNOWLEDGED
    assert world.inbox_state(injected["external_id"]) == "processed"
    assert Event.objects.filter(incoming_invoice=imported, kind="received", actor=person).exists()
    finding.refresh_from_db()
    assert (finding.status, finding.incoming_invoice) == (ReconciliationFinding.Status.FIXED, imported)


def test_an_outbox_document_the_portal_never_saw_is_found_and_recorded(world, received, person):
    external_id = world.send_outside_the_portal("OUT-9")

    reconcile(world)
    [finding] = open_findings(world)
    fixes.finding_fix(finding=finding, actor=person, reason="Sent by hand from eConnect's platform")

    assert (finding.kind, finding.econnect_document_id) == (Kind.UNSEEN_OUTBOX, external_id)
    recorded = OutgoingInvoice.objects.get(environment=world.environment, econnect_document_id=external_id)
    assert (recorded.invoice_number, recorded.status) == ("OUT-9", Out.SUBMITTED)
    assert recorded.next_attempt_at is not None  # followed like any submitted invoice from now on
    event = Event.objects.get(outgoing_invoice=recorded, kind="recorded_from_econnect")
    assert (event.actor, event.reason) == (person, "Sent by hand from eConnect's platform")


def test_a_submit_whose_answer_was_lost_is_left_to_its_own_recovery(world, received):
    world.send_outside_the_portal("OUT-10")
    OutgoingInvoiceFactory(
        environment=world.environment, invoice_number="OUT-10", status=Out.RETRY_WAIT, submission_reference="r-10"
    )

    reconcile(world)

    assert open_findings(world, Kind.UNSEEN_OUTBOX) == []


# --- (c) status disagreements --------------------------------------------------------------------------------------------


def _sent_and_known(world, status: str, number: str = "OUT-20") -> OutgoingInvoice:
    external_id = world.send_outside_the_portal(number)
    return OutgoingInvoiceFactory(
        environment=world.environment,
        invoice_number=number,
        status=status,
        submission_reference=f"ref-{number}",
        econnect_document_id=external_id,
        submitted_at=timezone.now(),
    )


def test_delivered_in_the_portal_but_failed_at_econnect_is_found_and_econnects_status_adopted(world, received, person):
    invoice = _sent_and_known(world, Out.DELIVERED)
    world.set_outbox_state(invoice.econnect_document_id, "failed")

    reconcile(world)
    [finding] = open_findings(world)
    fixes.finding_fix(finding=finding, actor=person, reason="eConnect is right")

    assert (finding.kind, finding.details["portal_status"], finding.details["econnect_state"]) == (
        Kind.OUTGOING_STATUS,
        "delivered",
        "failed",
    )
    invoice.refresh_from_db()
    assert invoice.status == Out.FAILED
    adopted = Event.objects.get(outgoing_invoice=invoice, kind="status_adopted")
    assert (adopted.from_status, adopted.to_status, adopted.actor) == (Out.DELIVERED, Out.FAILED, person)


def test_a_young_submission_not_yet_followed_is_no_disagreement(world, received, settings):
    settings.RECONCILIATION_GRACE_MINUTES = 60
    invoice = _sent_and_known(world, Out.SUBMITTED)
    world.set_outbox_state(invoice.econnect_document_id, "delivered")

    reconcile(world)

    assert open_findings(world, Kind.OUTGOING_STATUS) == []


def test_acknowledged_in_the_portal_but_new_at_econnect_is_found_and_acknowledged_again(world, received, person):
    acknowledged = received[1]
    world.set_inbox_status(acknowledged.econnect_document_id, "new")

    reconcile(world)
    [finding] = open_findings(world)
    fixes.finding_fix(finding=finding, actor=person, reason="Acknowledgement was lost")

    assert (finding.kind, finding.incoming_invoice) == (Kind.INCOMING_STATUS, acknowledged)
    assert world.inbox_state(acknowledged.econnect_document_id) == "processed"
    assert Event.objects.filter(incoming_invoice=acknowledged, kind="acknowledged_again", actor=person).exists()


# --- reruns, closing, dismissing ------------------------------------------------------------------------------------------


def test_a_rerun_updates_the_open_finding_instead_of_adding_one(world, received):
    world.inject("REC-80")

    first, second = reconcile(world), reconcile(world)

    [finding] = open_findings(world)
    assert (first.findings_opened, second.findings_opened, second.findings_still_open) == (1, 0, 1)
    assert (finding.first_run, finding.last_run) == (first, second)


def test_a_finding_whose_condition_went_away_is_closed_by_the_next_run(
    world, received, django_capture_on_commit_callbacks
):
    world.inject("REC-81")
    reconcile(world)
    [finding] = open_findings(world)

    world.fetch(django_capture_on_commit_callbacks)  # the portal catches up by itself
    run = reconcile(world)

    finding.refresh_from_db()
    assert finding.status == ReconciliationFinding.Status.RESOLVED and finding.closed_by is None
    assert run.findings_resolved == 1 and open_findings(world) == []


def test_a_fixed_finding_cannot_be_fixed_twice_and_a_dismissed_one_keeps_its_reason(world, received, person):
    world.inject("REC-82")
    world.inject("REC-83")
    reconcile(world)
    first, second = open_findings(world)

    fixes.finding_fix(finding=first, actor=person, reason="import")
    with pytest.raises(fixes.FindingNotFixable):
        fixes.finding_fix(finding=first, actor=person, reason="again")
    assert fixes.finding_dismiss(finding=second, actor=person, reason="Test document, ignore")

    second.refresh_from_db()
    assert (second.status, second.reason) == (ReconciliationFinding.Status.DISMISSED, "Test document, ignore")
    assert Event.objects.filter(kind="reconciliation_dismissed", actor=person, reason="Test document, ignore").exists()
    assert [f.kind for f in open_findings(world)] == []


def test_a_fix_refused_by_the_remote_changes_nothing(world, received, person):
    world.inject("REC-84")
    reconcile(world)
    [finding] = open_findings(world)
    world.econnect_fault(operation="GetInboxDocument", status=503, count=1)

    with pytest.raises(fixes.FindingNotFixable):
        fixes.finding_fix(finding=finding, actor=person, reason="import")

    finding.refresh_from_db()
    assert finding.status == Open
    assert not IncomingInvoice.objects.filter(econnect_document_id=finding.econnect_document_id).exists()


# --- failure paths and bounds ----------------------------------------------------------------------------------------------


def test_a_failing_remote_fails_the_run_with_its_reason_and_changes_nothing(world, received):
    world.inject("REC-85")
    before = reconcile(world)
    [finding] = open_findings(world)
    world.econnect_fault(operation="GetInboxDocuments", status=503, count=1)

    failed = reconcile(world)

    assert failed.status == ReconciliationRun.Status.FAILED
    assert "503" in failed.error and "eConnect" in failed.error
    finding.refresh_from_db()
    assert (finding.status, finding.last_run) == (Open, before)
    assert open_findings(world) == [finding]


def test_an_afas_failure_fails_the_run_too(world, received):
    world.afas_fault(operation="GET /metainfo", status=401, count=1)

    failed = reconcile(world)

    assert failed.status == ReconciliationRun.Status.FAILED and "AFAS" in failed.error
    assert open_findings(world) == []


def test_each_side_is_read_a_bounded_number_of_documents_per_run(world, received, settings, monkeypatch):
    world.inject("REC-86")
    reconcile(world)
    monkeypatch.setattr(comparison, "PAGE_SIZE", 2)
    settings.RECONCILIATION_MAX_DOCUMENTS = 2

    run = reconcile(world)

    assert run.truncated and run.counts["econnect_inbox"] == 2
    # The inbox could not be read completely: its open finding is not taken as resolved.
    assert len(open_findings(world, Kind.UNSEEN_INBOX)) == 1


def test_a_second_manual_run_while_one_is_running_is_refused(world):
    services.reconciliation_start(environment=world.environment)

    with pytest.raises(services.ReconciliationBusy):
        services.reconciliation_start(environment=world.environment)


def test_small_business_environments_are_compared_with_econnect_only(world):
    from portal.organisations.models import Environment

    Environment.objects.filter(pk=world.environment.pk).update(afas_edition=Environment.Edition.SMALL_BUSINESS)
    world.environment.refresh_from_db()

    run = reconcile(world)

    assert run.status == ReconciliationRun.Status.SUCCEEDED
    assert "Small Business" in run.counts["afas"]


# --- the admin action and the command, against the simulators ------------------------------------------------------


def test_the_admin_fix_action_applies_the_fix_with_the_reason(world, received, support_client):
    from django.urls import reverse

    injected = world.inject("REC-90")
    reconcile(world)
    [finding] = open_findings(world)

    support_client.post(
        reverse("admin:reconciliation_reconciliationfinding_changelist"),
        {"action": "fix", "_selected_action": [finding.pk], "reason": "Imported after the outage"},
    )

    finding.refresh_from_db()
    assert finding.status == ReconciliationFinding.Status.FIXED
    assert finding.reason == "Imported after the outage"
    assert IncomingInvoice.objects.filter(econnect_document_id=injected["external_id"]).exists()


def test_the_command_prints_what_was_compared_and_found(world, received):
    from io import StringIO

    from django.core.management import call_command

    world.inject("REC-91")
    out = StringIO()

    call_command("reconcile", environment=[world.environment.pk], stdout=out)

    output = out.getvalue()
    assert "succeeded" in output and "econnect_inbox 6" in output and "findings opened 1" in output
    assert "unseen_inbox" in output
