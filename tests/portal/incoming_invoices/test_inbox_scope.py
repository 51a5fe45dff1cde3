"""Receiving reads only this environment's inbox, from when receiving started, and never delivers a document that is
addressed to another party; the acknowledgement uses a status the document itself allows."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.demo_data import ENVIRONMENTS
from integrations.peppol.builder import build_ubl
from integrations.peppol.model import Identifier
from portal.incoming_invoices import services
from portal.incoming_invoices.inbox_cursor import BackfillRefused, incoming_backfill
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations.models import Environment, SyncCursor
from tests.integrations.peppol.builders import dutch_customer, dutch_supplier, invoice
from tests.portal.accounts.factories import UserFactory

Status = IncomingInvoice.Status
DEMO = ENVIRONMENTS[0]  # Bakkerij De Korenschoof, 12345 production: the world's environment
OTHER_COMPANY = "0106:55556666"


def fetch_and_process(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.incoming_fetch(environment=world.environment)


def document(number: str, *, customer_kvk: str) -> bytes:
    customer = dutch_customer(endpoint=Identifier("0106", customer_kvk), legal_id=Identifier("0106", customer_kvk))
    supplier = dutch_supplier(endpoint=Identifier("0106", "40000001"), legal_id=Identifier("0106", "40000001"))
    return build_ubl(invoice(number=number, supplier=supplier, customer=customer))


def inject(world, payload: bytes, *, receiver: str = DEMO.own_identifier) -> str:
    response = world.econnect.request("POST", "/_sim/inbox", json={"receiver": receiver, "payload": payload.decode()})
    assert response.status_code == 201, response.text
    return response.json()["external_id"]


def inbox_state(world, external_id: str) -> str:
    documents = world.econnect.request("GET", "/_sim/inbox").json()["documents"]
    return next(d["state"] for d in documents if d["external_id"] == external_id)


def keys_that_see_two_companies(world, **account) -> None:
    """The environment's eConnect user also sees another company (an accountant's user with several clients)."""
    response = world.econnect.request(
        "POST",
        "/_sim/accounts",
        json={
            "app_key": DEMO.econnect_app_key,
            "app_secret": DEMO.econnect_app_secret,
            "name": DEMO.organisation_name,
            "duplicates_visible": True,
            "parties": [
                {"id": DEMO.own_identifier, "econnect_party_id": "XCNL10019"},
                {"id": OTHER_COMPANY, "econnect_party_id": "XCNL20020"},
            ],
            **account,
        },
    )
    assert response.status_code == 201, response.text


def start_reading_now(world) -> None:
    SyncCursor.objects.filter(environment=world.environment, stream=SyncCursor.Stream.ECONNECT_INBOX).update(
        position=(timezone.now() + dt.timedelta(seconds=1)).isoformat()
    )


def test_a_document_addressed_to_another_party_is_held_and_never_reaches_afas(
    world, django_capture_on_commit_callbacks
):
    start_reading_now(world)
    world.econnect.request("POST", "/_sim/clock", json={"advance": 5})
    external_id = inject(world, document("OTHER-1", customer_kvk="99998888"))

    fetch_and_process(world, django_capture_on_commit_callbacks)

    held = IncomingInvoice.objects.get(environment=world.environment, econnect_document_id=external_id)
    assert (held.status, held.hold_reason) == (Status.HELD, IncomingInvoice.HoldReason.OTHER_PARTY)
    assert held.receiver_evidence["receiver"] == "0106:99998888"
    assert held.receiver_evidence["own_identifiers"] == [DEMO.own_identifier]
    assert "0106:99998888" in held.events.get(to_status=Status.HELD).message
    assert world.delivered_to_afas() == []
    assert inbox_state(world, external_id) == "new"  # not acknowledged at eConnect either
    # "Mark as original" is for duplicates: it cannot push another party's invoice into this AFAS.
    assert not services.incoming_mark_as_original(invoice=held, actor=UserFactory(), reason="Looks fine")
    assert not services.incoming_deliver_again(invoice=held, actor=UserFactory(), reason="Try")


def test_keys_that_see_several_companies_without_a_group_id_still_deliver_nothing_of_the_other(
    world, django_capture_on_commit_callbacks
):
    keys_that_see_two_companies(world)
    start_reading_now(world)
    world.econnect.request("POST", "/_sim/clock", json={"advance": 5})
    theirs = inject(world, document("THEIRS-1", customer_kvk="55556666"), receiver=OTHER_COMPANY)
    ours = inject(world, document("OURS-1", customer_kvk=DEMO.organisation_kvk))

    fetch_and_process(world, django_capture_on_commit_callbacks)

    stored = {i.econnect_document_id: i for i in IncomingInvoice.objects.filter(environment=world.environment)}
    assert stored[theirs].hold_reason == IncomingInvoice.HoldReason.OTHER_PARTY
    assert stored[ours].status == Status.ACKNOWLEDGED
    assert [d["xml_filename"] for d in world.delivered_to_afas()] == ["OURS-1.xml"]


def test_with_its_group_id_the_environment_reads_only_its_own_company(world, django_capture_on_commit_callbacks):
    keys_that_see_two_companies(world)
    Environment.objects.filter(pk=world.environment.pk).update(econnect_group_id="XCNL10019")
    world.environment.refresh_from_db()
    start_reading_now(world)
    world.econnect.request("POST", "/_sim/clock", json={"advance": 5})
    inject(world, document("THEIRS-2", customer_kvk="55556666"), receiver=OTHER_COMPANY)
    ours = inject(world, document("OURS-2", customer_kvk=DEMO.organisation_kvk))

    result = fetch_and_process(world, django_capture_on_commit_callbacks)

    assert result.stored == 1
    assert list(IncomingInvoice.objects.filter(environment=world.environment).values_list(
        "econnect_document_id", flat=True
    )) == [ours]  # fmt: skip


def test_the_inbox_is_read_from_its_cursor_and_a_backfill_reads_earlier_documents(
    world, django_capture_on_commit_callbacks
):
    start_reading_now(world)  # the demo inbox's five documents are older than this
    world.econnect.request("POST", "/_sim/clock", json={"advance": 5})
    new = inject(world, document("NEW-1", customer_kvk=DEMO.organisation_kvk))

    first = fetch_and_process(world, django_capture_on_commit_callbacks)
    cursor = SyncCursor.objects.get(environment=world.environment, stream=SyncCursor.Stream.ECONNECT_INBOX)

    assert first.stored == 1
    assert IncomingInvoice.objects.get(environment=world.environment).econnect_document_id == new
    assert dt.datetime.fromisoformat(cursor.position) > timezone.now()  # moved to the document's CreatedOn

    person = UserFactory()
    with pytest.raises(ValueError):
        incoming_backfill(environment=world.environment, since=dt.date.today(), actor=person, reason=" ")
    with pytest.raises(BackfillRefused):
        incoming_backfill(environment=world.environment, since=dt.date(2020, 1, 1), actor=person, reason="Old")
    incoming_backfill(
        environment=world.environment,
        since=timezone.localdate() - dt.timedelta(days=1),
        actor=person,
        reason="The client asks for yesterday's invoices",
    )
    again = fetch_and_process(world, django_capture_on_commit_callbacks)

    assert again.stored == 5  # the demo documents, checked like any other
    assert world.environment.events.get(kind="inbox_backfill").actor == person


def test_the_acknowledgement_uses_a_status_the_document_allows(world, django_capture_on_commit_callbacks):
    fetch_and_process(world, django_capture_on_commit_callbacks)

    acknowledged = IncomingInvoice.objects.filter(environment=world.environment, status=Status.ACKNOWLEDGED).first()

    assert {"code": "35", "name": "Ter goedkeuring"} in acknowledged.econnect_allowed_statuses
    assert inbox_state(world, acknowledged.econnect_document_id) == "processed"


def test_a_document_whose_template_offers_no_processed_status_stays_in_afas_with_a_clear_error(
    world, django_capture_on_commit_callbacks
):
    keys_that_see_two_companies(world, inbox_template="no_processing")
    start_reading_now(world)
    world.econnect.request("POST", "/_sim/clock", json={"advance": 5})
    external_id = inject(world, document("NOACK-1", customer_kvk=DEMO.organisation_kvk))

    fetch_and_process(world, django_capture_on_commit_callbacks)

    invoice = IncomingInvoice.objects.get(environment=world.environment, econnect_document_id=external_id)
    assert invoice.status == Status.DELIVERED  # in AFAS, once; not acknowledged
    assert invoice.last_error_code == "STATUS_NOT_OFFERED"
    assert "ECONNECT_ACKNOWLEDGE_STATUSES" in invoice.last_error_text
    assert invoice.next_attempt_at - timezone.now() > dt.timedelta(minutes=30)  # not hammered
    assert len(world.delivered_to_afas()) == 1
    assert inbox_state(world, external_id) == "new"
