import factory

from portal.contacts.models import Contact, ContactIdentifier, ContactJob
from tests.portal.organisations.factories import EnvironmentFactory


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    environment = factory.SubFactory(EnvironmentFactory)
    kind = Contact.Kind.DEBTOR
    afas_id = factory.Sequence(lambda n: f"{10000 + n}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    kvk_number = factory.Sequence(lambda n: f"{20000000 + n:08d}")


class ContactIdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactIdentifier

    contact = factory.SubFactory(ContactFactory)
    scheme = "0106"
    value = factory.LazyAttribute(lambda identifier: identifier.contact.kvk_number)
    source = ContactIdentifier.Source.KVK


class ContactJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactJob

    environment = factory.SubFactory(EnvironmentFactory)
    kind = ContactJob.Kind.LOOKUP
    total = 10
