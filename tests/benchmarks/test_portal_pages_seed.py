"""The page benchmark's seeding (PostgreSQL: it is set-based SQL) and how it finds its way around the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from benchmarks.portal_pages import (
    DETAIL_UBL,
    Scale,
    detail_link,
    held_duplicates_query,
    older_link,
    parse_page,
    seed,
    seed_columns,
)
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.models import Environment, Organisation
from portal.outgoing_invoices.models import OutgoingInvoice

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the seeding is PostgreSQL SQL (generate_series, DROP/CREATE INDEX)"
)
SCALE = Scale(organisations=10, outgoing=20_000, incoming=20_000, small_organisations=2, small_share=0.01)


def _secondary_indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def seeded(db):
    return seed(scale=SCALE, now=timezone.now())


@postgres_only
def test_the_big_firm_holds_every_organisation_with_three_environments_and_the_small_firm_its_own(seeded):
    assert Organisation.objects.filter(firm_id=seeded.big_firm_id).count() == SCALE.organisations
    assert Environment.objects.filter(organisation__firm_id=seeded.big_firm_id).count() == 3 * SCALE.organisations
    assert Environment.objects.filter(organisation__firm_id=seeded.small_firm_id).count() == 3 * 2


@postgres_only
def test_the_invoices_are_loaded_in_full_and_the_small_firm_has_its_share(seeded):
    assert OutgoingInvoice.objects.count() == SCALE.outgoing
    assert IncomingInvoice.objects.count() == SCALE.incoming
    small = OutgoingInvoice.objects.filter(environment__organisation__firm_id=seeded.small_firm_id).count()
    assert small == round(SCALE.outgoing * SCALE.small_share)


@postgres_only
def test_invoices_span_two_years_mostly_delivered_with_work_in_progress_only_recently(seeded):
    now = timezone.now()
    outgoing = OutgoingInvoice.objects.all()
    assert outgoing.filter(created_at__lt=now - timedelta(days=700)).exists()
    assert outgoing.filter(status="delivered").count() > 0.9 * SCALE.outgoing
    in_progress = outgoing.filter(status__in=["new", "ready", "submitting", "retry_wait", "submitted"])
    assert in_progress.exists()
    assert not in_progress.filter(created_at__lt=now - timedelta(days=3)).exists()
    assert IncomingInvoice.objects.filter(status="acknowledged").count() > 0.9 * SCALE.incoming


@postgres_only
def test_ids_follow_creation_time_as_they_do_in_production(seeded):
    big = OutgoingInvoice.objects.filter(environment__organisation__firm_id=seeded.big_firm_id)
    by_time = list(big.order_by("created_at").values_list("pk", flat=True)[:2000])
    assert by_time == sorted(by_time)


@postgres_only
def test_held_duplicates_point_at_an_earlier_document_of_their_own_environment(seeded):
    held = IncomingInvoice.objects.filter(status="held", hold_reason="duplicate").select_related("duplicate_of")
    assert held.exists()
    for document in held:
        assert document.duplicate_of.environment_id == document.environment_id
        assert document.duplicate_of.created_at < document.created_at
        assert document.invoice_number == document.duplicate_of.invoice_number


@postgres_only
def test_the_measured_invoice_pages_carry_a_real_ubl(seeded):
    outgoing_id, incoming_id = seeded.detail_ids
    ubl = DETAIL_UBL.read_bytes()
    assert bytes(OutgoingInvoice.objects.get(pk=outgoing_id).ubl) == ubl
    assert bytes(IncomingInvoice.objects.get(pk=incoming_id).raw_xml) == ubl


@postgres_only
def test_the_indexes_dropped_for_the_load_are_all_built_again(db):
    tables = (OutgoingInvoice._meta.db_table, IncomingInvoice._meta.db_table)
    before = {table: _secondary_indexes(table) for table in tables}
    seed(scale=Scale(organisations=2, outgoing=500, incoming=500, small_organisations=1), now=timezone.now())
    assert {table: _secondary_indexes(table) for table in tables} == before


def test_every_not_null_column_without_a_value_gets_its_default_or_empty_text():
    required = ("environment_id", "econnect_document_id", "raw_xml", "sha256", "created_at", "updated_at",
                "status_changed_at")  # fmt: skip
    columns, _selects, params = seed_columns(IncomingInvoice, {column: "NULL" for column in required})
    names = columns.split(", ")
    assert "duplicate_evidence" in names  # JSON default
    assert "hold_reason" in names  # blank text
    assert "duplicate_of_id" not in names  # nullable: left NULL
    assert "default_duplicate_evidence" in params


def test_a_column_the_seeding_cannot_fill_is_refused():
    with pytest.raises(RuntimeError, match="no value"):
        seed_columns(IncomingInvoice, {"environment_id": "1"})  # e.g. created_at: NOT NULL, no default


def test_the_older_link_is_found_by_rel_or_by_its_words_in_either_language():
    assert older_link(parse_page('<a href="?q=x&amp;before=abc" rel="next">Older</a>')) == "?q=x&before=abc"
    assert older_link(parse_page('<a href="/">Overzicht</a><a href="?before=9">Oudere facturen</a>')) == "?before=9"
    assert older_link(parse_page('<a href="?after=9">Newer</a>')) is None


def test_the_invoice_link_is_shaped_like_the_links_on_the_list_page():
    page = parse_page('<a href="/outbox/">Outbox</a><a href="/en/outbox/17/">F1</a>')
    assert detail_link(page, "outbox", 4242) == "/en/outbox/4242/"
    assert detail_link(page, "inbox", 1) is None


def test_the_held_duplicates_filter_is_the_pages_own_checkbox():
    page = parse_page('<input type="checkbox" name="disagreements"><input type="checkbox" name="held_duplicates">')
    assert held_duplicates_query(page) == "held_duplicates=on"


def test_the_held_duplicates_filter_is_otherwise_taken_from_the_status_options():
    page = parse_page('<select name="status"><option value="">All</option><option value="held">Held</option>'
                      '<option value="held_duplicate">Held duplicates</option></select>')  # fmt: skip
    assert held_duplicates_query(page) == "status=held_duplicate"
    assert held_duplicates_query(parse_page("<p>no filter</p>")) == "status=held"
