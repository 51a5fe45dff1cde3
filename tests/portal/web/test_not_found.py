"""A page that is not there is the portal's own page, never Django's technical page that lists every URL."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_address_shows_the_portals_own_page(accountant_client, settings, debug):
    settings.DEBUG = debug

    response = accountant_client.get("/no/such/page/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing at this address" in page
    assert "URLconf" not in page and "outbox/" not in page.split("<main", 1)[1].split("To the dashboard")[0]


def test_another_firms_object_shows_the_same_page_with_debug_on(accountant_client, settings):
    from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

    settings.DEBUG = True
    theirs = OutgoingInvoiceFactory()

    response = accountant_client.get(f"/outbox/{theirs.pk}/")

    assert response.status_code == 404
    assert "There is nothing at this address" in response.content.decode()
    assert "Raised by" not in response.content.decode()


def test_the_not_found_page_is_dutch_for_a_dutch_reader(client, settings):
    settings.DEBUG = True
    client.cookies["django_language"] = "nl"

    assert "Niet gevonden" in client.get("/no/such/page/").content.decode()
