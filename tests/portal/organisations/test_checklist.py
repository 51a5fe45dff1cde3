"""The setup checklist: each step done, failed or not yet, with the action that moves it on."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.organisations.checklist import Action, StepState, environment_checklist
from portal.organisations.models import Environment, Registration
from portal.organisations.services import environment_set_credentials
from portal.outgoing_invoices.models import OutgoingInvoice
from tests.portal.organisations.factories import EnvironmentFactory, OrganisationFactory, OwnPeppolIdentifierFactory
from tests.portal.outgoing_invoices.factories import OutgoingInvoiceFactory

pytestmark = pytest.mark.django_db
Status = OutgoingInvoice.Status


def steps(environment, **kwargs) -> dict:
    environment.refresh_from_db()
    identifiers = list(environment.own_identifiers.all())
    return {step.key: step for step in environment_checklist(environment, identifiers=identifiers, **kwargs).steps}


@pytest.fixture
def environment(membership):
    return EnvironmentFactory(organisation=OrganisationFactory(firm=membership.firm, kvk_number="12345678"))


def with_credentials(environment):
    environment_set_credentials(
        environment=environment, actor=None, afas_token="token", econnect_app_key="key", econnect_app_secret="secret"
    )
    environment.refresh_from_db()
    return environment


def test_a_new_environment_shows_every_step_not_yet_with_its_action(environment):
    checklist = environment_checklist(environment, identifiers=[])

    assert [step.state for step in checklist.steps] == [StepState.TODO] * 8
    assert checklist.done == 0 and not checklist.complete
    assert checklist.next_step.key == "afas_token" and checklist.next_step.action is Action.SETTINGS
    assert all(step.action is not None and step.detail is not None for step in checklist.steps)


def test_credentials_that_are_set_but_untested_ask_for_a_connection_test(environment):
    found = steps(with_credentials(environment))

    for key in ("afas_token", "econnect_keys"):
        assert (found[key].state, found[key].action) == (StepState.TODO, Action.TEST_CONNECTION)
    assert (found["afas_connectors"].state, found["afas_connectors"].action) == (StepState.TODO, Action.AFAS_SETUP)


def test_accepted_credentials_and_connectors_are_done(environment):
    with_credentials(environment)
    later = timezone.now() + timedelta(seconds=1)
    Environment.objects.filter(pk=environment.pk).update(
        afas_last_success_at=later, econnect_last_success_at=later, afas_setup_checked_at=later, afas_setup_missing=[]
    )

    found = steps(environment)

    assert {found[key].state for key in ("afas_token", "afas_connectors", "econnect_keys")} == {StepState.DONE}


def test_refused_credentials_fail_with_what_the_remote_said(environment):
    with_credentials(environment)
    Environment.objects.filter(pk=environment.pk).update(
        afas_failing_since=timezone.now(), afas_failure="AFAS refused the token (401)."
    )

    step = steps(environment)["afas_token"]

    assert step.state is StepState.FAILED
    assert "AFAS refused the token (401)." in str(step.detail)


def test_missing_connectors_fail_naming_them(environment):
    with_credentials(environment)
    Environment.objects.filter(pk=environment.pk).update(
        afas_setup_checked_at=timezone.now() + timedelta(seconds=1), afas_setup_missing=["ProfitSubjectsAuthorized"]
    )

    step = steps(environment)["afas_connectors"]

    assert step.state is StepState.FAILED
    assert "ProfitSubjectsAuthorized" in str(step.detail) and step.action is Action.AFAS_SETUP


def test_small_business_is_checked_too(environment):
    Environment.objects.filter(pk=environment.pk).update(
        afas_edition=Environment.Edition.SMALL_BUSINESS, afas_sb_domain="acme"
    )

    assert steps(environment)["afas_connectors"].action is Action.AFAS_SETUP


def test_afas_own_econnect_link_is_open_until_a_person_confirms_it(environment, membership):
    from portal.organisations.services import environment_confirm_afas_link_off

    before = steps(environment)["afas_own_link"]
    assert (before.state, before.action) == (StepState.TODO, Action.CONFIRM_AFAS_LINK)
    assert "Bedrijfs-ID eVerbinding" in str(before.detail)

    assert environment_confirm_afas_link_off(environment=environment, actor=membership.user)
    assert not environment_confirm_afas_link_off(environment=environment, actor=membership.user)  # recorded once

    assert steps(environment)["afas_own_link"].state is StepState.DONE
    assert environment.events.filter(kind="afas_link_confirmed", actor=membership.user).count() == 1


@pytest.mark.parametrize(
    ("registration", "state"),
    [
        (Registration.NOT_CHECKED, StepState.TODO),
        (Registration.NOT_REGISTERED, StepState.TODO),
        (Registration.AFAS, StepState.FAILED),
        (Registration.ECONNECT, StepState.DONE),
    ],
)
def test_the_own_identifier_is_done_only_when_registered_at_econnect_and_nowhere_else(environment, registration, state):
    OwnPeppolIdentifierFactory(environment=environment, registration=registration)

    step = steps(environment)["own_identifier"]

    assert step.state is state
    if state is StepState.FAILED:
        assert "0106:12345678 is registered at AFAS" in str(step.detail)


def test_the_switches_name_what_still_blocks_them(environment):
    step = steps(environment, sending_blockers=["The AFAS token is not set."])["sending"]

    assert step.state is StepState.TODO and "The AFAS token is not set." in str(step.detail)


def test_the_round_trip_is_done_when_a_test_invoice_came_back(environment):
    sent = OutgoingInvoiceFactory(
        environment=environment, is_test=True, status=Status.DELIVERED, submission_reference="r1",
        returned_at=timezone.now(), invoice_number="TEST-1",
    )  # fmt: skip

    assert steps(environment, latest_test=sent)["round_trip"].state is StepState.DONE


def test_a_test_invoice_that_did_not_get_through_fails_the_round_trip_with_its_reason(environment):
    stuck = OutgoingInvoiceFactory(
        environment=environment, is_test=True, status=Status.NEEDS_ATTENTION, invoice_number="TEST-2",
        last_error_message="The environment has no eConnect connection keys.",
    )  # fmt: skip

    step = steps(environment, latest_test=stuck)["round_trip"]

    assert step.state is StepState.FAILED and step.action is Action.OPEN_TEST_INVOICE
    assert "TEST-2" in str(step.detail) and "no eConnect connection keys" in str(step.detail)


def test_a_complete_setup_says_so_on_the_environment_page(accountant_client, environment):
    with_credentials(environment)
    now = timezone.now() + timedelta(seconds=1)
    Environment.objects.filter(pk=environment.pk).update(
        afas_last_success_at=now, econnect_last_success_at=now, afas_setup_checked_at=now,
        sending_enabled=True, receiving_enabled=True, test_round_trip_at=now, afas_own_econnect_link_off_at=now,
    )  # fmt: skip
    OwnPeppolIdentifierFactory(environment=environment, registration=Registration.ECONNECT)

    page = accountant_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()

    assert "8 of 8 done" in page and "Everything is set up" in page


def test_the_dashboard_shows_each_unfinished_setup_with_its_next_step(accountant_client, environment):
    page = accountant_client.get(reverse("web:home")).content.decode()

    assert "Setup not finished" in page
    assert f'href="{reverse("web:environment_detail", args=[environment.pk])}#setup"' in page
    assert "0 of 8 steps done; next: AFAS token accepted" in page
    assert "Setup 0/8" in page
