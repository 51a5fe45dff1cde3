from datetime import UTC, datetime

import pytest

from integrations.afas.models import Debtor
from integrations.peppol.identifiers import PeppolIdentifier
from portal.contacts.models import ContactIdentifier
from portal.contacts.services import contact_candidate_identifiers, contact_upsert_debtor, derive_identifiers
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def debtor(**fields) -> Debtor:
    values = dict(
        number="10001",
        name="Restaurant De Gouden Leeuw",
        organisation_code="ORG1",
        kvk="",
        vat="",
        oin="",
        econnect_id="",
        issue_method="R",
        email="",
        blocked=False,
        modified_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    values.update(fields)
    return Debtor(**values)


def test_identifiers_are_derived_from_every_afas_field_and_checked():
    derived = derive_identifiers(econnect_id="NL:KVK:30123456", kvk="3012346", oin="", vat="NL801234566B01")

    by_source = {item.source: item for item in derived}
    assert by_source["econnect_id"].identifier == PeppolIdentifier("0106", "30123456")
    assert by_source["kvk"].invalid_reason  # 7 digits
    assert "8" in by_source["kvk"].invalid_reason
    assert by_source["vat"].identifier == PeppolIdentifier("9944", "NL801234566B01")
    assert not by_source["vat"].invalid_reason


def test_an_unreadable_econnect_id_keeps_its_reason():
    [derived] = derive_identifiers(econnect_id="KVK 30123456", kvk="", oin="", vat="")

    assert derived.identifier is None
    assert derived.invalid_reason


def test_a_debtor_is_stored_with_one_identifier_per_scheme_the_econnect_id_first():
    environment = EnvironmentFactory()

    contact = contact_upsert_debtor(
        environment=environment, debtor=debtor(econnect_id="0106:30123456", kvk="30999999", vat="NL801234566B01")
    )

    identifiers = {item.scheme: (item.value, item.source) for item in contact.identifiers.all()}
    assert identifiers == {"0106": ("30123456", "econnect_id"), "9944": ("NL801234566B01", "vat")}


def test_storing_a_debtor_again_updates_it_and_drops_identifiers_that_are_gone():
    environment = EnvironmentFactory()
    contact_upsert_debtor(environment=environment, debtor=debtor(kvk="30123456", vat="NL801234566B01"))

    contact = contact_upsert_debtor(environment=environment, debtor=debtor(kvk="30123456", vat="", blocked=True))

    assert contact.afas_state == "blocked"
    assert list(contact.identifiers.values_list("scheme", flat=True)) == ["0106"]
    assert environment.contacts.count() == 1


def test_candidates_come_in_the_dutch_order_and_invalid_ones_are_left_out():
    environment = EnvironmentFactory()
    contact = contact_upsert_debtor(
        environment=environment, debtor=debtor(vat="NL801234566B01", oin="00000001001234567000", kvk="30123456")
    )
    ContactIdentifier.objects.filter(contact=contact, scheme="0190").update(is_valid=False)

    assert [item.scheme for item in contact_candidate_identifiers(contact)] == ["0106", "9944"]


@pytest.mark.parametrize(
    ("econnect_id", "identifier"),
    [
        ("DE:LWID:04011000-1234512345-06", PeppolIdentifier("0204", "04011000-1234512345-06")),
        ("IT:IVA:IT02985591201", PeppolIdentifier("0211", "IT02985591201")),
        ("FR:SIRET:78430177200025", PeppolIdentifier("0009", "78430177200025")),
        ("AT:VAT:ATU13585627", PeppolIdentifier("9914", "ATU13585627")),
    ],
)
def test_an_econnect_id_in_any_letter_form_of_the_code_list_is_usable(econnect_id, identifier):
    [derived] = derive_identifiers(econnect_id=econnect_id, kvk="", oin="", vat="")

    assert derived.identifier == identifier
    assert not derived.invalid_reason


def test_an_econnect_id_under_a_removed_scheme_says_what_replaces_it():
    [derived] = derive_identifiers(econnect_id="IT:VAT:IT02985591201", kvk="", oin="", vat="")

    assert "removed" in derived.invalid_reason and "0211 (IT:IVA)" in derived.invalid_reason
