"""Walks EVERY URL of the portal (the ``web`` namespace) and checks who may reach it.

- another firm's object: 404 for GET and POST (405 where the method is not served at all);
- roles: viewers get 403 on every action, accountants on firm-admin-only pages and actions;
- every page opens (200) for each member who may see it;
- anonymous visitors are sent to the login page; a session that still owes its two-factor code to the code step;
- a POST without a CSRF token is refused.

A new URL with an id cannot escape: ``OBJECTS`` must say how to build the object it points to, or the walk fails and
names the URL. To add a page: add its name to ``OBJECTS`` (URLs with an id), and to ``FIRM_ADMIN_ONLY`` or
``SELF_SERVICE`` if it is one of those.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from portal.accounts.models import Membership
from portal.organisations.models import Firm
from portal.web import urls as web_urls
from tests.portal.accounts.factories import MembershipFactory
from tests.portal.accounts.totp import confirmed_device
from tests.portal.contacts.factories import ContactFactory, ContactJobFactory
from tests.portal.incoming_invoices.factories import IncomingInvoiceFactory, SupplierResponseFactory
from tests.portal.organisations.factories import EnvironmentFactory, FirmFactory, OrganisationFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role

# --- how to build, for a firm, the object each URL with an id points to ---------------------------------------------


def organisation(firm: Firm) -> dict:
    return {"pk": OrganisationFactory(firm=firm).pk}


def environment(firm: Firm) -> dict:
    return {"pk": EnvironmentFactory(organisation__firm=firm).pk}


def own_identifier(firm: Firm) -> dict:
    from tests.portal.organisations.factories import OwnPeppolIdentifierFactory

    own = OwnPeppolIdentifierFactory(environment__organisation__firm=firm)
    return {"pk": own.environment_id, "identifier_pk": own.pk}


def outgoing_invoice(firm: Firm) -> dict:
    return {"pk": OutgoingInvoiceFactory(environment__organisation__firm=firm).pk}


def incoming_invoice(firm: Firm) -> dict:
    return {"pk": IncomingInvoiceFactory(environment__organisation__firm=firm).pk}


# A UBL invoice with an embedded PDF, for the attachment downloads.
WITH_ATTACHMENT = (Path(__file__).parents[2] / "fixtures" / "peppol" / "edge" / "nlcius_invoice.xml").read_bytes()


def outgoing_attachment(firm: Firm) -> dict:
    invoice = OutgoingInvoiceFactory(environment__organisation__firm=firm, ubl=WITH_ATTACHMENT)
    return {"pk": invoice.pk, "index": 0}


def incoming_attachment(firm: Firm) -> dict:
    document = IncomingInvoiceFactory(
        environment__organisation__firm=firm,
        raw_xml=WITH_ATTACHMENT,
        attachments=[{"index": 0, "filename": "invoice.pdf", "mime_code": "application/pdf", "size": 1}],
    )
    return {"pk": document.pk, "index": 0}


def supplier_response(firm: Firm) -> dict:
    response = SupplierResponseFactory(
        incoming_invoice__environment__organisation__firm=firm, actor=MembershipFactory(firm=firm).user, state="failed"
    )
    return {"pk": response.incoming_invoice_id, "response_pk": response.pk}


def customer(firm: Firm) -> dict:
    return {"pk": ContactFactory(environment__organisation__firm=firm).pk}


def contact_job(firm: Firm) -> dict:
    return {"pk": ContactJobFactory(environment__organisation__firm=firm).pk}


def member(firm: Firm) -> dict:
    return {"pk": MembershipFactory(firm=firm, role=Role.ACCOUNTANT).pk}


def reconciliation_finding(firm: Firm) -> dict:
    from tests.portal.reconciliation.factories import FindingFactory

    return {"pk": FindingFactory(environment__organisation__firm=firm).pk}


# Every URL of the ``web`` namespace that takes an id: its name -> the object of a given firm.
OBJECTS: dict[str, Callable[[Firm], dict]] = {
    "organisation_detail": organisation,
    "environment_detail": environment,
    "environment_settings": environment,
    "environment_test_connection": environment,
    "environment_send_test_invoice": environment,
    "environment_test_invoice_status": environment,
    "environment_set_sending": environment,
    "environment_set_receiving": environment,
    "environment_route_check": environment,
    "environment_afas_setup": environment,
    "environment_confirm_afas_link": environment,
    "environment_connect_webhooks": environment,
    "environment_set_up_afas_webhooks": environment,
    "environment_identifier_add": environment,
    "environment_identifier_remove": own_identifier,
    "environment_contacts": environment,
    "environment_contacts_csv": environment,
    "environment_contacts_sync": environment,
    "contact_job_start": environment,
    "contact_confirm": customer,
    "contact_look_up": customer,
    "contact_job_detail": contact_job,
    "contact_job_progress": contact_job,
    "contact_job_cancel": contact_job,
    "outgoing_detail": outgoing_invoice,
    "outgoing_status": outgoing_invoice,
    "outgoing_retry": outgoing_invoice,
    "outgoing_download": outgoing_invoice,
    "outgoing_attachment": outgoing_attachment,
    "incoming_detail": incoming_invoice,
    "incoming_status": incoming_invoice,
    "incoming_download": incoming_invoice,
    "incoming_attachment": incoming_attachment,
    "incoming_mark_as_original": incoming_invoice,
    "incoming_deliver_again": incoming_invoice,
    "incoming_confirm_in_afas": incoming_invoice,
    "incoming_respond": incoming_invoice,
    "incoming_response_retry": supplier_response,
    "team_member_role": member,
    "team_member_deactivate": member,
    "team_member_reactivate": member,
    "team_member_password_link": member,
    "team_member_two_factor_reset": member,
    "reconciliation_fix": reconciliation_finding,
    "reconciliation_dismiss": reconciliation_finding,
}

# Pages and actions for firm admins only: accountants and viewers get 403.
FIRM_ADMIN_ONLY = {
    "team",
    "team_invite",
    "team_member_role",
    "team_member_deactivate",
    "team_member_reactivate",
    "team_member_password_link",
    "team_member_two_factor_reset",
    "account_two_factor_start",
    "account_two_factor_confirm",
    "account_two_factor_disable",
    "organisation_new",
    "environment_new",
    "environment_settings",
    "environment_connect_webhooks",
    "environment_set_up_afas_webhooks",
    "environment_identifier_add",
    "environment_identifier_remove",
    "onboarding_import",
    "onboarding_import_create",
    "onboarding_import_template",
    "incoming_mark_as_original",
}

# Actions every member may take on their own account, viewers included.
SELF_SERVICE = {"account_password_change"}

# Polled fragments: fetched the way htmx fetches them (without htmx some redirect to their full page).
HTMX_FRAGMENTS = {"outgoing_status", "incoming_status", "contact_job_progress", "environment_test_invoice_status"}

# Pages whose GET answers with a redirect by design (none so far).
GET_REDIRECTS: set[str] = set()


# --- the walk --------------------------------------------------------------------------------------------------------


def _walk(patterns, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _walk(entry.url_patterns, prefix)
        else:
            found.append((entry.name, entry))
    return found


WEB_URLS: dict[str, URLPattern] = dict(_walk(web_urls.urlpatterns))
ALL_NAMES = sorted(WEB_URLS)


def _arguments(pattern: URLPattern) -> set[str]:
    converters = getattr(pattern.pattern, "converters", None)
    return set(converters) if converters is not None else set(pattern.pattern.regex.groupindex)


NAMES_WITH_ID = sorted(name for name, pattern in WEB_URLS.items() if _arguments(pattern))


def url_for(name: str, firm: Firm) -> str:
    if not _arguments(WEB_URLS[name]):
        return reverse(f"web:{name}")
    if name not in OBJECTS:
        pytest.fail(f"web:{name} takes an id but OBJECTS in {__name__} does not say which object; add it.")
    return reverse(f"web:{name}", kwargs=OBJECTS[name](firm))


def logged_in(membership: Membership, **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(membership.user)
    return client


def methods_served(url: str) -> set[str]:
    """The methods a URL serves at all (a view decorated with ``require_GET``/``require_POST`` answers others with
    405 before anything else), asked anonymously so nothing happens."""
    anonymous = Client()
    return {method for method in ("GET", "POST") if getattr(anonymous, method.lower())(url).status_code != 405}


@pytest.fixture
def own_firm(membership) -> Firm:
    return membership.firm


@pytest.fixture
def clients(membership, viewer_membership, firm_admin_membership) -> dict[str, Client]:
    return {
        Role.VIEWER: logged_in(viewer_membership),
        Role.ACCOUNTANT: logged_in(membership),
        Role.FIRM_ADMIN: logged_in(firm_admin_membership),
    }


def test_the_walk_knows_every_url_with_an_id():
    unknown = sorted(set(NAMES_WITH_ID) - set(OBJECTS))
    assert not unknown, f"URLs with an id that OBJECTS cannot build an object for: {', '.join(unknown)}"


def test_the_walks_lists_name_only_urls_that_exist():
    listed = set(OBJECTS) | FIRM_ADMIN_ONLY | SELF_SERVICE | HTMX_FRAGMENTS | GET_REDIRECTS
    stale = sorted(listed - set(WEB_URLS))
    assert not stale, f"names listed in {__name__} that are no longer URLs: {', '.join(stale)}"


def test_every_web_url_has_a_unique_name():
    names = [name for name, _pattern in _walk(web_urls.urlpatterns)]
    assert None not in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", NAMES_WITH_ID)
def test_another_firms_object_is_not_found(name, firm_admin_membership):
    """As a firm admin, so no role check can hide a missing firm scope."""
    client = logged_in(firm_admin_membership)
    url = url_for(name, FirmFactory())

    statuses = {"GET": client.get(url).status_code, "POST": client.post(url).status_code}

    assert set(statuses.values()) <= {404, 405}, statuses
    assert 404 in statuses.values(), statuses


@pytest.mark.parametrize("name", ALL_NAMES)
def test_viewers_cannot_act_and_accountants_cannot_do_firm_admin_things(name, own_firm, clients):
    url = url_for(name, own_firm)
    if "POST" not in methods_served(url):
        pytest.skip("serves no POST")
    if name in SELF_SERVICE:
        pytest.skip("every member may do this to their own account")
    forbidden = {Role.VIEWER, Role.ACCOUNTANT} if name in FIRM_ADMIN_ONLY else {Role.VIEWER}

    for role in forbidden:
        response = clients[role].post(url)
        assert response.status_code == 403, f"{role} POST web:{name}: {response.status_code}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_page_opens_for_each_member_who_may_see_it(name, own_firm, clients):
    url = url_for(name, own_firm)
    if "GET" not in methods_served(url):
        pytest.skip("a POST-only action")
    expected_ok = 302 if name in GET_REDIRECTS else 200
    headers = {"HX-Request": "true"} if name in HTMX_FRAGMENTS else {}

    for role, client in clients.items():
        response = client.get(url, headers=headers)
        expected = 403 if name in FIRM_ADMIN_ONLY and role != Role.FIRM_ADMIN else expected_ok
        assert response.status_code == expected, f"{role} GET web:{name}: {response.status_code}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_anonymous_visitors_are_sent_to_the_login_page(name, own_firm, client):
    url = url_for(name, own_firm)

    responses = {"GET": client.get(url), "POST": client.post(url)}

    served = {method: response for method, response in responses.items() if response.status_code != 405}
    assert served, f"web:{name} serves neither GET nor POST"
    for method, response in served.items():
        assert response.status_code == 302, f"{method} web:{name}: {response.status_code}"
        assert response["Location"].startswith(reverse("login") + "?next="), response["Location"]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_a_session_that_owes_its_two_factor_code_is_sent_to_the_code_step(name, own_firm, firm_admin_membership):
    confirmed_device(firm_admin_membership.user)
    client = logged_in(firm_admin_membership)  # the password step only: the session has not given a code
    url = url_for(name, own_firm)

    responses = {"GET": client.get(url), "POST": client.post(url)}

    served = {method: response for method, response in responses.items() if response.status_code != 405}
    assert served
    for method, response in served.items():
        assert response.status_code == 302, f"{method} web:{name}: {response.status_code}"
        assert response["Location"].startswith(reverse("login_code")), response["Location"]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_a_post_without_a_csrf_token_is_refused(name, own_firm, firm_admin_membership):
    client = logged_in(firm_admin_membership, enforce_csrf_checks=True)

    response = client.post(url_for(name, own_firm))

    assert response.status_code == 403
    assert b"CSRF" in response.content
