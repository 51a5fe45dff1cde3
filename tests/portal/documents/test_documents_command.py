"""``manage.py documents verify|expire``: counts, ids of damaged documents, exit codes, dry runs."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from portal.incoming_invoices import services as receiving
from portal.incoming_invoices.models import IncomingInvoice
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.incoming_invoices.conftest import world  # noqa: F401  (the receiving world, both simulators)
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db


def documents(*args: str) -> str:
    out = io.StringIO()
    call_command("documents", *args, stdout=out)
    return out.getvalue()


def old_delivered_invoice(year: int = 2010, **fields) -> OutgoingInvoice:
    invoice = OutgoingInvoiceFactory(
        status=OutgoingInvoice.Status.DELIVERED,
        submission_reference=uuid.uuid4().hex,
        issue_date=dt.date(year, 5, 1),
        ubl=f"<Invoice><ID>{uuid.uuid4().hex}</ID></Invoice>".encode(),
        **fields,
    )
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(created_at=timezone.make_aware(dt.datetime(year, 5, 2, 12, 0)))
    return invoice


def test_verify_prints_the_counts_and_succeeds_when_everything_matches():
    OutgoingInvoiceFactory()
    IncomingInvoiceFactory()
    IncomingInvoiceFactory()

    output = documents("verify")

    assert "outgoing: checked 1, ok 1, mismatched 0, missing 0" in output
    assert "incoming: checked 2, ok 2, mismatched 0, missing 0" in output
    assert "total: checked 3, ok 3, mismatched 0, missing 0, removed after retention 0" in output
    assert "All stored documents match their SHA-256." in output


def test_verify_fails_with_the_ids_of_a_tampered_document():
    IncomingInvoiceFactory()
    tampered = IncomingInvoiceFactory()
    raw = bytearray(bytes(tampered.raw_xml))
    raw[-2] ^= 0x20
    IncomingInvoice.objects.filter(pk=tampered.pk).update(raw_xml=bytes(raw))
    out = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("documents", "verify", stdout=out)

    assert failure.value.returncode == 1
    assert "1 mismatched" in str(failure.value)
    assert f"mismatched: incoming {tampered.pk}" in out.getvalue()
    assert "total: checked 2, ok 1, mismatched 1, missing 0" in out.getvalue()


def test_verify_fails_on_a_missing_document():
    gone = OutgoingInvoiceFactory()
    OutgoingInvoice.objects.filter(pk=gone.pk).update(ubl=b"")
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("documents", "verify", stdout=out)

    assert f"missing: outgoing {gone.pk}" in out.getvalue()


def test_verify_of_one_environment_ignores_the_others():
    mine = OutgoingInvoiceFactory()
    other = OutgoingInvoiceFactory()
    OutgoingInvoice.objects.filter(pk=other.pk).update(ubl=b"<tampered/>")

    output = documents("verify", "--environment", str(mine.environment_id))

    assert "total: checked 1, ok 1" in output


def test_received_documents_verify_after_a_real_fetch_and_a_flipped_byte_is_caught(
    world,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        receiving.incoming_fetch(environment=world.environment)
    received = IncomingInvoice.objects.count()
    assert received > 0
    assert f"incoming: checked {received}, ok {received}," in documents("verify")

    victim = IncomingInvoice.objects.order_by("pk").first()
    raw = bytearray(bytes(victim.raw_xml))
    raw[len(raw) // 2] ^= 0x01
    IncomingInvoice.objects.filter(pk=victim.pk).update(raw_xml=bytes(raw))
    with pytest.raises(CommandError):
        documents("verify")


def test_expire_dry_run_lists_what_would_go_and_keeps_it():
    invoice = old_delivered_invoice(invoice_number="F2010-7")

    output = documents("expire", "--dry-run")

    invoice.refresh_from_db()
    assert f"would remove: outgoing id={invoice.pk} environment={invoice.environment_id} number=F2010-7" in output
    assert f"sha256={invoice.sha256}" in output
    assert "would remove 1 outgoing and 0 incoming documents" in output
    assert invoice.document_removed_at is None


def test_expire_removes_and_reports():
    invoice = old_delivered_invoice()

    output = documents("expire")

    invoice.refresh_from_db()
    assert f"removed: outgoing id={invoice.pk}" in output
    assert "removed 1 outgoing and 0 incoming documents" in output
    assert invoice.document_removed_at is not None
    assert "removed after retention 1" in documents("verify")


def test_expire_is_bounded_by_the_limit():
    old_delivered_invoice(2008), old_delivered_invoice(2009)

    output = documents("expire", "--limit", "1")

    assert "removed 1 outgoing" in output and "limit reached, more remain" in output
    assert OutgoingInvoice.objects.filter(document_removed_at__isnull=True).count() == 1


def test_a_preview_as_of_a_later_day_lists_documents_that_expire_then():
    invoice = old_delivered_invoice(2024)

    assert "would remove 0 outgoing" in documents("expire", "--dry-run")
    assert f"outgoing id={invoice.pk}" in documents("expire", "--dry-run", "--as-of", "2032-01-01")
    assert "would remove 0 outgoing" in documents("expire", "--dry-run", "--as-of", "2031-12-31")


def test_a_day_in_the_future_is_for_previews_only():
    old_delivered_invoice(2024)

    with pytest.raises(CommandError, match="--dry-run"):
        documents("expire", "--as-of", "2040-01-01")

    assert OutgoingInvoice.objects.filter(document_removed_at__isnull=False).count() == 0
