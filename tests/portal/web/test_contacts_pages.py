import csv
import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from integrations.http import PermanentError, TransientError
from portal.accounts.models import Membership
from portal.contacts import lookups
from portal.contacts.models import Contact, ContactJob
from portal.organisations.services import environment_set_credentials
from tests.portal.accounts.factories import MembershipFactory
from tests.portal.contacts.factories import ContactFactory, ContactIdentifierFactory
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db
Outcome = Contact.LookupOutcome


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm, name="Own Client B.V."))


@pytest.fixture
def reachable(environment):
    contact = ContactFactory(
        environment=environment,
        name="Bakkerij Reachable",
        afas_id="10001",
        issue_method="R",
        lookup_outcome=Outcome.REACHABLE,
        lookup_detail="Reachable as 0106:20000001.",
        peppol_scheme="0106",
        peppol_value="20000001",
        receives_invoices=True,
        receives_credit_notes=False,
        peppol_access_point="econnect",
    )
    ContactIdentifierFactory(contact=contact, value="20000001")
    return contact


@pytest.fixture
def invalid(environment):
    contact = ContactFactory(
        environment=environment,
        name="Garage Invalid",
        afas_id="10002",
        lookup_outcome=Outcome.IDENTIFIER_INVALID,
        lookup_detail="No valid identifier.",
    )
    ContactIdentifierFactory(
        contact=contact,
        scheme="9944",
        value="NL123",
        source="vat",
        is_valid=False,
        invalid_reason="The VAT number is too short.",
    )
    return contact


@pytest.fixture
def other_firms_contact():
    return ContactFactory(
        name="Other Firm's Customer",
        lookup_outcome=Outcome.REACHABLE,
        peppol_scheme="0106",
        peppol_value="99999999",
    )


@pytest.fixture
def other_firms_job(other_firms_contact):
    return ContactJob.objects.create(environment=other_firms_contact.environment, kind=ContactJob.Kind.LOOKUP, total=1)


def login(client, membership, role):
    membership.role = role
    membership.save(update_fields=["role"])
    client.force_login(membership.user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def contacts_url(environment, **query):
    url = reverse("web:environment_contacts", args=[environment.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- the contacts page ---------------------------------------------------------------------------------------------


def test_the_contacts_page_shows_each_customers_identifiers_outcome_and_route(
    accountant_client, environment, reachable, invalid
):
    page = accountant_client.get(contacts_url(environment)).content.decode()

    assert "Bakkerij Reachable" in page and "10001" in page
    assert "0106:20000001" in page
    assert "Reachable as 0106:20000001." in page
    assert "Via the portal and eConnect" in page  # route of issue method R
    assert "Garage Invalid" in page
    assert "The VAT number is too short." in page
    assert "Confirm and write to AFAS" in page


def test_the_contacts_page_summarises_readiness_with_the_reachable_share_of_last_years_invoices(
    accountant_client, environment, reachable, invalid
):
    today = timezone.localdate()
    OutgoingInvoiceFactory(environment=environment, contact=reachable, issue_date=today, payable_amount=Decimal("300"))
    OutgoingInvoiceFactory(environment=environment, contact=invalid, issue_date=today, payable_amount=Decimal("100"))

    response = accountant_client.get(contacts_url(environment))

    assert response.context["readiness"].customers == 2
    page = response.content.decode()
    assert "<strong>75.0%</strong>" in page
    assert "50% reachable via Peppol" in page


def test_the_outcome_filter_shows_only_customers_with_that_outcome(accountant_client, environment, reachable, invalid):
    page = accountant_client.get(contacts_url(environment, outcome=Outcome.IDENTIFIER_INVALID)).content.decode()

    assert "Garage Invalid" in page
    assert "Bakkerij Reachable" not in page


def test_the_search_finds_a_customer_by_afas_number(accountant_client, environment, reachable, invalid):
    page = accountant_client.get(contacts_url(environment, q="10002")).content.decode()

    assert "Garage Invalid" in page
    assert "Bakkerij Reachable" not in page


def test_blocked_customers_are_shown_only_when_asked(accountant_client, environment, reachable):
    ContactFactory(environment=environment, name="Blocked Customer", afas_state=Contact.AfasState.BLOCKED)

    assert "Blocked Customer" not in accountant_client.get(contacts_url(environment)).content.decode()
    assert "Blocked Customer" in accountant_client.get(contacts_url(environment, inactive=1)).content.decode()


def test_the_list_is_paginated_by_fifty_and_keeps_the_filter(accountant_client, environment):
    for n in range(51):
        ContactFactory(environment=environment, name=f"Customer {n:03d}", lookup_outcome=Outcome.NOT_ON_PEPPOL)

    first = accountant_client.get(contacts_url(environment, outcome=Outcome.NOT_ON_PEPPOL))
    second = accountant_client.get(contacts_url(environment, outcome=Outcome.NOT_ON_PEPPOL, page=2))

    assert len(first.context["page"].object_list) == 50
    assert "?outcome=not_on_peppol&amp;page=2" in first.content.decode()
    assert [c.name for c in second.context["page"].object_list] == ["Customer 050"]


def test_creditors_and_other_environments_customers_are_not_listed(accountant_client, environment, reachable):
    ContactFactory(environment=environment, name="A Supplier", kind=Contact.Kind.CREDITOR)
    ContactFactory(name="Someone Else's Customer")

    page = accountant_client.get(contacts_url(environment)).content.decode()

    assert "A Supplier" not in page
    assert "Someone Else" not in page


def test_the_confirm_button_is_not_offered_when_the_identifier_is_already_in_afas(
    accountant_client, environment, reachable
):
    Contact.objects.filter(pk=reachable.pk).update(econnect_id="NL:KVK:20000001")

    page = accountant_client.get(contacts_url(environment)).content.decode()

    assert "Confirm and write to AFAS" not in page
    assert "Check now" in page


def test_viewers_see_the_page_without_any_action_buttons(client, membership, environment, reachable):
    login(client, membership, Membership.Role.VIEWER)

    page = client.get(contacts_url(environment)).content.decode()

    assert "Bakkerij Reachable" in page
    for button in ("Confirm and write to AFAS", "Check now", "Read contacts from AFAS now", "Check all in the Peppol"):
        assert button not in page


def test_the_contacts_page_shows_the_latest_jobs_progress_with_a_link(accountant_client, environment):
    job = ContactJob.objects.create(
        environment=environment, kind=ContactJob.Kind.LOOKUP, total=8, processed=2, last_error="Directory is slow"
    )

    page = accountant_client.get(contacts_url(environment)).content.decode()

    assert '<progress max="100" value="25"' in page
    assert "2 of 8 (25%)" in page
    assert "Directory is slow" in page
    assert reverse("web:contact_job_detail", args=[job.pk]) in page


# --- firm scoping, roles and methods for every new URL ---------------------------------------------------------------

GET_URLS = [
    "web:environment_contacts",
    "web:environment_contacts_csv",
    "web:contact_job_detail",
    "web:contact_job_progress",
]
POST_URLS = [
    "web:environment_contacts_sync",
    "web:contact_job_start",
    "web:contact_confirm",
    "web:contact_look_up",
    "web:contact_job_cancel",
    "web:environment_set_receiving",
    "web:environment_route_check",
]
TARGET = {
    "web:environment_contacts": "environment",
    "web:environment_contacts_csv": "environment",
    "web:environment_contacts_sync": "environment",
    "web:contact_job_start": "environment",
    "web:environment_set_receiving": "environment",
    "web:environment_route_check": "environment",
    "web:contact_confirm": "contact",
    "web:contact_look_up": "contact",
    "web:contact_job_detail": "job",
    "web:contact_job_progress": "job",
    "web:contact_job_cancel": "job",
}
POST_DATA = {"web:contact_job_start": {"kind": "lookup"}, "web:environment_set_receiving": {"enabled": "on"}}


def _target(name, contact, job):
    return {"environment": contact.environment, "contact": contact, "job": job}[TARGET[name]]


@pytest.mark.parametrize("name", GET_URLS + POST_URLS)
def test_another_firms_objects_are_not_found(accountant_client, other_firms_contact, other_firms_job, name):
    url = reverse(name, args=[_target(name, other_firms_contact, other_firms_job).pk])

    response = accountant_client.post(url, POST_DATA.get(name, {})) if name in POST_URLS else accountant_client.get(url)

    assert response.status_code == 404


@pytest.mark.parametrize("name", POST_URLS)
def test_viewers_may_not_act(client, membership, environment, reachable, name, monkeypatch):
    called = []
    monkeypatch.setattr(lookups, "contact_confirm_identifier", lambda **kwargs: called.append(kwargs))
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, total=1)
    login(client, membership, Membership.Role.VIEWER)

    response = client.post(reverse(name, args=[_target(name, reachable, job).pk]), POST_DATA.get(name, {}))

    job.refresh_from_db()
    assert response.status_code == 403
    assert job.state == ContactJob.State.RUNNING
    assert ContactJob.objects.count() == 1
    assert called == []


@pytest.mark.parametrize("name", POST_URLS)
def test_actions_are_post_only(accountant_client, environment, reachable, name):
    job = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, total=1)

    response = accountant_client.get(reverse(name, args=[_target(name, reachable, job).pk]))

    assert response.status_code == 405


@pytest.mark.parametrize("name", ["web:environment_contacts_csv", "web:readiness_csv"])
def test_downloads_are_get_only(accountant_client, environment, name):
    args = [environment.pk] if name == "web:environment_contacts_csv" else []

    assert accountant_client.post(reverse(name, args=args)).status_code == 405


# --- confirm and check now -------------------------------------------------------------------------------------------


def test_confirm_writes_through_the_service_and_says_what_was_written(
    accountant_client, membership, environment, reachable, monkeypatch
):
    calls = []

    def confirm(*, contact, actor, attempts):
        calls.append((contact.pk, actor, attempts))
        return "NL:KVK:20000001"

    monkeypatch.setattr(lookups, "contact_confirm_identifier", confirm)

    response = accountant_client.post(
        reverse("web:contact_confirm", args=[reachable.pk]), {"filters": "outcome=reachable&page=1&evil=x"}
    )

    assert calls == [(reachable.pk, membership.user, 1)]  # one attempt: a web request never waits out retries
    assert response.status_code == 302
    assert response["Location"] == contacts_url(environment, outcome="reachable", page=1)
    assert messages_of(response) == ["Bakkerij Reachable (10001): NL:KVK:20000001 is written to AFAS."]


def test_confirm_of_a_customer_without_a_reachable_identifier_shows_why(accountant_client, invalid, monkeypatch):
    def confirm(*, contact, actor, attempts):
        raise lookups.ContactNotConfirmable("There is no identifier to confirm.")

    monkeypatch.setattr(lookups, "contact_confirm_identifier", confirm)

    response = accountant_client.post(reverse("web:contact_confirm", args=[invalid.pk]))

    assert messages_of(response) == ["There is no identifier to confirm."]


def test_confirm_shows_afas_refusing_the_write(accountant_client, reachable, monkeypatch):
    def confirm(*, contact, actor, attempts):
        raise PermanentError("The debtor is locked.", service="AFAS")

    monkeypatch.setattr(lookups, "contact_confirm_identifier", confirm)

    response = accountant_client.post(reverse("web:contact_confirm", args=[reachable.pk]))

    assert messages_of(response) == [
        "Bakkerij Reachable (10001): the identifier could not be written to AFAS: The debtor is locked."
    ]


def test_confirm_by_the_real_service_refuses_a_customer_that_is_not_reachable(accountant_client, invalid):
    response = accountant_client.post(reverse("web:contact_confirm", args=[invalid.pk]))

    invalid.refresh_from_db()
    assert "there is no identifier to confirm" in messages_of(response)[0]
    assert invalid.econnect_id == ""


def test_check_now_looks_the_customer_up_and_shows_the_outcome(accountant_client, invalid, monkeypatch):
    def look_up(*, contact):
        Contact.objects.filter(pk=contact.pk).update(lookup_outcome=Outcome.NOT_ON_PEPPOL)
        contact.refresh_from_db()
        return contact

    monkeypatch.setattr(lookups, "contact_look_up_now", look_up)

    response = accountant_client.post(reverse("web:contact_look_up", args=[invalid.pk]))

    assert response.status_code == 302
    assert messages_of(response) == ["Garage Invalid (10002): Not on Peppol."]


def test_check_now_says_when_the_directory_cannot_be_asked(accountant_client, invalid, monkeypatch):
    def look_up(*, contact):
        raise TransientError("timed out", service="Peppol directory")

    monkeypatch.setattr(lookups, "contact_look_up_now", look_up)

    response = accountant_client.post(reverse("web:contact_look_up", args=[invalid.pk]))

    assert messages_of(response) == ["Garage Invalid (10002): the Peppol directory could not be asked: timed out"]


# --- page-level actions and jobs -------------------------------------------------------------------------------------


def test_read_contacts_now_queues_a_full_sync(accountant_client, environment, monkeypatch):
    environment_set_credentials(environment=environment, actor=None, afas_token="token")
    queued = []
    monkeypatch.setattr("portal.contacts.tasks.sync.delay", lambda *args: queued.append(args))

    response = accountant_client.post(reverse("web:environment_contacts_sync", args=[environment.pk]))

    assert response.status_code == 302
    assert queued == [(environment.pk, True)]


def test_read_contacts_now_is_refused_without_an_afas_token(accountant_client, environment, monkeypatch):
    queued = []
    monkeypatch.setattr("portal.contacts.tasks.sync.delay", lambda *args: queued.append(args))

    response = accountant_client.post(reverse("web:environment_contacts_sync", args=[environment.pk]))

    assert queued == []
    assert "AFAS token" in messages_of(response)[0]


@pytest.mark.parametrize("kind", [ContactJob.Kind.LOOKUP, ContactJob.Kind.WRITE_BACK])
def test_starting_a_job_shows_its_page(accountant_client, membership, environment, reachable, kind):
    environment_set_credentials(environment=environment, actor=None, afas_token="<token><version>1</version></token>")
    response = accountant_client.post(reverse("web:contact_job_start", args=[environment.pk]), {"kind": kind})

    job = ContactJob.objects.get(environment=environment)
    assert job.kind == kind
    assert job.requested_by == membership.user
    assert job.total == 1
    assert response["Location"] == reverse("web:contact_job_detail", args=[job.pk])


def test_a_write_back_without_an_afas_token_is_refused_with_the_reason(accountant_client, environment, reachable):
    response = accountant_client.post(reverse("web:contact_job_start", args=[environment.pk]), {"kind": "write_back"})

    assert not ContactJob.objects.exists()
    assert response["Location"] == reverse("web:environment_contacts", args=[environment.pk])
    assert "AFAS token" in messages_of(response)[0]


def test_starting_a_job_that_already_runs_shows_the_running_one(accountant_client, environment):
    running = ContactJob.objects.create(environment=environment, kind=ContactJob.Kind.LOOKUP, total=5)

    response = accountant_client.post(reverse("web:contact_job_start", args=[environment.pk]), {"kind": "lookup"})

    assert response["Location"] == reverse("web:contact_job_detail", args=[running.pk])
    assert ContactJob.objects.count() == 1
    assert messages_of(response) == ["This job is already running; its progress shows below."]


def test_an_unknown_job_kind_is_a_bad_request(accountant_client, environment):
    response = accountant_client.post(reverse("web:contact_job_start", args=[environment.pk]), {"kind": "delete"})

    assert response.status_code == 400
    assert not ContactJob.objects.exists()


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_contacts_csv_has_a_header_and_one_row_per_customer(accountant_client, environment, reachable, invalid):
    ContactFactory(environment=environment, name="Blocked Customer", afas_state=Contact.AfasState.BLOCKED)
    ContactFactory(environment=environment, name="A Supplier", kind=Contact.Kind.CREDITOR)

    response = accountant_client.get(reverse("web:environment_contacts_csv", args=[environment.pk]))

    rows = _csv(response)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert rows[0][:2] == ["AFAS number", "Name"]
    assert sorted(row[1] for row in rows[1:]) == ["Bakkerij Reachable", "Blocked Customer", "Garage Invalid"]


def test_the_readiness_csv_has_a_row_per_environment_and_a_total(accountant_client, environment, reachable):
    response = accountant_client.get(reverse("web:readiness_csv"))

    rows = _csv(response)
    assert rows[0][0] == "Organisation"
    assert [row[0] for row in rows[1:]] == ["Own Client B.V.", "Total"]


def test_a_dutch_reader_gets_semicolons_and_decimal_commas_for_excel(accountant_client, environment, reachable):
    from decimal import Decimal

    from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

    OutgoingInvoiceFactory(
        environment=environment, contact=reachable, payable_amount=Decimal("1234.50"), currency="EUR",
        issue_date=timezone.localdate(),
    )  # fmt: skip
    accountant_client.cookies["django_language"] = "nl"

    response = accountant_client.get(reverse("web:readiness_csv"))

    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())  # UTF-8 with BOM: Excel reads the names right
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Klant"
    assert "1234,50" in rows[1]


def test_the_separator_can_be_chosen(accountant_client, environment, reachable):
    accountant_client.cookies["django_language"] = "nl"

    response = accountant_client.get(reverse("web:readiness_csv"), {"separator": "comma"})

    header = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Klant,KvK,")


# --- the firm's readiness page ---------------------------------------------------------------------------------------


def test_the_readiness_page_lists_the_firms_environments_with_totals_and_links(
    accountant_client, environment, reachable, invalid, other_firms_contact
):
    second = EnvironmentFactory(organisation=environment.organisation, afas_environment_type="test")
    ContactFactory(environment=second, lookup_outcome=Outcome.REACHABLE)

    response = accountant_client.get(reverse("web:readiness"))

    page = response.content.decode()
    assert response.context["report"].total.customers == 3
    assert response.context["report"].total.reachable == 2
    assert reverse("web:environment_contacts", args=[environment.pk]) in page
    assert reverse("web:environment_contacts", args=[second.pk]) in page
    assert reverse("web:environment_contacts", args=[other_firms_contact.environment.pk]) not in page


def test_the_home_page_links_to_the_readiness_page(accountant_client):
    page = accountant_client.get(reverse("web:home")).content.decode()

    assert reverse("web:readiness") in page


def test_another_firms_member_does_not_see_this_firms_environments_in_readiness(client, environment, reachable):
    client.force_login(MembershipFactory().user)

    response = client.get(reverse("web:readiness"))

    assert response.context["report"].rows == []
