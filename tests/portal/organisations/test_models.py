import pytest
from django.db import DataError, IntegrityError, transaction

from portal.organisations.models import Environment, OwnPeppolIdentifier
from tests.portal.organisations.factories import (
    EnvironmentFactory,
    OrganisationFactory,
    OwnPeppolIdentifierFactory,
)

pytestmark = pytest.mark.django_db

# PostgreSQL refuses an over-long value by its length (DataError) before the format check runs.
REFUSED_BY_DATABASE = (IntegrityError, DataError)


def test_one_afas_environment_cannot_be_registered_twice():
    EnvironmentFactory(afas_participant_number="12345", afas_environment_type=Environment.Type.PRODUCTION)

    with pytest.raises(IntegrityError):
        EnvironmentFactory(afas_participant_number="12345", afas_environment_type=Environment.Type.PRODUCTION)


def test_production_and_test_of_one_participant_are_separate_environments():
    EnvironmentFactory(afas_participant_number="12345", afas_environment_type=Environment.Type.PRODUCTION)

    EnvironmentFactory(afas_participant_number="12345", afas_environment_type=Environment.Type.TEST)

    assert Environment.objects.filter(afas_participant_number="12345").count() == 2


@pytest.mark.parametrize("participant", ["1234", "1234567", "12a45", ""])
def test_afas_participant_number_format_is_enforced_by_the_database(participant):
    with pytest.raises(REFUSED_BY_DATABASE):
        EnvironmentFactory(afas_participant_number=participant)


@pytest.mark.parametrize("seconds", [0, 59, 86401])
def test_poll_interval_outside_one_minute_to_one_day_is_refused(seconds):
    with pytest.raises(IntegrityError):
        EnvironmentFactory(poll_interval_seconds=seconds)


@pytest.mark.parametrize("field, value", [("afas_environment_type", "staging"), ("afas_edition", "exact")])
def test_unknown_choices_are_refused_by_the_database(field, value):
    with pytest.raises(IntegrityError):
        EnvironmentFactory(**{field: value})


@pytest.mark.parametrize("kvk", ["1234567", "123456789", "1234567a"])
def test_organisation_kvk_number_has_eight_digits(kvk):
    with pytest.raises(REFUSED_BY_DATABASE):
        OrganisationFactory(kvk_number=kvk)


def test_a_firm_cannot_have_two_clients_with_one_kvk_number():
    first = OrganisationFactory(kvk_number="12345678")

    with pytest.raises(IntegrityError):
        OrganisationFactory(firm=first.firm, kvk_number="12345678")


def test_own_identifier_can_receive_on_one_environment_only():
    OwnPeppolIdentifierFactory(scheme="0106", value="12345678", receive_active=True)

    with pytest.raises(IntegrityError):
        OwnPeppolIdentifierFactory(scheme="0106", value="12345678", receive_active=True)


def test_own_identifier_may_be_listed_inactive_on_other_environments():
    OwnPeppolIdentifierFactory(scheme="0106", value="12345678", receive_active=True)

    OwnPeppolIdentifierFactory(scheme="0106", value="12345678", receive_active=False)

    assert OwnPeppolIdentifier.objects.filter(value="12345678").count() == 2


def test_one_route_rule_gives_a_clear_message_on_validation():
    active = OwnPeppolIdentifierFactory(scheme="0106", value="12345678", receive_active=True)
    second = OwnPeppolIdentifier(
        environment=EnvironmentFactory(), scheme=active.scheme, value=active.value, receive_active=True
    )

    with pytest.raises(Exception, match="already receives via eConnect on another environment"):
        second.validate_constraints()


@pytest.mark.parametrize("scheme, value", [("106", "12345678"), ("01O6", "12345678"), ("0106", "")])
def test_own_identifier_needs_an_icd_scheme_and_a_value(scheme, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        OwnPeppolIdentifierFactory(scheme=scheme, value=value)


def test_credential_fields_are_not_editable_so_no_form_can_show_them():
    for name in ("afas_token", "econnect_app_key", "econnect_app_secret"):
        assert Environment._meta.get_field(name).editable is False
