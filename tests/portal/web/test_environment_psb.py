"""The environment settings page switches an environment to eConnect PSB with its party and write-only
client id and secret; the detail page then shows PSB's fields, never the secrets."""

from __future__ import annotations

import re

from django.urls import reverse

from portal.organisations.models import Environment
from tests.portal.web.test_environment_pages import environment, settings_data, stored  # noqa: F401 (fixture)

PSB_SECRETS = {"econnect_psb_client_id": "PSB-CLIENT-ID-SECRET", "econnect_psb_client_secret": "PSB-SECRET-SECRET"}


def test_a_firm_admin_switches_an_environment_to_psb(firm_admin_client, firm_admin_membership, environment):  # noqa: F811
    response = firm_admin_client.post(
        reverse("web:environment_settings", args=[environment.pk]),
        settings_data(environment, econnect_transport="psb", econnect_psb_party_id="NL:KVK:12345678", **PSB_SECRETS),
    )

    assert response.status_code == 302
    saved = stored(environment)
    assert (saved.econnect_transport, saved.econnect_psb_party_id) == (
        Environment.EConnectTransport.PSB,
        "0106:12345678",
    )
    assert saved.econnect_psb_client_secret == "PSB-SECRET-SECRET" and saved.has_econnect_keys
    page = firm_admin_client.get(reverse("web:environment_detail", args=[environment.pk])).content.decode()
    assert "eConnect PSB (REST)" in page and "0106:12345678" in page
    for secret in PSB_SECRETS.values():
        assert secret not in page
    form_page = firm_admin_client.get(reverse("web:environment_settings", args=[environment.pk])).content.decode()
    for name in PSB_SECRETS:
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', form_page).group(0)
        assert 'type="password"' in field and "value=" not in field


def test_psb_without_a_party_is_a_form_error(firm_admin_client, firm_admin_membership, environment):  # noqa: F811
    response = firm_admin_client.post(
        reverse("web:environment_settings", args=[environment.pk]),
        settings_data(environment, econnect_transport="psb"),
    )

    assert response.status_code == 200
    assert "eConnect PSB needs the party id" in response.content.decode()
    assert stored(environment).econnect_transport == Environment.EConnectTransport.PLATFORM
