import pytest
from django.urls import reverse

from portal.events.models import Event
from portal.organisations.models import Environment
from portal.organisations.services import environment_set_credentials
from tests.portal.organisations.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db

SECRETS = {
    "afas_token": "<token><version>1</version><data>AFAS-SECRET-0123456789</data></token>",
    "econnect_app_key": "ECONNECT-APPKEY-987654",
    "econnect_app_secret": "ECONNECT-SECRET-555555",
}


@pytest.fixture
def environment_with_credentials():
    environment = EnvironmentFactory()
    environment_set_credentials(environment=environment, actor=None, **SECRETS)
    return environment


def form_data(environment, **changes):
    data = {
        "organisation": environment.organisation_id,
        "afas_participant_number": environment.afas_participant_number,
        "afas_environment_type": environment.afas_environment_type,
        "afas_edition": environment.afas_edition,
        "poll_interval_seconds": environment.poll_interval_seconds,
        "afas_sb_relation_type": environment.afas_sb_relation_type,
        "new_afas_token": "",
        "new_econnect_app_key": "",
        "new_econnect_app_secret": "",
    }
    for prefix in ("own_identifiers", "cursors", "events"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(changes)
    return data


def assert_no_secret_in(page: str):
    for secret in SECRETS.values():
        assert secret not in page
        # not even partly masked: no recognisable piece of the value
        assert secret[-6:] not in page
        assert secret[:8] not in page


def test_admin_change_page_never_renders_credentials(support_client, environment_with_credentials):
    page = support_client.get(
        reverse("admin:organisations_environment_change", args=[environment_with_credentials.pk])
    ).content.decode()

    assert "AFAS token: set on" in page
    assert 'name="new_afas_token"' in page
    assert_no_secret_in(page)


def test_admin_changelist_never_renders_credentials(support_client, environment_with_credentials):
    page = support_client.get(reverse("admin:organisations_environment_changelist")).content.decode()

    assert_no_secret_in(page)


def test_admin_sets_a_new_token_through_the_write_only_field(support_client, environment_with_credentials):
    url = reverse("admin:organisations_environment_change", args=[environment_with_credentials.pk])

    response = support_client.post(url, form_data(environment_with_credentials, new_afas_token="NEW-TOKEN-VALUE"))

    assert response.status_code == 302, response.content.decode()[:3000]
    stored = Environment.objects.get(pk=environment_with_credentials.pk)
    assert stored.afas_token == "NEW-TOKEN-VALUE"
    assert stored.econnect_app_secret == SECRETS["econnect_app_secret"]
    assert Event.objects.filter(environment=stored, kind="credentials_changed", actor__isnull=False).exists()


def test_admin_save_with_empty_credential_fields_keeps_the_stored_ones(support_client, environment_with_credentials):
    url = reverse("admin:organisations_environment_change", args=[environment_with_credentials.pk])

    response = support_client.post(url, form_data(environment_with_credentials, sending_enabled="on"))

    assert response.status_code == 302
    stored = Environment.objects.get(pk=environment_with_credentials.pk)
    assert stored.sending_enabled
    assert [stored.afas_token, stored.econnect_app_key, stored.econnect_app_secret] == list(SECRETS.values())


def test_admin_form_error_does_not_echo_a_typed_secret(support_client, environment_with_credentials):
    url = reverse("admin:organisations_environment_change", args=[environment_with_credentials.pk])

    response = support_client.post(
        url,
        form_data(environment_with_credentials, poll_interval_seconds="", new_econnect_app_secret="TYPED-SECRET-42"),
    )

    assert response.status_code == 200  # the form is shown again with its error
    assert "TYPED-SECRET-42" not in response.content.decode()


def test_admin_removes_the_econnect_keys(support_client, environment_with_credentials):
    url = reverse("admin:organisations_environment_change", args=[environment_with_credentials.pk])

    response = support_client.post(url, form_data(environment_with_credentials, clear_econnect_keys="on"))

    assert response.status_code == 302
    stored = Environment.objects.get(pk=environment_with_credentials.pk)
    assert (stored.econnect_app_key, stored.econnect_app_secret, stored.has_econnect_keys) == ("", "", False)
    assert stored.afas_token == SECRETS["afas_token"]


def test_admin_refuses_setting_and_removing_at_once(support_client, environment_with_credentials):
    url = reverse("admin:organisations_environment_change", args=[environment_with_credentials.pk])

    response = support_client.post(
        url, form_data(environment_with_credentials, new_afas_token="x", clear_afas_token="on")
    )

    assert response.status_code == 200
    assert "Either set a new AFAS token or remove it, not both." in response.content.decode()


def test_admin_hides_typed_secrets_from_error_reports(support_client, environment_with_credentials):
    url = reverse("admin:organisations_environment_change", args=[environment_with_credentials.pk])

    response = support_client.post(url, form_data(environment_with_credentials, new_afas_token="TYPED"))

    assert set(response.wsgi_request.sensitive_post_parameters) == {
        "new_afas_token",
        "new_econnect_app_key",
        "new_econnect_app_secret",
        "new_econnect_psb_client_id",
        "new_econnect_psb_client_secret",
    }


def test_credential_times_are_shown_in_dutch_local_time():
    from datetime import UTC, datetime

    from django.contrib import admin

    environment = EnvironmentFactory.build(afas_token_set_at=datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    environment.pk = 1

    summary = admin.site._registry[Environment].credentials_summary(environment)

    assert "1 Jul 2026, 12:00" in summary  # 10:00 UTC is 12:00 in Amsterdam in summer; day month year, never US-style
