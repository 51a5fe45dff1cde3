"""The environment page: settings (firm admins), write-only keys, test connection, switches and the test invoice."""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Membership
from portal.events.models import Event
from portal.organisations import clients
from portal.organisations.models import Environment, Organisation
from portal.organisations.services import environment_set_credentials
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.accounts.factories import MembershipFactory
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory, OwnPeppolIdentifierFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db

SECRETS = {
    "afas_token": "AFAS-TOKEN-SECRET",
    "econnect_app_key": "ECONNECT-KEY-SECRET",
    "econnect_app_secret": "ECONNECT-SECRET-SECRET",
}
Status = OutgoingInvoice.Status


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(
        organisation=OrganisationFactory(firm=membership.firm, name="Own Client B.V."),
        afas_participant_number="12121",
        poll_interval_seconds=300,
    )


@pytest.fixture
def with_keys(environment):
    environment_set_credentials(environment=environment, actor=None, **SECRETS)
    return environment


def stored(environment) -> Environment:
    return Environment.objects.get(pk=environment.pk)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def settings_data(environment, **overrides) -> dict:
    data = {
        "afas_participant_number": environment.afas_participant_number,
        "afas_environment_type": environment.afas_environment_type,
        "afas_edition": environment.afas_edition,
        "poll_interval_seconds": environment.poll_interval_seconds,
        "afas_sb_domain": "",
        "afas_sb_administration_id": "",
        "afas_sb_ledger_account_id": "",
        "afas_sb_relation_id": "",
        "afas_token": "",
        "econnect_app_key": "",
        "econnect_app_secret": "",
    }
    return {**data, **overrides}


# --- who may do what -------------------------------------------------------------------------------------------------

ACTIONS = [
    ("web:environment_test_connection", {}),
    ("web:environment_send_test_invoice", {}),
    ("web:environment_set_sending", {"enabled": "on"}),
    ("web:environment_set_receiving", {"enabled": "on"}),
    ("web:environment_route_check", {}),
    ("web:environment_settings", {}),
]


@pytest.mark.parametrize("url_name, data", ACTIONS)
def test_a_viewer_is_refused_every_action(viewer_client, environment, url_name, data, monkeypatch):
    monkeypatch.setattr(clients, "afas_client_for", lambda *a, **k: pytest.fail("a viewer reached AFAS"))

    response = viewer_client.post(reverse(url_name, args=[environment.pk]), data)

    assert response.status_code == 403


@pytest.mark.parametrize("url_name", ["web:environment_new", "web:organisation_new"])
def test_a_viewer_cannot_add_organisations_or_environments(viewer_client, url_name):
    assert viewer_client.post(reverse(url_name), {}).status_code == 403


@pytest.mark.parametrize("url_name", ["web:environment_new", "web:organisation_new"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_accountant_cannot_manage_organisations_or_environments(accountant_client, url_name, method):
    assert getattr(accountant_client, method)(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_accountant_cannot_change_settings(accountant_client, environment, method):
    response = getattr(accountant_client, method)(
        reverse("web:environment_settings", args=[environment.pk]),
        settings_data(environment, poll_interval_seconds=900),
    )

    assert response.status_code == 403
    assert stored(environment).poll_interval_seconds == 300


@pytest.mark.parametrize(
    "url_name",
    [
        "web:environment_detail",
        "web:environment_settings",
    ],
)
def test_another_firms_environment_pages_are_not_found(firm_admin_client, url_name):
    other = EnvironmentFactory()

    assert firm_admin_client.get(reverse(url_name, args=[other.pk])).status_code == 404


@pytest.mark.parametrize("url_name, data", ACTIONS)
def test_another_firms_environment_cannot_be_acted_on(firm_admin_client, url_name, data):
    other = EnvironmentFactory()

    assert firm_admin_client.post(reverse(url_name, args=[other.pk]), data).status_code == 404


@pytest.mark.parametrize(
    "url_name", ["web:environment_test_connection", "web:environment_set_sending", "web:environment_send_test_invoice"]
)
def test_actions_are_post_only(accountant_client, environment, url_name):
    assert accountant_client.get(reverse(url_name, args=[environment.pk])).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(firm_admin_membership, environment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(firm_admin_membership.user)

    response = client.post(reverse("web:environment_set_sending", args=[environment.pk]), {"enabled": "off"})

    assert response.status_code == 403


# --- the page --------------------------------------------------------------------------------------------------------


def test_the_page_summarises_the_settings_and_links_onwards(accountant_client, with_keys):
    page = accountant_client.get(reverse("web:environment_detail", args=[with_keys.pk])).content.decode()

    assert "Own Client B.V." in page
    assert "12121" in page
    assert "AFAS Profit" in page
    assert "300 seconds" in page
    assert page.count("set on ") == 2
    assert reverse("web:environment_contacts", args=[with_keys.pk]) in page
    assert f"{reverse('web:outbox')}?environment={with_keys.pk}" in page
    assert f"{reverse('web:inbox')}?environment={with_keys.pk}" in page
    assert "Test connection" in page
    # Settings are the firm admin's.
    assert reverse("web:environment_settings", args=[with_keys.pk]) not in page


def test_the_page_shows_small_business_settings_for_small_business_only(accountant_client, environment):
    profit_page = accountant_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()
    Environment.objects.filter(pk=environment.pk).update(
        afas_edition=Environment.Edition.SMALL_BUSINESS, afas_sb_domain="acme"
    )

    page = accountant_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()

    assert "AFAS Small Business domain" not in profit_page
    assert "AFAS Small Business domain" in page
    assert "<code>acme</code>" in page


def test_firm_admins_find_the_settings_from_the_page(firm_admin_client, environment):
    page = firm_admin_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()

    assert reverse("web:environment_settings", args=[environment.pk]) in page


def test_viewers_see_the_page_without_any_action(viewer_client, with_keys):
    page = viewer_client.get(reverse("web:environment_detail", args=[with_keys.pk])).content.decode()

    assert "12121" in page
    for action in ("Test connection", "Send test invoice", "Switch sending", "Switch receiving"):
        assert action not in page


def test_the_page_never_shows_the_credentials(firm_admin_client, with_keys):
    for url_name in ("web:environment_detail", "web:environment_settings"):
        page = firm_admin_client.get(reverse(url_name, args=[with_keys.pk])).content.decode()
        for secret in SECRETS.values():
            assert secret not in page


def test_recent_invoices_show_their_amount_and_status(accountant_client, environment):
    OutgoingInvoiceFactory(environment=environment, invoice_number="F-88", status=Status.FAILED)

    page = accountant_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()

    assert "F-88" in page
    assert "Failed" in page
    assert "121.00" in page


# --- settings --------------------------------------------------------------------------------------------------------


def test_the_settings_form_starts_with_the_settings_and_empty_key_fields(firm_admin_client, with_keys):
    page = firm_admin_client.get(reverse("web:environment_settings", args=[with_keys.pk])).content.decode()

    assert 'value="12121"' in page
    assert "csrfmiddlewaretoken" in page
    for name in SECRETS:
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'type="password"' in field
        assert "value=" not in field


def test_a_firm_admin_changes_the_settings(firm_admin_client, firm_admin_membership, with_keys):
    response = firm_admin_client.post(
        reverse("web:environment_settings", args=[with_keys.pk]),
        settings_data(with_keys, poll_interval_seconds=900, afas_environment_type="accept"),
    )

    assert response.status_code == 302
    environment = stored(with_keys)
    assert (environment.poll_interval_seconds, environment.afas_environment_type) == (900, "accept")
    assert Event.objects.get(environment=with_keys, kind="settings_changed").actor == firm_admin_membership.user


def test_blank_key_fields_keep_the_stored_keys(firm_admin_client, with_keys):
    before = stored(with_keys)

    firm_admin_client.post(reverse("web:environment_settings", args=[with_keys.pk]), settings_data(with_keys))

    after = stored(with_keys)
    assert (after.afas_token, after.econnect_app_key, after.econnect_app_secret) == tuple(SECRETS.values())
    assert (after.afas_token_set_at, after.econnect_keys_set_at) == (
        before.afas_token_set_at,
        before.econnect_keys_set_at,
    )
    assert not Event.objects.filter(environment=with_keys, kind="credentials_changed").exclude(actor=None).exists()


def test_a_new_token_replaces_the_stored_one_through_the_audited_service(firm_admin_client, with_keys):
    firm_admin_client.post(
        reverse("web:environment_settings", args=[with_keys.pk]), settings_data(with_keys, afas_token="NEW-TOKEN")
    )

    assert stored(with_keys).afas_token == "NEW-TOKEN"
    event = Event.objects.filter(environment=with_keys, kind="credentials_changed").latest("pk")
    assert event.message == "Credentials changed: AFAS token replaced."


def test_the_remove_boxes_clear_the_stored_keys(firm_admin_client, with_keys):
    firm_admin_client.post(
        reverse("web:environment_settings", args=[with_keys.pk]),
        settings_data(with_keys, clear_afas_token="on", clear_econnect_keys="on"),
    )

    environment = stored(with_keys)
    assert (environment.afas_token, environment.econnect_app_key, environment.econnect_app_secret) == ("", "", "")
    assert not environment.has_afas_token and not environment.has_econnect_keys


def test_a_refused_form_never_echoes_a_typed_secret(firm_admin_client, with_keys):
    response = firm_admin_client.post(
        reverse("web:environment_settings", args=[with_keys.pk]),
        settings_data(with_keys, afas_participant_number="12", afas_token="TYPED-BUT-REFUSED"),
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "An AFAS participant number has 5 or 6 digits" in page
    assert "TYPED-BUT-REFUSED" not in page
    assert stored(with_keys).afas_token == SECRETS["afas_token"]


def test_econnect_key_and_secret_go_together(firm_admin_client, with_keys):
    response = firm_admin_client.post(
        reverse("web:environment_settings", args=[with_keys.pk]),
        settings_data(with_keys, econnect_app_key="ONLY-THE-KEY"),
    )

    assert "The eConnect App Key and Secret belong together: enter both." in response.content.decode()
    assert stored(with_keys).econnect_app_key == SECRETS["econnect_app_key"]


def test_another_environments_participant_number_is_a_form_error_not_a_crash(firm_admin_client, environment):
    EnvironmentFactory(afas_participant_number="34343")

    response = firm_admin_client.post(
        reverse("web:environment_settings", args=[environment.pk]),
        settings_data(environment, afas_participant_number="34343"),
    )

    assert response.status_code == 200
    assert "AFAS participant 34343 (Production) is already set up in the portal" in response.content.decode()
    assert stored(environment).afas_participant_number == "12121"


def test_small_business_needs_its_domain(firm_admin_client, environment):
    response = firm_admin_client.post(
        reverse("web:environment_settings", args=[environment.pk]),
        settings_data(environment, afas_edition="small_business"),
    )

    assert "AFAS Small Business needs its domain." in response.content.decode()
    assert stored(environment).afas_edition == "profit"


def test_a_firm_admin_adds_an_environment_with_its_keys(firm_admin_client, firm_admin_membership):
    organisation = OrganisationFactory(firm=firm_admin_membership.firm)
    data = settings_data(EnvironmentFactory.build(afas_participant_number="56565", poll_interval_seconds=120))

    response = firm_admin_client.post(
        reverse("web:environment_new"), {**data, "organisation": organisation.pk, **SECRETS}
    )

    environment = Environment.objects.get(afas_participant_number="56565")
    assert response["Location"] == reverse("web:environment_detail", args=[environment.pk])
    assert environment.organisation == organisation
    assert environment.has_afas_token and environment.has_econnect_keys


def test_an_environment_cannot_be_added_to_another_firms_organisation(firm_admin_client):
    other = OrganisationFactory()
    data = settings_data(EnvironmentFactory.build(afas_participant_number="56565"))

    response = firm_admin_client.post(reverse("web:environment_new"), {**data, "organisation": other.pk})

    assert response.status_code == 200
    assert not Environment.objects.filter(afas_participant_number="56565").exists()


def test_the_new_environment_form_offers_the_firms_organisations_only(firm_admin_client, environment):
    other = OrganisationFactory(name="Somebody Else's Client")

    page = firm_admin_client.get(
        f"{reverse('web:environment_new')}?organisation={environment.organisation.pk}"
    ).content.decode()

    assert f'<option value="{environment.organisation.pk}" selected>Own Client B.V.</option>' in page
    assert other.name not in page


def test_a_firm_admin_adds_an_organisation(firm_admin_client, firm_admin_membership):
    response = firm_admin_client.post(reverse("web:organisation_new"), {"name": "Nieuw B.V.", "kvk_number": "87654321"})

    organisation = Organisation.objects.get(kvk_number="87654321")
    assert organisation.firm == firm_admin_membership.firm
    assert response["Location"] == f"{reverse('web:environment_new')}?organisation={organisation.pk}"


@pytest.mark.parametrize(
    "kvk, error",
    [("123", "A KvK number has exactly 8 digits."), ("11112222", "The firm already has a client with KvK number")],
)
def test_an_organisation_with_a_wrong_or_taken_kvk_number_is_a_form_error(
    firm_admin_client, firm_admin_membership, kvk, error
):
    OrganisationFactory(firm=firm_admin_membership.firm, kvk_number="11112222")

    response = firm_admin_client.post(reverse("web:organisation_new"), {"name": "Nieuw B.V.", "kvk_number": kvk})

    assert response.status_code == 200
    assert error in response.content.decode()


# --- test connection -------------------------------------------------------------------------------------------------


@pytest.fixture
def world(contacts_world, monkeypatch, settings):
    """Both simulators in-process; a firm admin and an accountant of the demo firm are logged in."""
    econnect_transport = contacts_world.lookup_transport.inner
    make_gateway = clients.econnect_gateway_for
    monkeypatch.setattr(clients, "econnect_gateway_for", lambda env: make_gateway(env, transport=econnect_transport))
    settings.ECONNECT_SOAP_URL = "http://127.0.0.1:8102/soap/v3.1"
    return contacts_world


def logged_in(world, role) -> Client:
    client = Client()
    client.force_login(MembershipFactory(firm=world.environment.organisation.firm, role=role).user)
    return client


def test_an_accountant_tests_the_connection_and_sees_the_result_in_place(world):
    client = logged_in(world, Membership.Role.ACCOUNTANT)

    response = client.post(
        reverse("web:environment_test_connection", args=[world.environment.pk]), HTTP_HX_REQUEST="true"
    )

    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment
    assert "Connection works" in fragment
    assert "Connected to AFAS environment" in fragment
    assert "eConnect accepted the connection keys." in fragment


def test_a_rejected_token_is_shown_exactly(world):
    environment_set_credentials(environment=world.environment, actor=None, afas_token="<token><data>x</data></token>")
    client = logged_in(world, Membership.Role.ACCOUNTANT)

    fragment = client.post(
        reverse("web:environment_test_connection", args=[world.environment.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()

    assert "Connection fails" in fragment
    assert "HTTP 401 · token rejected" in fragment
    assert "AFAS refused the token for metainfo: check that the token belongs to this environment" in fragment
    assert "AfasAuthenticationError" in fragment


def test_without_javascript_the_result_comes_as_messages_and_stays_on_the_page(world):
    environment_set_credentials(
        environment=world.environment, actor=None, econnect_app_key="k", econnect_app_secret="s"
    )
    client = logged_in(world, Membership.Role.FIRM_ADMIN)

    response = client.post(reverse("web:environment_test_connection", args=[world.environment.pk]))

    assert response["Location"] == reverse("web:environment_detail", args=[world.environment.pk])
    shown = messages_of(response)
    assert shown[0].startswith("AFAS: OK. Connected to AFAS environment")
    assert shown[1] == (
        "eConnect: HTTP 500, credentials not accepted, ERRIAU6000007: eConnect Login: Invalid consumer key or "
        "security token [ERRIAU6000007]"
    )
    page = client.get(response["Location"]).content.decode()
    assert "ERRIAU6000007" in page  # the last result is shown on the page itself too


# --- sending switch --------------------------------------------------------------------------------------------------


def switch_sending(client, environment, enabled):
    return client.post(reverse("web:environment_set_sending", args=[environment.pk]), {"enabled": enabled})


def test_sending_is_refused_without_keys_and_the_page_says_why(accountant_client, environment):
    OwnPeppolIdentifierFactory(environment=environment)

    response = switch_sending(accountant_client, environment, "on")

    assert messages_of(response) == [
        "Sending stays off: The AFAS token is not set. The eConnect connection keys (App Key and Secret) are not set."
    ]
    assert stored(environment).sending_enabled is False
    page = accountant_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()
    assert "Sending cannot be switched on yet:" in page


def test_an_accountant_switches_sending_on_and_off(accountant_client, membership, with_keys):
    OwnPeppolIdentifierFactory(environment=with_keys)

    assert messages_of(switch_sending(accountant_client, with_keys, "on")) == ["Sending is switched on."]
    assert stored(with_keys).sending_enabled is True
    assert (
        "Switch sending off"
        in accountant_client.get(reverse("web:environment_detail", args=[with_keys.pk])).content.decode()
    )
    assert messages_of(switch_sending(accountant_client, with_keys, "off")) == ["Sending is switched off."]
    assert stored(with_keys).sending_enabled is False
    assert Event.objects.filter(environment=with_keys, kind="sending_switched", actor=membership.user).count() == 2


def test_an_unknown_sending_value_is_a_bad_request(accountant_client, with_keys):
    assert switch_sending(accountant_client, with_keys, "yes").status_code == 400


# --- test invoice and its live status --------------------------------------------------------------------------------


def section_of_test_invoice(page: str) -> str:
    return page.split('id="test-invoice"', 1)[1].split("</section>", 1)[0]


def test_sending_a_test_invoice_with_htmx_answers_its_polling_status(accountant_client, environment):
    OwnPeppolIdentifierFactory(environment=environment)

    response = accountant_client.post(
        reverse("web:environment_send_test_invoice", args=[environment.pk]), HTTP_HX_REQUEST="true"
    )

    invoice = OutgoingInvoice.objects.get(environment=environment, is_test=True)
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert invoice.invoice_number in fragment
    assert "New" in fragment
    assert f'hx-get="{reverse("web:environment_test_invoice_status", args=[environment.pk])}"' in fragment
    assert 'hx-trigger="every 3s"' in fragment


def test_without_javascript_a_test_invoice_is_announced_and_shown_on_the_page(accountant_client, environment):
    OwnPeppolIdentifierFactory(environment=environment)

    response = accountant_client.post(reverse("web:environment_send_test_invoice", args=[environment.pk]))

    invoice = OutgoingInvoice.objects.get(environment=environment, is_test=True)
    assert messages_of(response) == [f"Test invoice {invoice.invoice_number} is on its way; its status shows below."]
    page = accountant_client.get(response["Location"]).content.decode()
    assert invoice.invoice_number in section_of_test_invoice(page)


def test_a_test_invoice_that_cannot_be_made_says_why_in_place(accountant_client, environment):
    response = accountant_client.post(
        reverse("web:environment_send_test_invoice", args=[environment.pk]), HTTP_HX_REQUEST="true"
    )

    assert "no own Peppol identifier to send from" in response.content.decode()
    assert not OutgoingInvoice.objects.exists()


def make_test_invoice(environment, status, number) -> OutgoingInvoice:
    # Past "ready" an invoice keeps the reference it was submitted with (a database rule).
    return OutgoingInvoiceFactory(
        environment=environment, is_test=True, status=status, invoice_number=number, submission_reference=number
    )


@pytest.mark.parametrize(
    "status, polls",
    [(Status.NEW, True), (Status.SUBMITTED, True), (Status.RETRY_WAIT, True), (Status.DELIVERED, False),
     (Status.FAILED, False), (Status.NEEDS_ATTENTION, False)],
)  # fmt: skip
def test_the_page_shows_the_latest_test_invoice_polling_until_it_is_final(viewer_client, environment, status, polls):
    make_test_invoice(environment, status, "TEST-OLD")
    make_test_invoice(environment, status, "TEST-NEW")
    OutgoingInvoiceFactory(environment=environment, is_test=False, invoice_number="F-REAL")

    page = viewer_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()

    section = section_of_test_invoice(page)
    assert "TEST-NEW" in section
    assert "TEST-OLD" not in section and "F-REAL" not in section
    assert str(OutgoingInvoice.Status(status).label) in section
    assert 'aria-live="polite"' in section
    assert (f'hx-get="{reverse("web:environment_test_invoice_status", args=[environment.pk])}"' in section) is polls
    assert ('hx-trigger="every 3s"' in section) is polls


def test_a_returned_test_invoice_shows_the_round_trip_and_stops_polling(viewer_client, environment):
    returned = make_test_invoice(environment, Status.DELIVERED, "TEST-BACK")
    OutgoingInvoice.objects.filter(pk=returned.pk).update(returned_at=timezone.now(), returned_document_id="XCNIN9")
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True)

    section = section_of_test_invoice(
        viewer_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()
    )

    assert "Received back on" in section and "the connection works both ways" in section
    assert "hx-trigger" not in section


def test_a_delivered_test_invoice_is_awaited_back_only_while_receiving_is_on(viewer_client, environment):
    make_test_invoice(environment, Status.DELIVERED, "TEST-AWAY")
    page_url = reverse("web:environment_detail", args=[environment.pk])

    receiving_off = section_of_test_invoice(viewer_client.get(page_url).content.decode())
    Environment.objects.filter(pk=environment.pk).update(receiving_enabled=True)
    receiving_on = section_of_test_invoice(viewer_client.get(page_url).content.decode())

    assert "Switch receiving on to see it come back" in receiving_off and "hx-trigger" not in receiving_off
    assert "waiting for it to come back" in receiving_on and 'hx-trigger="every 3s"' in receiving_on


def test_a_token_far_longer_than_a_credential_is_refused_on_the_server(firm_admin_client, with_keys):
    response = firm_admin_client.post(
        reverse("web:environment_settings", args=[with_keys.pk]), settings_data(with_keys, afas_token="x" * 200_000)
    )

    assert response.status_code == 200  # the form again, with the problem
    assert "at most 2000 characters" in response.content.decode()
    assert stored(with_keys).afas_token == SECRETS["afas_token"]


def test_the_credentials_service_refuses_what_cannot_be_a_credential(with_keys):
    from portal.organisations.services import SettingsRefused

    with pytest.raises(SettingsRefused, match="far longer than a credential"):
        environment_set_credentials(environment=with_keys, actor=None, econnect_app_secret="s" * 5000)
