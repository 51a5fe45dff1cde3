import pytest
from django.db import IntegrityError

from portal.contacts.models import Contact, ContactIdentifier
from tests.portal.contacts.factories import ContactFactory, ContactIdentifierFactory

pytestmark = pytest.mark.django_db


def test_a_contact_has_one_canonical_identifier_per_scheme():
    identifier = ContactIdentifierFactory(scheme="0106", value="12345678")

    with pytest.raises(IntegrityError):
        ContactIdentifierFactory(contact=identifier.contact, scheme="0106", value="87654321")


def test_a_contact_may_have_identifiers_of_several_schemes():
    contact = ContactFactory()

    ContactIdentifierFactory(contact=contact, scheme="0106", value="12345678")
    ContactIdentifierFactory(contact=contact, scheme="9944", value="NL123456789B01", source="vat")

    assert contact.identifiers.count() == 2


def test_an_afas_debtor_exists_once_per_environment():
    contact = ContactFactory(afas_id="10001")

    with pytest.raises(IntegrityError):
        ContactFactory(environment=contact.environment, kind=contact.kind, afas_id="10001")


def test_a_debtor_and_a_creditor_may_share_an_afas_number():
    debtor = ContactFactory(afas_id="10001", kind=Contact.Kind.DEBTOR)

    ContactFactory(environment=debtor.environment, afas_id="10001", kind=Contact.Kind.CREDITOR)


def test_identifier_scheme_must_be_an_icd_code():
    with pytest.raises(IntegrityError):
        ContactIdentifierFactory(scheme="KVK")


def test_identifier_is_shown_in_icd_notation():
    assert ContactIdentifier(scheme="0190", value="00000001234567890000").identifier == "0190:00000001234567890000"
