"""The outbox pages: the firm's list (filters, search, keyset pages), one invoice's page, retry and live status."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.peppol.builder import build_ubl
from portal.events.services import event_record
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.selectors import IN_FLIGHT
from tests.integrations.peppol import builders as b
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db
Status = OutgoingInvoice.Status
OUTBOX = reverse("web:outbox")
D = Decimal


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm, name="Bakkerij Jansen"))


@pytest.fixture
def other_firms_invoice():
    return OutgoingInvoiceFactory(invoice_number="OTHER-1", customer_name="Someone Else B.V.")


# Once something may have been sent, the invoice must have its submission reference (a model constraint).
SENT_STATUSES = (
    Status.SUBMITTING,
    Status.RETRY_WAIT,
    Status.SUBMITTED,
    Status.DELIVERED,
    Status.REJECTED,
    Status.STALE,
)


def invoice_at(environment, minutes_ago: int, **fields) -> OutgoingInvoice:
    if fields.get("status") in SENT_STATUSES:
        fields.setdefault("submission_reference", uuid.uuid4().hex)
    invoice = OutgoingInvoiceFactory(environment=environment, **fields)
    created = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    OutgoingInvoice.objects.filter(pk=invoice.pk).update(created_at=created)
    invoice.refresh_from_db()
    return invoice


def detail(invoice) -> str:
    return reverse("web:outgoing_detail", args=[invoice.pk])


def shown_numbers(response) -> list[str]:
    return [invoice.invoice_number for invoice, _environment in response.context["rows"]]


# --- the list ----------------------------------------------------------------------------------------------------


def test_the_outbox_lists_the_firms_invoices_newest_first_with_their_facts(accountant_client, environment):
    invoice_at(
        environment, 10, invoice_number="2026-001", customer_name="Jansen B.V.", payable_amount=Decimal("1234.50")
    )
    newest = invoice_at(environment, 1, invoice_number="2026-002", status=Status.DELIVERED)

    response = accountant_client.get(OUTBOX)

    assert response.status_code == 200
    assert shown_numbers(response) == ["2026-002", "2026-001"]
    html = response.content.decode()
    assert detail(newest) in html
    assert "Jansen B.V." in html
    assert "€\u00a01,234.50" in html
    assert "Bakkerij Jansen" in html
    assert 'class="badge outgoing-badge status-delivered">Delivered<' in html


def test_another_firms_invoices_are_not_listed(accountant_client, environment, other_firms_invoice):
    invoice_at(environment, 1, invoice_number="MINE-1")

    response = accountant_client.get(OUTBOX)

    assert shown_numbers(response) == ["MINE-1"]
    assert "OTHER-1" not in response.content.decode()


def test_another_firms_environment_as_filter_is_not_found_as_in_the_inbox(
    accountant_client, environment, other_firms_invoice
):
    invoice_at(environment, 1, invoice_number="MINE-1")

    outbox = accountant_client.get(OUTBOX, {"environment": other_firms_invoice.environment_id})
    inbox = accountant_client.get(reverse("web:inbox"), {"environment": other_firms_invoice.environment_id})

    assert outbox.status_code == inbox.status_code == 404
    assert "MINE-1" not in outbox.content.decode()


@pytest.mark.parametrize(
    ("outbox_query", "inbox_query"),
    [
        ({"status": "nonsense"}, {"status": "nonsense"}),
        ({"from": "2026-13-45"}, {"received_from": "2026-13-45"}),
        ({"environment": "abc"}, {"environment": "abc"}),
        ({"q": "x" * 101}, {"q": "x" * 101}),
    ],
)
def test_a_malformed_filter_is_left_out_and_said_so_in_outbox_and_inbox_alike(
    accountant_client, environment, outbox_query, inbox_query
):
    invoice_at(environment, 1, invoice_number="MINE-1")

    outbox = accountant_client.get(OUTBOX, outbox_query)
    inbox = accountant_client.get(reverse("web:inbox"), inbox_query)

    assert outbox.status_code == inbox.status_code == 200
    for response in (outbox, inbox):
        assert "Not understood, so left out:" in response.content.decode()
    assert shown_numbers(outbox) == ["MINE-1"]


def test_filter_by_environment(accountant_client, environment, membership):
    second = EnvironmentFactory(organisation=environment.organisation, afas_environment_type="test")
    invoice_at(environment, 2, invoice_number="PROD-1")
    invoice_at(second, 1, invoice_number="TEST-ENV-1")

    response = accountant_client.get(OUTBOX, {"environment": second.pk})

    assert shown_numbers(response) == ["TEST-ENV-1"]


def test_filter_by_organisation(accountant_client, environment, membership):
    other = EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm))
    invoice_at(environment, 2, invoice_number="JANSEN-1")
    invoice_at(other, 1, invoice_number="OTHER-ORG-1")

    response = accountant_client.get(OUTBOX, {"organisation": environment.organisation_id})

    assert shown_numbers(response) == ["JANSEN-1"]


def test_filter_by_status(accountant_client, environment):
    invoice_at(environment, 3, invoice_number="OK", status=Status.DELIVERED)
    invoice_at(environment, 2, invoice_number="BAD", status=Status.FAILED)

    response = accountant_client.get(OUTBOX, {"status": Status.FAILED})

    assert shown_numbers(response) == ["BAD"]


def test_the_needs_action_group_shows_what_a_person_must_look_at(accountant_client, environment):
    for minutes, status in enumerate(Status.values):
        invoice_at(environment, minutes + 1, invoice_number=status, status=status)

    response = accountant_client.get(OUTBOX, {"status": "needs_action"})

    assert sorted(shown_numbers(response)) == sorted(["needs_attention", "failed", "rejected", "stale"])


def test_filter_test_invoices_out_or_only(accountant_client, environment):
    invoice_at(environment, 2, invoice_number="REAL", is_test=False)
    invoice_at(environment, 1, invoice_number="TEST-1", is_test=True)

    assert shown_numbers(accountant_client.get(OUTBOX, {"test": "no"})) == ["REAL"]
    assert shown_numbers(accountant_client.get(OUTBOX, {"test": "yes"})) == ["TEST-1"]


def test_filter_by_date_collected(accountant_client, environment):
    today = timezone.localdate()
    # Collected at noon local time today, so the test does not depend on the hour it runs (just after midnight,
    # "a minute ago" is yesterday).
    midday = timezone.make_aware(datetime.datetime.combine(today, datetime.time(12)))
    minutes_since_midday = int((timezone.now() - midday).total_seconds() // 60)
    invoice_at(environment, 60 * 24 * 10, invoice_number="OLD")
    invoice_at(environment, minutes_since_midday, invoice_number="TODAY")

    response = accountant_client.get(OUTBOX, {"from": today.isoformat(), "to": today.isoformat()})
    older = accountant_client.get(OUTBOX, {"to": (today - datetime.timedelta(days=5)).isoformat()})

    assert shown_numbers(response) == ["TODAY"]
    assert shown_numbers(older) == ["OLD"]


def test_search_finds_an_invoice_by_the_start_of_its_number_in_any_case(accountant_client, environment):
    invoice_at(environment, 2, invoice_number="INV-2026-0042")
    invoice_at(environment, 1, invoice_number="X-INV-2026")

    response = accountant_client.get(OUTBOX, {"q": "inv-2026"})

    assert shown_numbers(response) == ["INV-2026-0042"]


def test_search_finds_invoices_by_part_of_the_customer_name(accountant_client, environment):
    invoice_at(environment, 2, invoice_number="A", customer_name="Bakkerij de Vries")
    invoice_at(environment, 1, invoice_number="B", customer_name="Slagerij Smit")

    response = accountant_client.get(OUTBOX, {"q": "DE VRIES"})

    assert shown_numbers(response) == ["A"]


def test_nothing_found_says_so(accountant_client, environment):
    response = accountant_client.get(OUTBOX, {"q": "nothing like it"})

    assert "No invoices match these filters." in response.content.decode()


def test_pages_go_older_and_newer_by_cursor_keeping_the_filters(accountant_client, environment, monkeypatch):
    monkeypatch.setattr("portal.outgoing_invoices.selectors.OUTBOX_PAGE_SIZE", 2)
    for n in range(5):
        invoice_at(environment, n + 1, invoice_number=f"N{n}", customer_name="Jansen")
    invoice_at(environment, 0, invoice_number="OTHER", customer_name="Smit")

    first = accountant_client.get(OUTBOX, {"q": "jansen"})
    second = accountant_client.get(OUTBOX + "?" + first.context["older_query"])
    third = accountant_client.get(OUTBOX + "?" + second.context["older_query"])
    back = accountant_client.get(OUTBOX + "?" + third.context["newer_query"])

    assert shown_numbers(first) == ["N0", "N1"]
    assert first.context["newer_query"] == ""
    assert "q=jansen" in first.context["older_query"]
    assert shown_numbers(second) == ["N2", "N3"]
    assert shown_numbers(third) == ["N4"]
    assert third.context["older_query"] == ""
    assert shown_numbers(back) == ["N2", "N3"]


def test_invoices_created_at_the_same_moment_are_neither_skipped_nor_repeated(
    accountant_client, environment, monkeypatch
):
    monkeypatch.setattr("portal.outgoing_invoices.selectors.OUTBOX_PAGE_SIZE", 2)
    moment = timezone.now() - datetime.timedelta(minutes=5)
    invoices = [OutgoingInvoiceFactory(environment=environment, invoice_number=f"S{n}") for n in range(5)]
    OutgoingInvoice.objects.filter(pk__in=[i.pk for i in invoices]).update(created_at=moment)

    seen, query = [], ""
    for _page in range(4):
        response = accountant_client.get(OUTBOX + "?" + query)
        seen += shown_numbers(response)
        query = response.context["older_query"]
        if not query:
            break

    assert seen == ["S4", "S3", "S2", "S1", "S0"]


def test_a_broken_cursor_starts_at_the_top(accountant_client, environment):
    invoice_at(environment, 1, invoice_number="ONLY")

    response = accountant_client.get(OUTBOX, {"after": "not-a-cursor"})

    assert response.status_code == 200
    assert shown_numbers(response) == ["ONLY"]


def test_the_list_never_counts_and_never_loads_the_ubl(accountant_client, environment):
    for n in range(3):
        invoice_at(environment, n + 1)

    with CaptureQueriesContext(connection) as queries:
        accountant_client.get(OUTBOX)

    invoice_queries = [q["sql"] for q in queries.captured_queries if "outgoing_invoices_outgoinginvoice" in q["sql"]]
    assert len(invoice_queries) == 1
    assert "COUNT(" not in invoice_queries[0].upper()
    assert '"ubl"' not in invoice_queries[0]
    assert "LIMIT 51" in invoice_queries[0]


def test_a_viewer_sees_the_outbox(viewer_client, environment):
    invoice_at(environment, 1, invoice_number="V-1")

    assert shown_numbers(viewer_client.get(OUTBOX)) == ["V-1"]


# --- one invoice's page --------------------------------------------------------------------------------------------


@pytest.fixture
def failed_invoice(environment):
    ubl = build_ubl(
        b.invoice(number="F2025-0077", lines=(b.line(1, price=D("100.00")), b.line(2, vat=b.VAT_9, price=D("50.00"))))
    )
    return invoice_at(
        environment,
        5,
        ubl=ubl,
        invoice_number="F2025-0077",
        status=Status.NEEDS_ATTENTION,
        validated_at=timezone.now(),
        last_error_kind="invalid_document",
        last_error_message="The invoice does not pass the Peppol rules (BR-NL-10).",
        validation_findings=[
            {
                "rule_id": "BR-NL-10",
                "severity": "fatal",
                "message": "[BR-NL-10] Buyer KvK missing",
                "location": "/Invoice/cac:AccountingCustomerParty",
                "hint_en": "",
                "hint_nl": "",
            },
            {
                "rule_id": "BR-NL-99",
                "severity": "warning",
                "message": "<script>alert(1)</script>",
                "location": "",
                "hint_en": "",
                "hint_nl": "",
            },
            {
                "rule_id": "OUR-OWN-CHECK",
                "severity": "fatal",
                "message": "Something only we check",
                "location": "",
                "hint_en": "Stored hint in English",
                "hint_nl": "Opgeslagen hint in het Nederlands",
            },
        ],
    )


def test_the_invoice_page_shows_status_facts_findings_with_hints_and_the_last_error(accountant_client, failed_invoice):
    response = accountant_client.get(detail(failed_invoice))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Needs attention" in html
    assert "The invoice does not pass the Peppol rules (BR-NL-10)." in html
    assert "fill in the KvK number on the debtor" in html  # the known hint of BR-NL-10
    assert "A Dutch rule (NLCIUS) is not met." in html  # the family hint of an unknown BR-NL rule
    assert "Stored hint in English" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "The invoice does not meet the Peppol rules: see the findings below" in html  # the hint for the error kind


def test_fatal_findings_come_before_warnings(accountant_client, failed_invoice):
    findings = accountant_client.get(detail(failed_invoice)).context["findings"]

    assert [finding.is_fatal for finding in findings] == [True, True, False]


def test_the_hints_follow_the_language(accountant_client, failed_invoice):
    accountant_client.cookies.load({"django_language": "nl"})

    html = accountant_client.get(detail(failed_invoice), HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    assert "Opgeslagen hint in het Nederlands" in html
    assert "vul het KvK-nummer in op de organisatiekaart" in html


def test_the_invoice_page_renders_lines_vat_breakdown_and_totals(accountant_client, failed_invoice):
    response = accountant_client.get(detail(failed_invoice))

    html = response.content.decode()
    document = response.context["document"]
    assert document.number == "F2025-0077"
    assert "Advieswerkzaamheden 2" in html
    assert "Standard rate" in html
    assert "€\u00a0150.00" in html  # sum of lines and total excluding VAT
    assert "€\u00a025.50" in html  # VAT: 21.00 + 4.50
    assert "€\u00a0175.50" in html  # amount due
    assert "NL91 ABNA 0417 1643 00" in html


def test_the_pretty_ubl_is_shown_escaped(accountant_client, failed_invoice):
    html = accountant_client.get(detail(failed_invoice)).content.decode()

    assert "&lt;cbc:ID&gt;F2025-0077&lt;/cbc:ID&gt;" in html
    assert "<cbc:ID>" not in html


def test_an_unreadable_ubl_is_explained_and_still_shown(accountant_client, environment):
    invoice = invoice_at(environment, 1, ubl=b"<html>not an invoice</html>", status=Status.NEEDS_ATTENTION)

    html = accountant_client.get(detail(invoice)).content.decode()

    assert "The UBL document cannot be read" in html
    assert "&lt;html&gt;not an invoice&lt;/html&gt;" in html


def test_the_timeline_shows_actor_status_change_message_and_reason(accountant_client, failed_invoice, membership):
    event_record(
        environment=failed_invoice.environment,
        outgoing_invoice=failed_invoice,
        kind="status_changed",
        from_status=Status.NEW,
        to_status=Status.NEEDS_ATTENTION,
        message="Checked the rules.",
        system_actor="prepare",
    )
    event_record(
        environment=failed_invoice.environment,
        outgoing_invoice=failed_invoice,
        kind="status_changed",
        from_status=Status.NEEDS_ATTENTION,
        to_status=Status.NEW,
        message="Retry requested.",
        actor=membership.user,
        reason="KvK filled in",
    )

    response = accountant_client.get(detail(failed_invoice))

    html = response.content.decode()
    messages = [event.message for event, _from, _to in response.context["timeline"]]
    assert messages == ["Retry requested.", "Checked the rules."]  # newest first
    assert "New → <strong>Needs attention</strong>" in html
    assert membership.user.username in html
    assert "system (prepare)" in html
    assert "KvK filled in" in html


def test_another_firms_invoice_is_not_found(accountant_client, other_firms_invoice):
    assert accountant_client.get(detail(other_firms_invoice)).status_code == 404
    assert accountant_client.get(reverse("web:outgoing_status", args=[other_firms_invoice.pk])).status_code == 404


# --- retry -----------------------------------------------------------------------------------------------------------


def retry(invoice) -> str:
    return reverse("web:outgoing_retry", args=[invoice.pk])


def test_the_retry_button_shows_where_retry_is_allowed(accountant_client, failed_invoice):
    html = accountant_client.get(detail(failed_invoice)).content.decode()

    assert f'action="{retry(failed_invoice)}"' in html


@pytest.mark.parametrize("status", [Status.DELIVERED, Status.SUBMITTED, Status.NOT_SENT, Status.STALE])
def test_no_retry_button_where_retry_is_not_allowed(accountant_client, environment, status):
    invoice = invoice_at(environment, 1, status=status)

    assert retry(invoice) not in accountant_client.get(detail(invoice)).content.decode()


def test_a_viewer_gets_no_retry_button(viewer_client, failed_invoice):
    assert retry(failed_invoice) not in viewer_client.get(detail(failed_invoice)).content.decode()


def test_an_accountant_retries_an_invoice_that_needs_attention(accountant_client, failed_invoice, membership):
    response = accountant_client.post(retry(failed_invoice), {"reason": "KvK filled in"}, follow=True)

    failed_invoice.refresh_from_db()
    assert failed_invoice.status == Status.NEW
    event = failed_invoice.events.get(to_status=Status.NEW)
    assert (event.actor, event.reason) == (membership.user, "KvK filled in")
    assert "will be tried again" in response.content.decode()


def test_a_firm_admin_may_retry(firm_admin_client, failed_invoice):
    firm_admin_client.post(retry(failed_invoice))

    failed_invoice.refresh_from_db()
    assert failed_invoice.status == Status.NEW


def test_retry_is_refused_with_a_message_when_the_status_does_not_allow_it(accountant_client, environment):
    invoice = invoice_at(environment, 1, status=Status.DELIVERED)

    response = accountant_client.post(retry(invoice), follow=True)

    invoice.refresh_from_db()
    assert invoice.status == Status.DELIVERED
    assert "cannot be retried now" in response.content.decode()


def test_a_viewer_cannot_retry(viewer_client, failed_invoice):
    response = viewer_client.post(retry(failed_invoice))

    failed_invoice.refresh_from_db()
    assert response.status_code == 403
    assert failed_invoice.status == Status.NEEDS_ATTENTION


def test_retry_of_another_firms_invoice_is_not_found(accountant_client, other_firms_invoice):
    other_firms_invoice.status = Status.FAILED
    other_firms_invoice.save()

    assert accountant_client.post(retry(other_firms_invoice)).status_code == 404
    other_firms_invoice.refresh_from_db()
    assert other_firms_invoice.status == Status.FAILED


def test_retry_is_post_only(accountant_client, failed_invoice):
    assert accountant_client.get(retry(failed_invoice)).status_code == 405


# --- the live status fragment ------------------------------------------------------------------------------------


def status_fragment(client, invoice):
    return client.get(reverse("web:outgoing_status", args=[invoice.pk]), HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("status", Status.values)
def test_the_status_fragment_polls_only_while_the_portal_moves_the_invoice_on(accountant_client, environment, status):
    invoice = invoice_at(environment, 1, status=status)

    html = status_fragment(accountant_client, invoice).content.decode()

    assert 'aria-live="polite"' in html
    assert ('hx-trigger="every 3s"' in html) is (status in IN_FLIGHT)
    assert OutgoingInvoice(status=status).get_status_display() in html


def test_polling_stops_once_the_invoice_is_delivered(accountant_client, environment):
    invoice = invoice_at(environment, 1, status=Status.SUBMITTED)
    assert "hx-trigger" in status_fragment(accountant_client, invoice).content.decode()

    OutgoingInvoice.objects.filter(pk=invoice.pk).update(status=Status.DELIVERED)

    html = status_fragment(accountant_client, invoice).content.decode()
    assert "hx-trigger" not in html
    assert "Delivered" in html


def test_the_invoice_page_embeds_the_polling_fragment_while_in_flight(accountant_client, environment):
    invoice = invoice_at(environment, 1, status=Status.SUBMITTED)

    html = accountant_client.get(detail(invoice)).content.decode()

    assert f'hx-get="{reverse("web:outgoing_status", args=[invoice.pk])}"' in html


def test_the_status_fragment_without_htmx_leads_to_the_invoice_page(accountant_client, failed_invoice):
    response = accountant_client.get(reverse("web:outgoing_status", args=[failed_invoice.pk]))

    assert response.status_code == 302
    assert response.url == detail(failed_invoice)


def test_the_filter_form_keeps_the_chosen_environment_and_escapes_names(accountant_client, membership):
    environment = EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm, name="<b>Bold</b> B.V."))

    html = accountant_client.get(OUTBOX, {"environment": environment.pk}).content.decode()

    assert f'<option value="{environment.pk}" selected>&lt;b&gt;Bold&lt;/b&gt; B.V. · Production' in html
    assert "<b>Bold</b>" not in html
