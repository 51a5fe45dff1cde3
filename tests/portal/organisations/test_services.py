import pytest

from portal.events.models import Event
from portal.organisations.models import Environment
from portal.organisations.services import environment_set_credentials
from tests.portal.accounts.factories import UserFactory
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db


def test_setting_a_token_records_when_and_who_but_never_the_value():
    environment = EnvironmentFactory()
    user = UserFactory()

    changed = environment_set_credentials(environment=environment, actor=user, afas_token="TOKEN-VALUE-123")

    environment.refresh_from_db()
    assert changed == ["afas_token"]
    assert environment.has_afas_token
    assert not environment.has_econnect_keys
    event = Event.objects.get(environment=environment, kind="credentials_changed")
    assert event.actor == user
    assert "AFAS token replaced" in event.message
    assert "TOKEN-VALUE-123" not in f"{event.message}{event.data}{event.reason}"


def test_unchanged_credentials_stay_as_they_were():
    environment = EnvironmentFactory()
    environment_set_credentials(environment=environment, actor=None, afas_token="first", econnect_app_key="key")

    environment_set_credentials(environment=environment, actor=None, econnect_app_secret="secret")

    stored = Environment.objects.get(pk=environment.pk)
    assert (stored.afas_token, stored.econnect_app_key, stored.econnect_app_secret) == ("first", "key", "secret")
    assert stored.has_econnect_keys


def test_econnect_keys_count_as_set_only_when_key_and_secret_are_both_there():
    environment = EnvironmentFactory()

    environment_set_credentials(environment=environment, actor=None, econnect_app_key="key-only")

    assert not Environment.objects.get(pk=environment.pk).has_econnect_keys


def test_clearing_a_credential_empties_it():
    environment = EnvironmentFactory()
    environment_set_credentials(environment=environment, actor=None, afas_token="token")

    environment_set_credentials(environment=environment, actor=None, afas_token="")

    stored = Environment.objects.get(pk=environment.pk)
    assert stored.afas_token == ""
    assert not stored.has_afas_token
    assert Event.objects.filter(environment=environment, message__contains="AFAS token cleared").exists()


def test_nothing_to_change_records_nothing():
    environment = EnvironmentFactory()

    assert environment_set_credentials(environment=environment, actor=None) == []
    assert not Event.objects.filter(environment=environment).exists()


def test_a_crash_while_setting_credentials_does_not_put_them_in_the_error_report():
    import sys

    from django.views.debug import ExceptionReporter

    deleted = EnvironmentFactory()
    Environment.objects.filter(pk=deleted.pk).delete()
    try:
        environment_set_credentials(environment=deleted, actor=None, afas_token="LEAKED-TOKEN-VALUE")
    except Environment.DoesNotExist:
        frames = ExceptionReporter(None, *sys.exc_info()).get_traceback_frames()
    else:
        pytest.fail("expected the unknown environment to fail")

    below_this_test = [frame for frame in frames if frame["function"] != sys._getframe().f_code.co_name]
    assert any(frame["function"] == "environment_set_credentials" for frame in below_this_test)
    for frame in below_this_test:
        assert "LEAKED-TOKEN-VALUE" not in repr(frame["vars"]), frame["function"]
