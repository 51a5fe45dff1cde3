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


PSB_CLIENT_ID, PSB_CLIENT_SECRET = "portal-client", "s3cret"


def psb_environment(party: str, **fields) -> Environment:
    """An environment on eConnect PSB acting as ``party``, with the PSB credentials ``psb_simulator`` accepts."""
    from portal.organisations.services import environment_set_credentials

    environment = EnvironmentFactory(
        econnect_transport=Environment.EConnectTransport.PSB, econnect_psb_party_id=party, **fields
    )
    environment_set_credentials(
        environment=environment,
        actor=None,
        econnect_psb_client_id=PSB_CLIENT_ID,
        econnect_psb_client_secret=PSB_CLIENT_SECRET,
    )
    environment.refresh_from_db()
    return environment
