"""A firm admin onboards a new client in the browser alone: organisation, environment, token and keys, connection test,
own identifier, switches and a test invoice that makes the round trip. The setup checklist goes green step by step,
and nothing reaches the AFAS simulator's purchase side."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations.demo_data import NEW_CLIENT
from portal.incoming_invoices.services import incoming_fetch
from portal.organisations.models import Environment
from portal.outgoing_invoices import services as sending
from portal.outgoing_invoices.models import OutgoingInvoice

# What the firm admin reads and clicks, in each language.
WORDS = {
    "en": {
        "add organisation link": "Add a client organisation",
        "name": "Name",
        "kvk": "KvK number",
        "add organisation": "Add organisation",
        "is added": "is added",
        "participant": "AFAS participant number",
        "token": "New AFAS token",
        "app key": "New eConnect App Key",
        "secret": "New eConnect Secret",
        "add environment": "Add environment",
        "production": "Production",
        "of 8 done": "{n} of 8 done",
        "token step": "AFAS token accepted",
        "not tested": "not tested yet",
        "test connection": "Test connection",
        "done": "done",
        "connectors step": "AFAS set up: every connector, field and right the portal uses is there",
        "afas link step": "AFAS's own eConnect link does not receive for this environment",
        "confirm afas link": "Confirm: AFAS's own link does not receive",
        "keys step": "eConnect connection keys accepted",
        "identifier": "Peppol identifier",
        "add identifier": "Add and look it up",
        "registered": "is registered at eConnect",
        "identifier step": "Own Peppol identifier registered at eConnect",
        "switch sending on": "Switch sending on",
        "sending step": "Sending switched on",
        "switch receiving on": "Switch receiving on",
        "receiving step": "Receiving switched on",
        "send test invoice": "Send test invoice",
        "test invoice": "Test invoice",
        "round trip step": "A test invoice made the round trip",
        "all set": "Everything is set up",
        "setup": "Setup",
    },
    "nl": {
        "add organisation link": "Klant toevoegen",
        "name": "Naam",
        "kvk": "KvK-nummer",
        "add organisation": "Klant toevoegen",
        "is added": "is toegevoegd",
        "participant": "AFAS-deelnemersnummer",
        "token": "Nieuw AFAS-token",
        "app key": "Nieuwe eConnect App Key",
        "secret": "Nieuw eConnect Secret",
        "add environment": "Omgeving toevoegen",
        "production": "Productie",
        "of 8 done": "{n} van 8 klaar",
        "token step": "AFAS-token geaccepteerd",
        "not tested": "nog niet getest",
        "test connection": "Verbinding testen",
        "done": "klaar",
        "connectors step": "AFAS ingericht: elke connector, elk veld en elk recht dat het portaal gebruikt is er",
        "afas link step": "De eigen eConnect-koppeling van AFAS ontvangt niet voor deze omgeving",
        "confirm afas link": "Bevestig: de eigen koppeling van AFAS ontvangt niet",
        "keys step": "eConnect-verbindingssleutels geaccepteerd",
        "identifier": "Peppol-ID",
        "add identifier": "Toevoegen en opzoeken",
        "registered": "is geregistreerd bij eConnect",
        "identifier step": "Eigen Peppol-ID geregistreerd bij eConnect",
        "switch sending on": "Verzenden aanzetten",
        "sending step": "Verzenden aangezet",
        "switch receiving on": "Ontvangen aanzetten",
        "receiving step": "Ontvangen aangezet",
        "send test invoice": "Testfactuur verzenden",
        "test invoice": "Testfactuur",
        "round trip step": "Een testfactuur heeft de rondgang gemaakt",
        "all set": "Alles is ingericht",
        "setup": "Inrichting",
    },
}


def _step(page, title: str):
    return page.locator("#setup li.step").filter(has_text=title)


@pytest.mark.parametrize("language", ["en", "nl"])
def test_a_firm_admin_onboards_a_new_client_and_the_checklist_goes_green(world, context, page, shots, language):
    words = WORDS[language]
    page.set_viewport_size({"width": 1366, "height": 768})  # a laptop; the screenshots add a 375 px phone
    world.log_in(context, world.demo_user())  # the demo accountant is a firm admin
    context.add_cookies([{"name": "django_language", "value": language, "url": world.live_server.url}])
    page.goto(world.url("web:home"))
    expect(page.locator("html")).to_have_attribute("lang", language)

    page.get_by_role("link", name=words["add organisation link"]).click()
    page.get_by_label(words["name"]).fill(NEW_CLIENT.organisation_name)
    page.get_by_label(words["kvk"]).fill(NEW_CLIENT.organisation_kvk)
    page.get_by_role("button", name=words["add organisation"]).click()
    expect(page.get_by_role("status")).to_contain_text(f"{NEW_CLIENT.organisation_name} {words['is added']}")

    page.get_by_label(words["participant"]).fill(NEW_CLIENT.participant)
    page.get_by_label(words["token"]).fill(NEW_CLIENT.afas_token)
    page.get_by_label(words["app key"]).fill(NEW_CLIENT.econnect_app_key)
    page.get_by_label(words["secret"]).fill(NEW_CLIENT.econnect_app_secret)
    shots.take(f"{language} environment form")
    page.get_by_role("button", name=words["add environment"]).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"{words['production']} ({NEW_CLIENT.participant})")
    setup = page.locator("#setup")
    expect(setup).to_contain_text(words["of 8 done"].format(n=0))
    expect(_step(page, words["token step"])).to_contain_text(words["not tested"])
    shots.take(f"{language} new environment: what is missing", both=True)

    page.get_by_role("button", name=words["test connection"]).click()  # htmx: the checklist follows without a reload
    expect(_step(page, words["token step"])).to_contain_text(words["done"])
    expect(_step(page, words["connectors step"])).to_contain_text(words["done"])
    expect(_step(page, words["keys step"])).to_contain_text(words["done"])
    expect(setup).to_contain_text(words["of 8 done"].format(n=3))

    page.get_by_role("button", name=words["confirm afas link"]).click()
    expect(_step(page, words["afas link step"])).to_contain_text(words["done"])
    expect(setup).to_contain_text(words["of 8 done"].format(n=4))

    identifier = page.get_by_role("textbox", name=words["identifier"])
    expect(identifier).to_have_value(f"0106:{NEW_CLIENT.organisation_kvk}")  # suggested from the KvK number
    identifier.fill(f"NL:KVK:{NEW_CLIENT.organisation_kvk}")
    page.get_by_role("button", name=words["add identifier"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["registered"])
    expect(_step(page, words["identifier step"])).to_contain_text(words["done"])

    page.get_by_role("button", name=words["switch sending on"]).click()
    expect(_step(page, words["sending step"])).to_contain_text(words["done"])
    page.get_by_role("button", name=words["switch receiving on"]).click()
    expect(_step(page, words["receiving step"])).to_contain_text(words["done"])
    expect(setup).to_contain_text(words["of 8 done"].format(n=7))
    shots.take(f"{language} seven of eight", both=True)

    page.get_by_role("button", name=words["send test invoice"]).click()
    with world.exclusive():
        environment = Environment.objects.get(afas_participant_number=NEW_CLIENT.participant)
        invoice = OutgoingInvoice.objects.get(environment=environment, is_test=True)
    expect(page.get_by_role("region", name=words["test invoice"], exact=True)).to_contain_text(invoice.invoice_number)
    # What beat does a little later: eConnect delivers it, the status poll sees it, the inbox fetch gets it back.
    assert world.econnect_control("POST", "/_sim/clock", json={"advance": 120}).status_code == 200
    with world.exclusive():
        sending.outgoing_follow_status(invoice=invoice)
        incoming_fetch(environment=environment)
    expect(_step(page, words["round trip step"])).to_contain_text(words["done"])
    expect(setup).to_contain_text(words["of 8 done"].format(n=8))
    expect(setup).to_contain_text(words["all set"])
    shots.take(f"{language} set up", both=True)

    key = f"{NEW_CLIENT.participant}-{NEW_CLIENT.environment_type}"
    booked = world.afas_control("GET", f"/_sim/environments/{key}/delivered").json()
    assert f"{invoice.invoice_number}.xml" not in {entry["xml_filename"] for entry in booked["purchase_invoices"]}
    assert booked["journal_entries"] == []

    page.goto(world.url("web:home"))
    expect(page.get_by_role("row").filter(has_text=NEW_CLIENT.organisation_name)).not_to_contain_text(
        re.compile(re.escape(words["setup"]) + r" \d/8")
    )
