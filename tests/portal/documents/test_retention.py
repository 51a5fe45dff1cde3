"""Document retention: the period, expiry that keeps the audit trail, integrity checks, and the pages afterwards."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import logging
import types
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portal.core.schedules import SCHEDULES
from portal.documents import retention
from portal.documents.tasks import expire_documents
from portal.events.models import Event
from portal.incoming_invoices.models import IncomingInvoice
from portal.outgoing_invoices import round_trip
from portal.outgoing_invoices import services as sending
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.outgoing_invoices.conftest import world  # noqa: F401  (the sending world, both simulators)
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db
Out = OutgoingInvoice.Status
In = IncomingInvoice.Status
NEW_YEAR_2026 = dt.date(2026, 1, 1)  # with 7 years: documents of 2018 and before have expired


def stored_at(year: int, month: int = 6, day: int = 1, hour: int = 12, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


def outgoing(stored: dt.datetime, *, status=Out.DELIVERED, issue_date: dt.date | None = None, **fields):
    invoice = OutgoingInvoiceFactory(
        status=status,
        submission_reference=uuid.uuid4().hex,
        issue_date=issue_date or stored.date(),
        ubl=f"<Invoice><ID>{uuid.uuid4().hex}</ID></Invoice>".encode(),
        **fields,
    )
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(created_at=stored)
    invoice.refresh_from_db()
    return invoice


def incoming(stored: dt.datetime, *, status=In.ACKNOWLEDGED, issue_date: dt.date | None = None, **fields):
    if status == In.HELD:
        fields.setdefault("hold_reason", IncomingInvoice.HoldReason.DUPLICATE)
    document = IncomingInvoiceFactory(status=status, issue_date=issue_date or stored.date(), **fields)
    IncomingInvoice.objects.filter(pk=document.pk).update(created_at=stored)
    document.refresh_from_db()
    return document


# --- the period ------------------------------------------------------------------------------------------------------


def test_a_document_is_kept_seven_years_after_the_end_of_its_year():
    kept = retention.document_kept_until(issue_date=dt.date(2025, 3, 12), stored_at=stored_at(2025, 3, 14))

    assert kept == dt.date(2032, 12, 31)


def test_an_old_issue_date_from_outside_does_not_shorten_the_retention():
    kept = retention.document_kept_until(issue_date=dt.date(1999, 1, 1), stored_at=stored_at(2026, 2, 1))

    assert kept == dt.date(2033, 12, 31)


def test_an_invoice_dated_next_year_counts_in_next_years_books():
    kept = retention.document_kept_until(issue_date=dt.date(2026, 1, 2), stored_at=stored_at(2025, 12, 30))

    assert kept == dt.date(2033, 12, 31)


def test_the_period_follows_the_setting(settings):
    settings.DOCUMENT_RETENTION_YEARS = 10

    assert retention.document_kept_until(issue_date=None, stored_at=stored_at(2025)) == dt.date(2035, 12, 31)
    assert retention.retention_cutoff(today=dt.date(2036, 1, 1)) == dt.date(2026, 1, 1)


def test_a_period_shorter_than_the_fiscal_retention_is_refused(settings):
    settings.DOCUMENT_RETENTION_YEARS = 5

    with pytest.raises(ImproperlyConfigured):
        retention.documents_expire(today=NEW_YEAR_2026)


# --- expiry ----------------------------------------------------------------------------------------------------------


def test_expired_documents_lose_their_bytes_but_keep_metadata_hash_and_timeline(caplog):
    invoice = outgoing(stored_at(2018), invoice_number="F2018-001")
    document = incoming(stored_at(2018))
    invoice_hash, document_hash = invoice.sha256, document.sha256

    with caplog.at_level(logging.INFO, logger="portal.documents.retention"):
        result = retention.documents_expire(today=NEW_YEAR_2026)

    invoice.refresh_from_db()
    document.refresh_from_db()
    assert [(d.kind, d.pk) for d in result.documents] == [("outgoing", invoice.pk), ("incoming", document.pk)]
    assert bytes(invoice.ubl) == b"" and bytes(document.raw_xml) == b""
    assert invoice.document_removed_at is not None and document.document_removed_at is not None
    assert (invoice.sha256, document.sha256) == (invoice_hash, document_hash)
    assert invoice.invoice_number == "F2018-001" and invoice.status == Out.DELIVERED
    removal = Event.objects.get(outgoing_invoice=invoice, kind="document_removed")
    assert removal.data["sha256"] == invoice_hash and removal.actor_name == "retention"
    assert Event.objects.filter(incoming_invoice=document, kind="document_removed").count() == 1
    lines = [record.getMessage() for record in caplog.records]
    assert any(
        f"outgoing id={invoice.pk} environment={invoice.environment_id} number=F2018-001 sha256={invoice_hash}" in line
        for line in lines
    )
    assert any(f"incoming id={document.pk}" in line and document_hash in line for line in lines)
    assert any("removed 1 outgoing and 1 incoming" in line for line in lines)


def test_a_document_expires_on_the_first_day_after_its_retention_year():
    # 31 December 2018, 23:30 in Amsterdam: still 2018 there (22:30 UTC), so kept through 2025.
    invoice = outgoing(stored_at(2018, 12, 31, 23, 30), issue_date=dt.date(2018, 12, 31))

    assert retention.documents_expire(today=dt.date(2025, 12, 31)).documents == []
    assert [d.pk for d in retention.documents_expire(today=NEW_YEAR_2026).documents] == [invoice.pk]


def test_documents_within_the_period_are_kept():
    recent = outgoing(stored_at(2019, 1, 1, 0, 30))
    dated_later = outgoing(stored_at(2018), issue_date=dt.date(2019, 1, 2))
    received_recently = incoming(stored_at(2024), issue_date=dt.date(2001, 1, 1))

    assert retention.documents_expire(today=NEW_YEAR_2026).documents == []
    for document in (recent, dated_later, received_recently):
        document.refresh_from_db()
        assert document.document_removed_at is None


@pytest.mark.parametrize("status", sorted(set(Out.values) - {Out.DELIVERED, Out.NOT_SENT, Out.RESOLVED_MANUALLY}))
def test_an_outgoing_invoice_that_may_still_be_sent_is_never_removed(status):
    invoice = outgoing(stored_at(2010), status=status)

    retention.documents_expire(today=NEW_YEAR_2026)

    invoice.refresh_from_db()
    assert invoice.document_removed_at is None and bytes(invoice.ubl) != b""


@pytest.mark.parametrize("status", sorted(set(In.values) - {In.ACKNOWLEDGED, In.RESOLVED_MANUALLY, In.TEST_DONE}))
def test_a_received_document_that_is_held_or_unfinished_is_never_removed(status):
    document = incoming(stored_at(2010), status=status)

    retention.documents_expire(today=NEW_YEAR_2026)

    document.refresh_from_db()
    assert document.document_removed_at is None and bytes(document.raw_xml) != b""


@pytest.mark.parametrize(
    ("status", "final"),
    [(Out.DELIVERED, True), (Out.NOT_SENT, True), (Out.RESOLVED_MANUALLY, True), (Out.FAILED, False)],
)
def test_only_final_outgoing_states_expire(status, final):
    invoice = outgoing(stored_at(2010), status=status)

    removed = retention.documents_expire(today=NEW_YEAR_2026).documents

    assert [d.pk for d in removed] == ([invoice.pk] if final else [])


def test_an_original_is_kept_while_a_held_duplicate_points_at_it():
    original = incoming(stored_at(2010))
    duplicate = incoming(stored_at(2010), status=In.HELD, duplicate_of=original)

    assert retention.documents_expire(today=NEW_YEAR_2026).documents == []

    IncomingInvoice.objects.filter(pk=duplicate.pk).update(status=In.RESOLVED_MANUALLY, hold_reason="")
    removed = retention.documents_expire(today=NEW_YEAR_2026).documents
    assert {d.pk for d in removed} == {original.pk, duplicate.pk}


def test_a_document_that_changed_after_it_was_listed_is_left_alone(monkeypatch):
    original, other = incoming(stored_at(2010)), incoming(stored_at(2010))
    list_expired = retention.documents_expired

    def listed_then_a_duplicate_arrives(**kwargs):
        listed = list_expired(**kwargs)
        incoming(stored_at(2025), status=In.HELD, duplicate_of=original)
        return listed

    monkeypatch.setattr(retention, "documents_expired", listed_then_a_duplicate_arrives)
    result = retention.documents_expire(today=NEW_YEAR_2026)

    original.refresh_from_db()
    assert [d.pk for d in result.documents] == [other.pk]
    assert original.document_removed_at is None and bytes(original.raw_xml) != b""
    assert not Event.objects.filter(incoming_invoice=original, kind="document_removed").exists()


def test_a_dry_run_lists_what_would_go_and_removes_nothing():
    invoice = outgoing(stored_at(2017))

    result = retention.documents_expire(today=NEW_YEAR_2026, dry_run=True)

    invoice.refresh_from_db()
    assert [d.pk for d in result.documents] == [invoice.pk]
    assert result.documents[0].kept_until == dt.date(2024, 12, 31)
    assert result.documents[0].size == len(bytes(invoice.ubl)) > 0
    assert invoice.document_removed_at is None and bytes(invoice.ubl) != b""
    assert not Event.objects.filter(kind="document_removed").exists()


def test_each_run_is_bounded_and_the_rest_goes_next_time():
    invoices = [outgoing(stored_at(2015, month)) for month in (1, 2, 3)]

    first = retention.documents_expire(today=NEW_YEAR_2026, limit=2)
    second = retention.documents_expire(today=NEW_YEAR_2026, limit=2)

    assert [d.pk for d in first.documents] == [invoices[0].pk, invoices[1].pk]  # oldest first
    assert first.limit_reached
    assert [d.pk for d in second.documents] == [invoices[2].pk]
    assert not second.limit_reached


def test_a_second_run_removes_nothing_twice():
    outgoing(stored_at(2015))

    retention.documents_expire(today=NEW_YEAR_2026)
    again = retention.documents_expire(today=NEW_YEAR_2026)

    assert again.documents == []
    assert Event.objects.filter(kind="document_removed").count() == 1


def test_expiry_can_be_limited_to_one_environment():
    mine, theirs = outgoing(stored_at(2015)), outgoing(stored_at(2015))

    result = retention.documents_expire(today=NEW_YEAR_2026, environment_id=mine.environment_id)

    assert [d.pk for d in result.documents] == [mine.pk]
    theirs.refresh_from_db()
    assert theirs.document_removed_at is None


def test_the_daily_task_removes_expired_documents(monkeypatch):
    invoice = outgoing(stored_at(2000))
    real_localdate = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None: real_localdate(value) if value else NEW_YEAR_2026)

    assert expire_documents.delay().get() == 1

    invoice.refresh_from_db()
    assert invoice.document_removed_at is not None


def test_the_expiry_is_scheduled_daily():
    assert [(s.task, s.every_seconds) for s in SCHEDULES if s.task == "documents.expire"] == [
        ("documents.expire", 86400)
    ]


# --- integrity -------------------------------------------------------------------------------------------------------


def test_verify_finds_every_document_intact():
    outgoing(stored_at(2025))
    incoming(stored_at(2025))
    incoming(stored_at(2025))

    report = retention.documents_verify(batch_size=2)

    assert report.intact
    assert (report.total.checked, report.total.ok) == (3, 3)
    assert (report.counts["outgoing"].ok, report.counts["incoming"].ok) == (1, 2)


def test_verify_detects_a_single_flipped_byte():
    intact, damaged = outgoing(stored_at(2025)), outgoing(stored_at(2025))
    data = bytearray(bytes(damaged.ubl))
    data[5] ^= 0x01
    OutgoingInvoice.objects.filter(pk=damaged.pk).update(ubl=bytes(data))

    report = retention.documents_verify()

    assert not report.intact
    assert report.mismatched == [("outgoing", damaged.pk)]
    assert (report.total.ok, report.total.mismatched) == (1, 1)
    assert intact.pk not in [pk for _, pk in report.mismatched]


def test_verify_reports_a_document_whose_bytes_or_hash_are_gone():
    lost_bytes = incoming(stored_at(2025))
    IncomingInvoice.objects.filter(pk=lost_bytes.pk).update(raw_xml=b"")
    no_hash = outgoing(stored_at(2025))
    OutgoingInvoice.objects.filter(pk=no_hash.pk).update(sha256="")

    report = retention.documents_verify()

    assert sorted(report.missing) == [("incoming", lost_bytes.pk), ("outgoing", no_hash.pk)]
    assert not report.intact


def test_verify_counts_removed_documents_apart():
    outgoing(stored_at(2010))
    kept = outgoing(stored_at(2025))
    retention.documents_expire(today=NEW_YEAR_2026)

    report = retention.documents_verify()

    assert report.intact
    assert (report.counts["outgoing"].checked, report.counts["outgoing"].removed) == (1, 1)
    assert report.counts["outgoing"].ok == 1 and kept.pk not in report.missing


def test_verify_can_be_limited_to_one_environment():
    mine = outgoing(stored_at(2025))
    other = outgoing(stored_at(2025))
    OutgoingInvoice.objects.filter(pk=other.pk).update(ubl=b"<tampered/>")

    report = retention.documents_verify(environment_id=mine.environment_id)

    assert report.intact and report.total.checked == 1


# --- the hash is recorded where the document is stored ----------------------------------------------------------------


def test_collected_and_test_invoices_record_the_hash_of_the_ubl_as_stored(
    world,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        sending.outgoing_collect(environment=world.environment)
        round_trip.outgoing_send_test_invoice(environment=world.environment, actor=None)

    invoices = list(OutgoingInvoice.objects.all())
    assert len(invoices) >= 2 and any(invoice.is_test for invoice in invoices)
    for invoice in invoices:
        assert invoice.sha256 == hashlib.sha256(bytes(invoice.ubl)).hexdigest()
    assert retention.documents_verify().intact


def test_the_data_migration_records_the_hash_of_invoices_stored_before():
    migration = importlib.import_module("portal.outgoing_invoices.migrations.0009_sha256_of_stored_ubl")
    without = [outgoing(stored_at(2024)) for _ in range(3)]
    OutgoingInvoice.objects.filter(pk__in=[i.pk for i in without]).update(sha256="")
    empty = outgoing(stored_at(2024))
    OutgoingInvoice.objects.filter(pk=empty.pk).update(ubl=b"", sha256="")
    monkey_batch, migration.BATCH = migration.BATCH, 2  # more than one batch
    try:
        from django.apps import apps

        editor = types.SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
        migration.record_sha256(apps, editor)
    finally:
        migration.BATCH = monkey_batch

    for invoice in [*without, empty]:
        invoice.refresh_from_db()
        assert invoice.sha256 == hashlib.sha256(bytes(invoice.ubl)).hexdigest()


# --- the pages after removal ------------------------------------------------------------------------------------------


@pytest.fixture
def firm_environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))


def test_the_outbox_page_of_a_removed_invoice_says_so(accountant_client, firm_environment):
    invoice = outgoing(stored_at(2012), environment=firm_environment)
    retention.documents_expire(today=NEW_YEAR_2026)
    invoice.refresh_from_db()

    response = accountant_client.get(reverse("web:outgoing_detail", args=[invoice.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "The document was removed after the retention period on" in body
    assert invoice.sha256 in body
    assert "cannot be read" not in body


def test_the_inbox_page_of_a_removed_document_says_so(accountant_client, firm_environment):
    document = incoming(stored_at(2012), environment=firm_environment)
    retention.documents_expire(today=NEW_YEAR_2026)

    response = accountant_client.get(reverse("web:incoming_detail", args=[document.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "The document was removed after the retention period on" in body
    assert document.sha256 in body
    assert "cannot be shown in readable form" not in body
    assert "Document removed after the retention period" in body  # the timeline entry's label
