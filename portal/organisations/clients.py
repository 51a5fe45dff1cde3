"""Clients for one environment's AFAS and eConnect, built from settings and its decrypted credentials.

The only place credentials leave the database: they go straight into a client, never into logs or pages.
"""

from __future__ import annotations

import httpx
from django.conf import settings

from integrations.afas import ProfitClient, SmallBusinessClient
from integrations.econnect.soap import PlatformSoapGateway
from portal.organisations.models import Environment


def afas_client_for(environment: Environment, *, transport: httpx.BaseTransport | None = None) -> ProfitClient:
    return ProfitClient(
        participant=environment.afas_participant_number,
        environment_type=environment.afas_environment_type,
        token=environment.afas_token,
        base_url_template=settings.AFAS_BASE_URL_TEMPLATE,
        transport=transport,
    )


def afas_small_business_client_for(
    environment: Environment, *, transport: httpx.BaseTransport | None = None
) -> SmallBusinessClient:
    # [GUESS] The customer environment in the SB address is the participant number (as the simulator assumes).
    return SmallBusinessClient(
        domain=environment.afas_sb_domain,
        environment=environment.afas_participant_number,
        app_token=environment.afas_token,
        base_url_template=settings.AFAS_SB_BASE_URL_TEMPLATE,
        transport=transport,
    )


def econnect_gateway_for(
    environment: Environment, *, transport: httpx.BaseTransport | None = None
) -> PlatformSoapGateway:
    return PlatformSoapGateway(
        app_key=environment.econnect_app_key,
        app_secret=environment.econnect_app_secret,
        soap_url=settings.ECONNECT_SOAP_URL,
        lookup_url=settings.ECONNECT_LOOKUP_URL,
        transport=transport,
        lookup_transport=transport,
    )
