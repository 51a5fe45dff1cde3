"""The round trip of a test invoice: built from the organisation to itself, sent like any other invoice, and
recorded when it comes back through the inbox (receiving recognises it by its marker and never books it)."""

from __future__ import annotations

import hashlib
import uuid

from django.db import transaction
from django.utils import timezone

from integrations.peppol.model import Identifier
from portal.accounts.models import User
from portal.documents import lifecycle
from portal.events.messages import Msg, When
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations.models import Environment
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.sample_invoice import build_test_invoice
from portal.outgoing_invoices.services import sender_identifier

Status = OutgoingInvoice.Status

TEST_IDENTITY_PREFIX = "test:"


def outgoing_test_invoice_for_token(*, organisation_id: int, token: str) -> OutgoingInvoice | None:
    """The organisation's test invoice whose marker carries ``token``, if it sent one."""
    return (
        OutgoingInvoice.objects.filter(
            is_test=True, afas_identity=f"{TEST_IDENTITY_PREFIX}{token}", environment__organisation_id=organisation_id
        )
        .defer("ubl")
        .first()
    )


def outgoing_record_test_returned(*, invoice: OutgoingInvoice, econnect_document_id: str) -> bool:
    """The test invoice came back through the inbox: the connection works both ways (shown on the invoice and on
    the setup checklist). Recorded once."""
    now = timezone.now()
    with transaction.atomic():
        recorded = OutgoingInvoice.objects.filter(pk=invoice.pk, returned_at__isnull=True).update(
            returned_at=now, returned_document_id=econnect_document_id[:100], updated_at=now
        )
        if recorded:
            Environment.objects.filter(pk=invoice.environment_id).update(test_round_trip_at=now)
            event_record(
                environment=invoice.environment,
                outgoing_invoice=invoice,
                kind=EventKind.TEST_RETURNED,
                message=Msg("outgoing.test_returned", when=When(now), document_id=econnect_document_id),
                system_actor="receiving",
            )
    return bool(recorded)


def outgoing_send_test_invoice(*, environment: Environment, actor: User | None) -> OutgoingInvoice:
    """Build a valid test invoice from the organisation to itself and send it like any other invoice."""
    sender = sender_identifier(environment)
    now = timezone.now()
    number = f"TEST-{timezone.localtime(now):%Y%m%d-%H%M%S}"
    token = uuid.uuid4().hex
    ubl = build_test_invoice(
        organisation_name=environment.organisation.name,
        identifier=Identifier(sender.scheme, sender.value),
        kvk=environment.organisation.kvk_number,
        number=number,
        issue_date=timezone.localdate(now),
        token=token,
    )
    with transaction.atomic():
        invoice = OutgoingInvoice.objects.create(
            environment=environment,
            afas_identity=f"{TEST_IDENTITY_PREFIX}{token}",
            is_test=True,
            ubl=ubl,
            sha256=hashlib.sha256(ubl).hexdigest(),
            invoice_number=number,
            customer_name=environment.organisation.name,
        )
        event_record(
            environment=environment,
            outgoing_invoice=invoice,
            kind=EventKind.TEST_INVOICE,
            to_status=Status.NEW,
            message=Msg("outgoing.test_created", number=number, identifier=sender.icd),
            actor=actor,
            system_actor="test invoice",
        )
        lifecycle.enqueue("outgoing.prepare", invoice.pk)
    return invoice
