"""Support's side of the route rule: receiving is switched by actions that check the route; overrides need a reason."""

import pytest
from django.urls import reverse

from portal.events.models import Event
from portal.organisations.models import Environment, OwnPeppolIdentifier


@pytest.fixture
def garage(contacts_world):
    return Environment.objects.get(afas_participant_number="24680")


def test_switching_receiving_on_from_the_admin_is_refused_with_the_reason(support_client, garage):
    response = support_client.post(
        reverse("admin:organisations_environment_changelist"),
        {"action": "switch_receiving_on", "_selected_action": [garage.pk]},
        follow=True,
    )

    assert (
        "receiving stays off" in response.content.decode() and "registered elsewhere: AFAS" in response.content.decode()
    )
    garage.refresh_from_db()
    assert not garage.receiving_enabled


def test_an_override_without_a_reason_is_refused_and_with_one_is_audited(support_client, garage):
    own = garage.own_identifiers.get()
    url = reverse("admin:organisations_ownpeppolidentifier_changelist")

    response = support_client.post(url, {"action": "override_route_conflict", "_selected_action": [own.pk], "reason": ""},
                                   follow=True)  # fmt: skip
    assert "needs a reason" in response.content.decode()
    assert not OwnPeppolIdentifier.objects.get(pk=own.pk).overridden

    support_client.post(url, {"action": "override_route_conflict", "_selected_action": [own.pk],
                              "reason": "AFAS confirmed deregistration"})  # fmt: skip
    assert OwnPeppolIdentifier.objects.get(pk=own.pk).overridden
    assert Event.objects.get(environment=garage, kind="route_override").reason == "AFAS confirmed deregistration"

    support_client.post(
        reverse("admin:organisations_environment_changelist"),
        {"action": "switch_receiving_on", "_selected_action": [garage.pk]},
    )
    garage.refresh_from_db()
    assert garage.receiving_enabled


def test_the_receiving_switch_is_not_an_editable_field(support_client, garage):
    page = support_client.get(reverse("admin:organisations_environment_change", args=[garage.pk])).content.decode()

    assert 'name="receiving_enabled"' not in page
    assert 'name="sending_enabled"' in page
