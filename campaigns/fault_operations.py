"""The operations of the fault matrix over the platform SOAP API and AFAS: for each, how to set it up, run the
portal's own service once, read back what it decided, finish the work once the fault is gone and check the remote
holds the outcome exactly once."""

from __future__ import annotations

from campaigns.fault_world import (
    CREDENTIALS,
    HOLD,
    RETRY,
    SKIP,
    STOP,
    Operation,
    World,
    completed,
    control,
    raised_decision,
    raises,
    seconds_until,
    with_credentials,
)


# AFAS read: the sales invoices outgoing_collect reads (dossier items, their attachments, the debtors)
def _collect_setup(world: World) -> dict:
    return {
        "remote": "GET /connectors/ProfitSubjectsAuthorized",
        "expected": control(world, _collect_once, _outgoing_count),
    }


def _collect_once(world: World) -> None:
    from portal.outgoing_invoices.services import outgoing_collect

    outgoing_collect(environment=world.environment)


def _outgoing_count(world: World) -> int:
    from portal.outgoing_invoices.models import OutgoingInvoice

    return OutgoingInvoice.objects.filter(environment_id=world.environment_id).count()


def _collect_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.outgoing_invoices.models import OutgoingInvoice

    rows = OutgoingInvoice.objects.filter(environment_id=world.environment_id)
    identities = list(rows.values_list("afas_identity", flat=True))
    ok = len(identities) == subject["expected"] == len(set(identities))
    return ok, f"{len(identities)} invoices collected (of {subject['expected']}), {len(set(identities))} distinct"


# AFAS read: debtors (the contacts sync)
def _sync_setup(world: World) -> dict:
    return {"remote": "GET /connectors/Peppol_Debtors", "expected": control(world, _sync_once, _debtor_count)}


def _sync_once(world: World) -> None:
    from portal.contacts.services import contacts_sync

    contacts_sync(environment=world.environment, full=True)


def _debtor_count(world: World) -> int:
    from portal.contacts.models import Contact

    return Contact.objects.filter(
        environment_id=world.environment_id, kind=Contact.Kind.DEBTOR, afas_state=Contact.AfasState.ACTIVE
    ).count()


def _sync_run(world: World, subject: dict) -> Exception | None:
    from portal.contacts.services import contacts_sync

    contacts_sync(environment=world.environment, full=True)
    return None


def _sync_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    error = world.environment.contacts_sync_error
    if not error:
        return completed(world, subject["remote"], baseline), "", None
    return with_credentials(world, "afas", RETRY), error, None


def _sync_check(world: World, subject: dict) -> tuple[bool, str]:
    count = _debtor_count(world)
    error = world.environment.contacts_sync_error
    return count == subject["expected"] and not error, f"{count} debtors stored (of {subject['expected']}) {error}"


# Receiving: an invoice fetched and checked, READY to be delivered to AFAS
def _ready_incoming(world: World) -> int:
    from portal.incoming_invoices.fetching import incoming_fetch
    from portal.incoming_invoices.models import IncomingInvoice
    from portal.incoming_invoices.services import incoming_process

    incoming_fetch(environment=world.environment, process=lambda stored, gateway: None)  # stored only, not processed
    for invoice in IncomingInvoice.objects.filter(environment_id=world.environment_id).order_by("pk"):
        incoming_process(invoice=invoice)
        invoice.refresh_from_db()
        if invoice.status == IncomingInvoice.Status.READY:
            return invoice.pk
    raise RuntimeError("the demo inbox has no invoice that is ready to deliver")


def _deliver_setup(world: World) -> dict:
    return {"remote": "POST /connectors/FiElectronicInvoicePurchase", "invoice": _ready_incoming(world)}


def _ack_setup(world: World) -> dict:
    return {"remote": "SetInboxDocumentStatus", "invoice": _ready_incoming(world)}


def incoming(subject: dict):
    from portal.incoming_invoices.models import IncomingInvoice

    return IncomingInvoice.objects.get(pk=subject["invoice"])


def deliver_run(world: World, subject: dict) -> Exception | None:
    from portal.incoming_invoices.services import incoming_deliver

    incoming_deliver(invoice=incoming(subject))
    return None


def _deliver_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.incoming_invoices.models import IncomingInvoice

    Status = IncomingInvoice.Status
    invoice = incoming(subject)
    if invoice.status in (Status.DELIVERED, Status.ACKNOWLEDGED):
        return completed(world, subject["remote"], baseline), "", None
    if invoice.status == Status.RETRY_WAIT:
        return RETRY, invoice.last_error_message, seconds_until(invoice.next_attempt_at)
    if invoice.status == Status.HELD and invoice.hold_reason == IncomingInvoice.HoldReason.DELIVERY_UNCERTAIN:
        return HOLD, invoice.last_error_message, None
    if invoice.status == Status.FAILED:
        return with_credentials(world, "afas", STOP), invoice.last_error_message, None
    return f"unexpected status {invoice.status}", invoice.last_error_message, None


def deliver_complete(world: World, subject: dict) -> None:
    """The scheduled retry; for a held or failed invoice what a person does: look in AFAS, then deliver again or
    mark it resolved."""
    from django.utils import timezone

    from portal.incoming_invoices.models import IncomingInvoice
    from portal.incoming_invoices.services import (
        incoming_acknowledge,
        incoming_confirm_in_afas,
        incoming_deliver,
        incoming_deliver_again,
        incoming_resolve_manually,
    )

    Status = IncomingInvoice.Status
    invoice = incoming(subject)
    if invoice.status == Status.HELD or invoice.status == Status.FAILED:
        if world.afas_deliveries(invoice.sha256):
            if not incoming_confirm_in_afas(invoice=invoice, actor=world.actor, reason="Checked: it is in AFAS."):
                incoming_resolve_manually(invoice=invoice, actor=world.actor, reason="Checked: it is in AFAS.")
            return
        incoming_deliver_again(invoice=invoice, actor=world.actor, reason="Checked: not in AFAS.")
    IncomingInvoice.objects.filter(pk=invoice.pk).update(next_attempt_at=timezone.now())
    invoice = incoming(subject)
    if invoice.status == Status.DELIVERED:
        incoming_acknowledge(invoice=invoice)
    else:
        incoming_deliver(invoice=invoice)


def _deliver_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.incoming_invoices.models import IncomingInvoice

    invoice = incoming(subject)
    booked = world.afas_deliveries(invoice.sha256)
    final = invoice.status in (IncomingInvoice.Status.ACKNOWLEDGED, IncomingInvoice.Status.RESOLVED_MANUALLY)
    return booked == 1 and final, f"booked {booked}x in AFAS, {invoice.status}"


def ack_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.incoming_invoices.models import IncomingInvoice

    invoice = incoming(subject)
    if invoice.status == IncomingInvoice.Status.ACKNOWLEDGED:
        return completed(world, subject["remote"], baseline), "", None
    if invoice.status == IncomingInvoice.Status.DELIVERED and invoice.last_error_message:
        decision = with_credentials(world, "econnect", RETRY)
        return decision, invoice.last_error_message, seconds_until(invoice.next_attempt_at)
    return f"unexpected status {invoice.status}", invoice.last_error_message, None


def _ack_check(world: World, subject: dict) -> tuple[bool, str]:
    from integrations.econnect.simulator import statuses
    from portal.incoming_invoices.models import IncomingInvoice

    invoice = incoming(subject)
    booked = world.afas_deliveries(invoice.sha256)
    code = world.econnect_inbox_code(invoice.econnect_document_id)
    processed = statuses.inbox_label(statuses.DEFAULT_INBOX_TEMPLATE, code) == "processed"
    ok = booked == 1 and processed and invoice.status == IncomingInvoice.Status.ACKNOWLEDGED
    return ok, f"booked {booked}x in AFAS, eConnect status {code}, {invoice.status}"


# AFAS write: the write-back job puts each reachable customer's identifier in AFAS (EnId)
def _write_back_setup(world: World) -> dict:
    from portal.contacts.lookups import contacts_look_up_due
    from portal.contacts.models import Contact

    _sync_once(world)
    contacts_look_up_due()
    reachable = Contact.objects.filter(
        environment_id=world.environment_id, kind=Contact.Kind.DEBTOR, lookup_outcome=Contact.LookupOutcome.REACHABLE
    )
    to_write = [contact.pk for contact in reachable if not contact.peppol_identifier_in_afas]
    if not to_write:
        raise RuntimeError("the demo has no reachable customer whose identifier is missing in AFAS")
    return {"remote": "PUT /connectors/KnSalesRelationOrg", "contacts": to_write}


def _write_back_job(world: World) -> int:
    from portal.contacts.lookups import contact_job_start
    from portal.contacts.models import ContactJob

    return contact_job_start(environment=world.environment, kind=ContactJob.Kind.WRITE_BACK, actor=world.actor).pk


def _write_back_run(world: World, subject: dict) -> Exception | None:
    from portal.contacts.lookups import contact_job_run_chunk

    subject["job"] = _write_back_job(world)
    subject["next_in"] = contact_job_run_chunk(job_id=subject["job"])
    return None


def _write_back_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.contacts.models import ContactJob
    from portal.events.models import Event

    job = ContactJob.objects.get(pk=subject["job"])
    if job.state == ContactJob.State.RUNNING:
        return with_credentials(world, "afas", RETRY), job.last_error, subject["next_in"]
    if job.state == ContactJob.State.FAILED:
        return with_credentials(world, "afas", STOP), job.last_error, None
    if job.failed:
        event = Event.objects.filter(kind="identifier_write_back_failed").order_by("-pk").first()
        return with_credentials(world, "afas", SKIP), event.message if event else "", None
    return completed(world, subject["remote"], baseline), "", None


def _write_back_complete(world: World, subject: dict) -> None:
    """A paused job goes on by itself; a stopped one (or one with failures) a person starts again."""
    from portal.contacts.lookups import contact_job_run_chunk
    from portal.contacts.models import ContactJob

    job = ContactJob.objects.get(pk=subject["job"])
    job_id = job.pk if job.state == ContactJob.State.RUNNING else _write_back_job(world)
    for _ in range(20):
        if contact_job_run_chunk(job_id=job_id) is None:
            return


def _write_back_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.contacts.lookups import econnect_id_for
    from portal.contacts.models import Contact

    rows = world.afas_debtor_rows()
    wrong = [
        contact.afas_id
        for contact in Contact.objects.filter(pk__in=subject["contacts"])
        if rows[contact.afas_id].get("EnId") != econnect_id_for(contact)
    ]
    return not wrong, f"{len(subject['contacts']) - len(wrong)} of {len(subject['contacts'])} EnIds right in AFAS"


# Sending: an invoice READY to submit (collected and prepared)
def ready_outgoing(world: World) -> int:
    from portal.outgoing_invoices.models import OutgoingInvoice
    from portal.outgoing_invoices.services import outgoing_collect, outgoing_prepare

    outgoing_collect(environment=world.environment)
    for invoice in OutgoingInvoice.objects.filter(environment_id=world.environment_id).order_by("pk"):
        outgoing_prepare(invoice=invoice)
        invoice.refresh_from_db()
        if invoice.status == OutgoingInvoice.Status.READY:
            return invoice.pk
    raise RuntimeError("the demo has no sales invoice that is ready to send")


def _login_setup(world: World) -> dict:
    return {"remote": "Login", "invoice": ready_outgoing(world)}


def _send_setup(world: World) -> dict:
    return {"remote": "SendDocument", "invoice": ready_outgoing(world)}


def outgoing(subject: dict):
    from portal.outgoing_invoices.models import OutgoingInvoice

    return OutgoingInvoice.objects.get(pk=subject["invoice"])


def submit_run(world: World, subject: dict) -> Exception | None:
    from portal.outgoing_invoices.services import outgoing_submit

    outgoing_submit(invoice=outgoing(subject))
    return None


def submit_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.outgoing_invoices.models import OutgoingInvoice

    Status = OutgoingInvoice.Status
    invoice = outgoing(subject)
    if invoice.status == Status.SUBMITTED:
        return completed(world, subject["remote"], baseline), "", None
    if invoice.status == Status.RETRY_WAIT:
        return RETRY, invoice.last_error_message, seconds_until(invoice.next_attempt_at)
    if invoice.status in (Status.NEEDS_ATTENTION, Status.FAILED):
        return with_credentials(world, "econnect", STOP), invoice.last_error_message, None
    return f"unexpected status {invoice.status}", invoice.last_error_message, None


def submit_complete(world: World, subject: dict) -> None:
    """The scheduled retry; for an invoice that needs attention, a person fixes the keys and retries it."""
    from django.utils import timezone

    from portal.outgoing_invoices.models import OutgoingInvoice
    from portal.outgoing_invoices.services import outgoing_retry, outgoing_submit

    invoice = outgoing(subject)
    if invoice.status in (OutgoingInvoice.Status.NEEDS_ATTENTION, OutgoingInvoice.Status.FAILED):
        outgoing_retry(invoice=invoice, actor=world.actor, reason="Connection keys fixed.")
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(next_attempt_at=timezone.now())
    outgoing_submit(invoice=outgoing(subject))


def submit_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.outgoing_invoices.models import OutgoingInvoice

    invoice = outgoing(subject)
    sent = world.econnect_sent(invoice.invoice_number)
    return sent == 1 and invoice.status == OutgoingInvoice.Status.SUBMITTED, f"sent {sent}x, {invoice.status}"


# Sending: the status of a submitted invoice
def _status_setup(world: World) -> dict:
    from portal.outgoing_invoices.services import outgoing_submit

    subject = {"remote": "GetOutboxDocumentStatus", "invoice": ready_outgoing(world)}
    outgoing_submit(invoice=outgoing(subject))
    world.advance_econnect_clock(120)  # delivered by now at eConnect
    return subject


def status_run(world: World, subject: dict) -> Exception | None:
    from portal.outgoing_invoices.services import outgoing_follow_status

    outgoing_follow_status(invoice=outgoing(subject))
    return None


def status_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.outgoing_invoices.models import OutgoingInvoice

    invoice = outgoing(subject)
    if invoice.status == OutgoingInvoice.Status.DELIVERED:
        return completed(world, subject["remote"], baseline), "", None
    if invoice.status == OutgoingInvoice.Status.SUBMITTED:
        decision = with_credentials(world, "econnect", RETRY)
        # A failed poll shows nothing on the invoice (it is polled again); refused keys show on the environment.
        message = world.environment.econnect_failure if decision.endswith(CREDENTIALS) else ""
        return decision, message, seconds_until(invoice.next_attempt_at)
    return f"unexpected status {invoice.status}", invoice.last_error_message, None


def status_complete(world: World, subject: dict) -> None:
    from portal.outgoing_invoices.services import outgoing_follow_status

    outgoing_follow_status(invoice=outgoing(subject))


def status_check(world: World, subject: dict) -> tuple[bool, str]:
    from portal.outgoing_invoices.models import OutgoingInvoice

    invoice = outgoing(subject)
    sent = world.econnect_sent(invoice.invoice_number)
    return sent == 1 and invoice.status == OutgoingInvoice.Status.DELIVERED, f"sent {sent}x, {invoice.status}"


# Receiving: the inbox listing and the download of each document
def _fetch_setup(remote: str):
    def setup(world: World) -> dict:
        return {"remote": remote, "expected": control(world, _fetch_once, _incoming_ids)}

    return setup


def _fetch_once(world: World) -> None:
    from portal.incoming_invoices.services import incoming_fetch

    incoming_fetch(environment=world.environment)


def _incoming_ids(world: World) -> list[str]:
    from portal.incoming_invoices.models import IncomingInvoice

    return sorted(
        IncomingInvoice.objects.filter(environment_id=world.environment_id).values_list(
            "econnect_document_id", flat=True
        )
    )


def _fetch_check(world: World, subject: dict) -> tuple[bool, str]:
    ids = _incoming_ids(world)
    return ids == subject["expected"], f"{len(ids)} documents stored (of {len(subject['expected'])}), each once"


# Peppol lookup: the background lookups of customers that are due
def _lookup_setup(world: World) -> dict:
    from portal.contacts.lookups import contacts_look_up_due

    _sync_once(world)
    return {"remote": "deliveryOption", "expected": control(world, lambda w: contacts_look_up_due(), _outcomes)}


def _outcomes(world: World) -> dict[int, str]:
    from portal.contacts.models import Contact

    return dict(
        Contact.objects.filter(environment_id=world.environment_id, kind=Contact.Kind.DEBTOR).values_list(
            "pk", "lookup_outcome"
        )
    )


def _lookup_run(world: World, subject: dict) -> Exception | None:
    from portal.contacts.lookups import contacts_look_up_due

    contacts_look_up_due()
    return None


def _lookup_decide(world: World, subject: dict, exc: Exception | None, baseline: int):
    from portal.contacts.models import Contact

    failed = (
        Contact.objects.filter(environment_id=world.environment_id).exclude(lookup_error="").order_by("lookup_due_at")
    )
    first = failed.first()
    if first is None:
        return completed(world, subject["remote"], baseline), "", None
    return RETRY, first.lookup_error, seconds_until(first.lookup_due_at)


def _lookup_complete(world: World, subject: dict) -> None:
    from django.utils import timezone

    from portal.contacts.lookups import contacts_look_up_due
    from portal.contacts.models import Contact

    Contact.objects.filter(environment_id=world.environment_id).exclude(lookup_error="").update(
        lookup_due_at=timezone.now()
    )
    contacts_look_up_due()


def _lookup_check(world: World, subject: dict) -> tuple[bool, str]:
    outcomes = _outcomes(world)
    differ = sum(1 for pk, outcome in subject["expected"].items() if outcomes.get(pk) != outcome)
    return not differ, f"{len(outcomes) - differ} of {len(outcomes)} customers with their lookup outcome"


def _fetch_run(world: World, subject: dict) -> Exception | None:
    return raises(lambda: _fetch_once(world))


def _fetch_complete(world: World, subject: dict) -> None:
    _fetch_once(world)


def _collect_run(world: World, subject: dict) -> Exception | None:
    return raises(lambda: _collect_once(world))


def _collect_complete(world: World, subject: dict) -> None:
    _collect_once(world)


OPERATIONS = (
    Operation("afas_read_invoices", "AFAS read: sales invoices (collect)", "afas",
              "GET /connectors/ProfitSubjectsAuthorized",
              _collect_setup, _collect_run, raised_decision("afas"), _collect_complete, _collect_check),
    Operation("afas_read_debtors", "AFAS read: debtors (contacts sync)", "afas", "GET /connectors/Peppol_Debtors",
              _sync_setup, _sync_run, _sync_decide, lambda w, s: _sync_once(w), _sync_check),
    Operation("afas_deliver", "AFAS write: purchase invoice (deliver)", "afas",
              "POST /connectors/FiElectronicInvoicePurchase",
              _deliver_setup, deliver_run, _deliver_decide, deliver_complete, _deliver_check),
    Operation("afas_write_back", "AFAS write: debtor EnId (write-back)", "afas", "PUT /connectors/KnSalesRelationOrg",
              _write_back_setup, _write_back_run, _write_back_decide, _write_back_complete, _write_back_check),
    Operation("econnect_login", "eConnect login (before a send)", "econnect", "Login",
              _login_setup, submit_run, submit_decide, submit_complete, submit_check),
    Operation("econnect_send", "eConnect send (submit)", "econnect", "SendDocument",
              _send_setup, submit_run, submit_decide, submit_complete, submit_check),
    Operation("econnect_status", "eConnect status (follow-up)", "econnect", "GetOutboxDocumentStatus",
              _status_setup, status_run, status_decide, status_complete, status_check),
    Operation("econnect_inbox", "eConnect inbox (fetch: list)", "econnect", "GetInboxDocuments",
              _fetch_setup("GetInboxDocuments"), _fetch_run, raised_decision("econnect"), _fetch_complete,
              _fetch_check),
    Operation("econnect_download", "eConnect download (fetch: document)", "econnect", "GetInboxDocument",
              _fetch_setup("GetInboxDocument"), _fetch_run, raised_decision("econnect"), _fetch_complete,
              _fetch_check),
    Operation("econnect_acknowledge", "eConnect acknowledge", "econnect", "SetInboxDocumentStatus",
              _ack_setup, deliver_run, ack_decide, deliver_complete, _ack_check),
    Operation("peppol_lookup", "Peppol lookup (customers due)", "lookup", "deliveryOption",
              _lookup_setup, _lookup_run, _lookup_decide, _lookup_complete, _lookup_check),
)  # fmt: skip
