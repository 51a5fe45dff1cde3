"""Clients for one environment's AFAS and eConnect, built from settings and its decrypted credentials.

The only place credentials leave the database: they go straight into a client, never into logs or pages. Every
client built here records the environment's connection health at each call (``portal.organisations.health``).
"""

from __future__ import annotations

import logging
import threading
from contextlib import ExitStack

import httpx
from django.conf import settings

from integrations.afas import ProfitClient, SmallBusinessClient
from integrations.afas.models import ConnectorNames
from integrations.econnect.errors import InvalidCredentials
from integrations.econnect.gateway import EConnectGateway
from integrations.econnect.lookup import PeppolLookup
from integrations.econnect.psb.auth import PsbCredentials
from integrations.econnect.psb.client import PsbClient
from integrations.econnect.psb.gateway import PsbGateway
from integrations.econnect.soap import PlatformSoapGateway
from integrations.http import AuthenticationError
from integrations.ratelimit import RateLimiter
from portal.organisations.health import Service, environment_record_credential_failure, observed, scrub
from portal.organisations.models import Environment

logger = logging.getLogger(__name__)


def _timeout(timeout: httpx.Timeout | None) -> dict[str, httpx.Timeout]:
    """The client's own default (``integrations.http.DEFAULT_TIMEOUT``) unless one is given."""
    return {"timeout": timeout} if timeout is not None else {}


def afas_client_for(
    environment: Environment,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
) -> ProfitClient:
    """``timeout``: shorter than the workers' default where a person waits for the answer."""
    token = environment.afas_token
    client = ProfitClient(
        connectors=ConnectorNames(sales_invoice_subject_type=environment.afas_sales_invoice_subject_type),
        participant=environment.afas_participant_number,
        environment_type=environment.afas_environment_type,
        token=token,
        base_url_template=settings.AFAS_BASE_URL_TEMPLATE,
        integration_id=settings.AFAS_INTEGRATION_ID,
        transport=transport,
        **_timeout(timeout),
    )
    return observed(client, environment=environment, service=Service.AFAS, secrets=(token,))


def afas_small_business_client_for(
    environment: Environment,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
) -> SmallBusinessClient:
    token = environment.afas_token
    client = SmallBusinessClient(
        domain=environment.afas_sb_domain,
        environment=environment.afas_sb_environment,
        app_token=token,
        base_url_template=settings.AFAS_SB_BASE_URL_TEMPLATE,
        transport=transport,
        **_timeout(timeout),
    )
    return observed(client, environment=environment, service=Service.AFAS, secrets=(token,))


def econnect_gateway_for(
    environment: Environment,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
) -> EConnectGateway:
    """The environment's eConnect gateway: over PSB (REST) or the platform SOAP API, as the environment says."""
    if environment.uses_psb:
        return _psb_gateway_for(environment, transport=transport, timeout=timeout)
    key, secret = environment.econnect_app_key, environment.econnect_app_secret
    try:
        gateway = PlatformSoapGateway(
            app_key=key,
            app_secret=secret,
            soap_url=settings.ECONNECT_SOAP_URL,
            lookup_url=settings.ECONNECT_LOOKUP_URL,
            subscription_key=settings.ECONNECT_SUBSCRIPTION_KEY,
            group_id=environment.econnect_group_id,
            credit_note_template_id=settings.ECONNECT_CREDIT_NOTE_TEMPLATE_ID,
            transport=transport,
            lookup_transport=transport,
            **_timeout(timeout),
        )
    except AuthenticationError as exc:  # no keys stored: as much a credential failure as wrong ones
        environment_record_credential_failure(
            environment_id=environment.pk, service=Service.ECONNECT, message=scrub(exc.message, (key, secret))
        )
        raise
    return observed(gateway, environment=environment, service=Service.ECONNECT, secrets=(key, secret))


def _psb_gateway_for(
    environment: Environment, *, transport: httpx.BaseTransport | None, timeout: httpx.Timeout | None
) -> PsbGateway:
    client_id, secret = environment.econnect_psb_client_id, environment.econnect_psb_client_secret
    if not (client_id and secret and environment.econnect_psb_party_id):
        message = "The eConnect PSB client id, client secret and party id are all required."
        environment_record_credential_failure(environment_id=environment.pk, service=Service.ECONNECT, message=message)
        raise InvalidCredentials(message, service="eConnect")
    client = PsbClient(
        base_url=settings.ECONNECT_PSB_URL,
        identity_url=settings.ECONNECT_PSB_IDENTITY_URL,
        credentials=PsbCredentials(client_id, secret),
        party_id=environment.econnect_psb_party_id,
        subscription_key=settings.ECONNECT_SUBSCRIPTION_KEY,
        transport=transport,
        **_timeout(timeout),
    )
    gateway = PsbGateway(client)
    return observed(gateway, environment=environment, service=Service.ECONNECT, secrets=(client_id, secret))


_limiters: dict[float, RateLimiter] = {}
_limiters_lock = threading.Lock()


def _lookup_rate_limiter() -> RateLimiter:
    """One per process (and per configured rate), shared by every lookup in it."""
    rate = settings.PEPPOL_LOOKUP_MAX_PER_SECOND
    with _limiters_lock:
        if rate not in _limiters:
            _limiters[rate] = RateLimiter(rate, burst=max(1, int(rate)))
        return _limiters[rate]


def peppol_lookup(*, transport: httpx.BaseTransport | None = None) -> PeppolLookup:
    """eConnect's public Peppol directory lookup: no credentials, rate-limited, with a short timeout.

    Always the production directory: readiness and route conflicts are about the real Peppol network, also for an
    organisation's test environment.
    """
    seconds = settings.PEPPOL_LOOKUP_TIMEOUT_SECONDS
    return PeppolLookup(
        base_url=settings.ECONNECT_LOOKUP_URL,
        timeout=httpx.Timeout(seconds, connect=min(seconds, 3.0)),
        transport=transport,
        rate_limiter=_lookup_rate_limiter(),
    )


def econnect_release_duplicate(
    environment: Environment, external_id: str, *, transport: httpx.BaseTransport | None = None
) -> None:
    """Make eConnect agree that a document it flagged as duplicate is an original.

    Real eConnect has no API for this (people release it in eConnect's platform); in development the simulator's
    control API does it. A failure here is logged, never raised: the portal's own decision stands.
    """
    base = settings.ECONNECT_SIMULATOR_CONTROL_URL
    if not base:
        return
    from integrations.http import HttpClient, RemoteError

    try:
        with HttpClient(service="eConnect simulator", base_url=base, transport=transport) as client:
            response = client.request("POST", f"/_sim/inbox/{external_id}/release")
        if response.status_code not in (200, 409):  # 409: not flagged (any more)
            logger.warning("eConnect simulator did not release %s: HTTP %s", external_id, response.status_code)
    except RemoteError as exc:
        logger.warning("eConnect simulator did not release %s: %s", external_id, exc)


class EnvironmentClients:
    """One environment's AFAS Profit client and eConnect gateway for the length of one task that works on several of
    its documents: each is built when first needed (raising as ``afas_client_for`` and ``econnect_gateway_for``
    do, e.g. for keys that cannot be read, and built again next time), and both are closed together at the end."""

    def __init__(self, environment: Environment, *, econnect: EConnectGateway | None = None):
        """``econnect``: a gateway the caller holds (and closes) for the environment, to use instead of a new one."""
        self.environment = environment
        self._stack = ExitStack()
        self._afas: ProfitClient | None = None
        self._econnect: EConnectGateway | None = econnect

    def __enter__(self) -> EnvironmentClients:
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def afas(self) -> ProfitClient:
        if self._afas is None:
            self._afas = self._stack.enter_context(afas_client_for(self.environment))
        return self._afas

    def econnect(self) -> EConnectGateway:
        if self._econnect is None:
            self._econnect = self._stack.enter_context(econnect_gateway_for(self.environment))
        return self._econnect
