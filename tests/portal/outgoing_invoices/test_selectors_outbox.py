"""The outbox selectors: keyset pages over several environments, filters, and fix hints for findings."""

import datetime

import pytest
from django.utils import timezone

from portal.outgoing_invoices import selectors
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.selectors import OutboxCursor, OutboxFilters, finding_fix_hint, outbox_page
from tests.portal.organisations.factories import EnvironmentFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db
Status = OutgoingInvoice.Status
EVERYTHING = OutboxFilters()


def created(environment, minutes_ago: int, **fields) -> OutgoingInvoice:
    invoice = OutgoingInvoiceFactory(environment=environment, **fields)
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    invoice.refresh_from_db()
    return invoice


def walk(environment_ids, filters=EVERYTHING, size=3) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = outbox_page(environment_ids=environment_ids, filters=filters, cursor=cursor, size=size)
        pages.append([invoice.invoice_number for invoice in page.invoices])
        if page.older is None:
            return pages
        cursor = page.older


def test_pages_over_several_environments_interleave_by_time():
    first, second = EnvironmentFactory(), EnvironmentFactory()
    for minutes in range(8):
        created(first if minutes % 2 else second, minutes, invoice_number=f"M{minutes}")

    pages = walk([first.pk, second.pk])

    assert pages == [["M0", "M1", "M2"], ["M3", "M4", "M5"], ["M6", "M7"]]


def test_a_full_last_page_has_no_older_link():
    environment = EnvironmentFactory()
    for minutes in range(6):
        created(environment, minutes, invoice_number=f"M{minutes}")

    assert walk([environment.pk]) == [["M0", "M1", "M2"], ["M3", "M4", "M5"]]


def test_the_first_page_has_no_newer_link_and_a_later_one_has():
    environment = EnvironmentFactory()
    for minutes in range(5):
        created(environment, minutes, invoice_number=f"M{minutes}")

    first = outbox_page(environment_ids=[environment.pk], filters=EVERYTHING, size=2)
    second = outbox_page(environment_ids=[environment.pk], filters=EVERYTHING, cursor=first.older, size=2)

    assert first.newer is None
    assert second.newer == OutboxCursor.of(second.invoices[0])


def test_paging_newer_returns_the_page_before():
    environment = EnvironmentFactory()
    for minutes in range(7):
        created(environment, minutes, invoice_number=f"M{minutes}")
    first = outbox_page(environment_ids=[environment.pk], filters=EVERYTHING, size=2)
    second = outbox_page(environment_ids=[environment.pk], filters=EVERYTHING, cursor=first.older, size=2)
    third = outbox_page(environment_ids=[environment.pk], filters=EVERYTHING, cursor=second.older, size=2)

    back = outbox_page(environment_ids=[environment.pk], filters=EVERYTHING, cursor=third.newer, newer=True, size=2)

    assert [i.invoice_number for i in back.invoices] == ["M2", "M3"]
    assert back.older == OutboxCursor.of(back.invoices[-1])


def test_paging_newer_past_the_top_shows_the_full_first_page():
    environment = EnvironmentFactory()
    for minutes in range(4):
        created(environment, minutes, invoice_number=f"M{minutes}")
    newest = OutgoingInvoice.objects.get(invoice_number="M0")

    page = outbox_page(
        environment_ids=[environment.pk], filters=EVERYTHING, cursor=OutboxCursor.of(newest), newer=True, size=2
    )

    assert [i.invoice_number for i in page.invoices] == ["M0", "M1"]
    assert page.newer is None


def test_an_environment_outside_the_allowed_ones_gives_nothing():
    mine, theirs = EnvironmentFactory(), EnvironmentFactory()
    created(theirs, 1)

    page = outbox_page(environment_ids=[mine.pk], filters=OutboxFilters(environment_ids=(theirs.pk,)))

    assert page.invoices == []


def test_the_list_rows_leave_the_ubl_unloaded():
    environment = EnvironmentFactory()
    created(environment, 1)

    (invoice,) = outbox_page(environment_ids=[environment.pk], filters=EVERYTHING).invoices

    assert "ubl" in invoice.get_deferred_fields()
    assert "validation_findings" in invoice.get_deferred_fields()


def test_the_in_progress_group_is_what_the_portal_moves_on_by_itself():
    environment = EnvironmentFactory()
    for minutes, status in enumerate(Status.values):
        created(environment, minutes, invoice_number=status, status=status, submission_reference=f"ref-{status}")

    page = outbox_page(environment_ids=[environment.pk], filters=OutboxFilters(status="in_progress"))

    assert {invoice.status for invoice in page.invoices} == set(selectors.IN_FLIGHT)


def test_an_unknown_status_filter_is_ignored():
    environment = EnvironmentFactory()
    created(environment, 1)

    page = outbox_page(environment_ids=[environment.pk], filters=OutboxFilters(status="bogus"))

    assert len(page.invoices) == 1


@pytest.mark.parametrize(
    "raw", ["", "nonsense", "2026-01-01T00:00:00_x", "2026-01-01T00:00:00_5", "2026-13-01T00:00:00+00:00_5", "_"]
)
def test_a_cursor_that_is_not_one_is_ignored(raw):
    assert OutboxCursor.decode(raw) is None


def test_a_cursor_survives_its_link():
    cursor = OutboxCursor(timezone.now(), 42)

    assert OutboxCursor.decode(cursor.encode()) == cursor


def test_the_existing_environment_outbox_still_works():
    environment = EnvironmentFactory()
    older, newer = created(environment, 2), created(environment, 1)

    assert list(selectors.outbox_for_environment(environment=environment)) == [newer, older]


# --- fix hints ---------------------------------------------------------------------------------------------------


def test_a_stored_hint_wins():
    assert finding_fix_hint(rule_id="BR-NL-10", stored_hint="Stored") == "Stored"


def test_a_known_rule_gets_its_own_hint_in_the_language():
    assert "organisatiekaart van de debiteur" in finding_fix_hint(rule_id="BR-NL-10", language="nl")
    assert "KvK number on the debtor" in finding_fix_hint(rule_id="BR-NL-10", language="en")


def test_a_sub_rule_uses_the_hint_of_its_message_prefix():
    assert finding_fix_hint(rule_id="BR-NL-10-1", message="[BR-NL-10] x") == finding_fix_hint(rule_id="BR-NL-10")


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        ("BR-NL-77", "A Dutch rule (NLCIUS)"),
        ("PEPPOL-EN16931-R999", "A Peppol rule is not met"),
        ("BR-CO-99", "do not add up"),
        ("BR-999", "European invoice standard"),
        ("XML-NOT-XML", "Export the invoice from AFAS again"),
        ("SOMETHING-ELSE", "Read the message"),
    ],
)
def test_unknown_rules_get_the_hint_of_their_family_or_a_general_one(rule_id, expected):
    assert expected in finding_fix_hint(rule_id=rule_id)


def test_findings_that_are_no_dicts_are_skipped():
    invoice = OutgoingInvoice(validation_findings=["junk", {"rule_id": "BR-06", "severity": "fatal", "message": "m"}])

    (finding,) = selectors.outgoing_findings(invoice=invoice)

    assert finding.rule_id == "BR-06"
    assert "name of your own administration" in finding.hint
