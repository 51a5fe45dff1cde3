import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from portal.accounts.models import User
from portal.organisations.demo import ACCOUNTANT_LOGIN, SUPPORT_LOGIN, demo_seed
from portal.organisations.models import Environment, Firm, Organisation

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_a_firm_four_clients_and_five_environments():
    demo_seed()

    assert Firm.objects.count() == 1
    assert Organisation.objects.count() == 4
    assert Environment.objects.count() == 5
    assert Environment.objects.filter(afas_edition=Environment.Edition.SMALL_BUSINESS).count() == 1


def test_demo_has_one_environment_on_psb_with_its_webhooks_connected():
    demo_seed()

    flora = Environment.objects.get(econnect_transport=Environment.EConnectTransport.PSB)
    assert flora.has_econnect_keys and flora.econnect_hooks_connected_at is not None
    assert flora.econnect_hook_token and flora.econnect_hook_secret
    assert flora.sending_enabled and flora.receiving_enabled


def test_demo_garage_receives_via_afas_so_its_receiving_stays_off():
    demo_seed()

    garage = Environment.objects.get(afas_participant_number="24680")
    assert not garage.receiving_enabled and not garage.sending_enabled
    assert not garage.own_identifiers.get().receive_active


def test_demo_seed_twice_changes_nothing():
    demo_seed()
    demo_seed()

    assert (Firm.objects.count(), Organisation.objects.count(), Environment.objects.count()) == (1, 4, 5)
    assert User.objects.count() == 2


def test_demo_logins_work(client):
    demo_seed()

    assert client.login(username=ACCOUNTANT_LOGIN[0], password=ACCOUNTANT_LOGIN[1])
    assert client.get("/").status_code == 200
    assert client.login(username=SUPPORT_LOGIN[0], password=SUPPORT_LOGIN[1])
    assert client.get("/admin/outgoing_invoices/outgoinginvoice/").status_code == 200


def test_demo_support_user_is_not_a_superuser():
    demo_seed()

    support = User.objects.get(username=SUPPORT_LOGIN[0])
    assert support.is_staff and not support.is_superuser
    assert support.has_perm("outgoing_invoices.view_outgoinginvoice")


@override_settings(DEBUG=True)
def test_demo_seed_prints_the_logins(capsys):
    call_command("demo_seed")

    out = capsys.readouterr().out
    assert f"{ACCOUNTANT_LOGIN[0]} / {ACCOUNTANT_LOGIN[1]}" in out
    assert f"{SUPPORT_LOGIN[0]} / {SUPPORT_LOGIN[1]}" in out


@override_settings(DEBUG=False)
def test_demo_seed_refuses_when_debug_is_off():
    with pytest.raises(CommandError, match="demo logins do not belong in production"):
        call_command("demo_seed")
