import factory

from portal.organisations.models import Environment, Firm, Organisation, OwnPeppolIdentifier


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    name = factory.Sequence(lambda n: f"Accountants {n} B.V.")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    firm = factory.SubFactory(FirmFactory)
    name = factory.Sequence(lambda n: f"Client {n} B.V.")
    kvk_number = factory.Sequence(lambda n: f"{10000000 + n:08d}")


class EnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Environment

    organisation = factory.SubFactory(OrganisationFactory)
    afas_participant_number = factory.Sequence(lambda n: f"{10000 + n:05d}")
    afas_environment_type = Environment.Type.PRODUCTION
    afas_edition = Environment.Edition.PROFIT


class OwnPeppolIdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OwnPeppolIdentifier

    environment = factory.SubFactory(EnvironmentFactory)
    scheme = "0106"
    value = factory.LazyAttribute(lambda own: own.environment.organisation.kvk_number)
