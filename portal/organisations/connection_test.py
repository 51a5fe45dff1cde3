"""'Test connection': one cheap authenticated call to AFAS and one to eConnect, each answered with what failed exactly.

A person is waiting for the answer, so the calls get short timeouts and no retries; a failure names the error kind,
the HTTP status, the remote's own code and message, so that the person can act on it (or pass it on verbatim).
The outcome is kept on the environment's timeline as data (problem keys, not sentences), so that it can be shown
again later in the reader's language.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx
from django.utils import timezone

from integrations.http import (
    AccessDenied,
    AuthenticationError,
    HttpClient,
    MalformedResponse,
    RemoteError,
    RemoteTimeout,
    TransientError,
)
from portal.accounts.models import User
from portal.core.fields import CredentialDecryptionError
from portal.events.messages import Join, Msg
from portal.events.models import EventKind
from portal.events.services import event_record
from portal.organisations import clients
from portal.organisations.afas_setup import afas_check_setup
from portal.organisations.models import Environment

# Short enough that the page answers within a person's patience, long enough for a slow but healthy AFAS.
TEST_TIMEOUT = httpx.Timeout(10.0, connect=4.0)

AFAS = "AFAS"
ECONNECT = "eConnect"
EVENT_KIND = EventKind.CONNECTION_TESTED

# Why a check failed (their wording: "connection.problem.<key>" in portal.events.catalogue).
PROBLEMS = (
    "no_token",
    "no_domain",
    "no_keys",
    "no_psb_keys",
    "unreadable",
    "connectors_missing",
    "token_rejected",
    "credentials_rejected",
    "access_denied",
    "timeout",
    "malformed",
    "unavailable",
    "refused",
)
# Problems found before anything could be sent; each has a hint ("connection.hint.<key>") saying what to do.
HINTS = ("no_token", "no_domain", "no_keys", "no_psb_keys", "unreadable")


@dataclass(frozen=True)
class ServiceCheck:
    """The outcome for one service. ``message`` is the remote's (or its client's) own words, kept verbatim."""

    service: str
    ok: bool
    problem: str = ""  # a key of PROBLEMS
    message: str = ""
    error_type: str = ""  # the typed error's class name, e.g. "AfasAuthenticationError"
    status: int | None = None  # the HTTP status, when the remote answered
    code: str = ""  # the remote's own error code, e.g. eConnect's ERRIAU6000007
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def problem_label(self) -> str:
        return Msg(f"connection.problem.{self.problem}").render() if self.problem in PROBLEMS else self.problem

    @property
    def text(self) -> str:
        """What happened, in the reader's language where the portal itself says it."""
        text = self.text_message()
        return text.render() if isinstance(text, Msg) else text

    def text_message(self) -> Msg | str:
        """``text`` as a stored message: the portal's own words by key, the remote's as they are."""
        if self.ok:
            if self.detail.get("environment_id"):
                return Msg(
                    "connection.afas_profit_ok",
                    environment=str(self.detail["environment_id"]),
                    version=str(self.detail.get("profit_version", "?")),
                )
            if self.detail.get("psb_party"):
                return Msg("connection.econnect_psb_ok", party=str(self.detail["psb_party"]))
            return Msg("connection.afas_sb_ok" if self.service == AFAS else "connection.econnect_ok")
        if self.problem == "connectors_missing":
            return Msg("connection.connectors_missing", connectors=", ".join(self.detail.get("missing", ())))
        if self.problem in HINTS:
            return Msg(f"connection.hint.{self.problem}")
        return self.message

    def summary_message(self) -> Msg:
        """``summary`` as a stored message, for the timeline."""
        if self.ok:
            return Msg("connection.ok", service=self.service, text=self.text_message())
        parts: list = [f"HTTP {self.status}"] if self.status else []
        parts.append(Msg(f"connection.problem.{self.problem}") if self.problem in PROBLEMS else self.problem)
        if self.code:
            parts.append(self.code)
        return Msg("connection.failed", service=self.service, parts=Join(parts), text=self.text_message())

    @property
    def summary(self) -> str:
        """One line, e.g. 'AFAS: HTTP 401, token rejected: AFAS refused the token for metainfo: ...'."""
        return self.summary_message().render()


@dataclass(frozen=True)
class ConnectionTestResult:
    afas: ServiceCheck
    econnect: ServiceCheck
    tested_at: datetime = field(default_factory=timezone.now)

    @property
    def ok(self) -> bool:
        return self.afas.ok and self.econnect.ok

    @property
    def checks(self) -> tuple[ServiceCheck, ServiceCheck]:
        return (self.afas, self.econnect)

    def as_data(self) -> dict[str, Any]:
        return {"afas": asdict(self.afas), "econnect": asdict(self.econnect), "tested_at": self.tested_at.isoformat()}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ConnectionTestResult | None:
        """Rebuilt from a 'connection_tested' event's data; None when the data is not such a result."""
        try:
            return cls(
                afas=ServiceCheck(**data["afas"]),
                econnect=ServiceCheck(**data["econnect"]),
                tested_at=datetime.fromisoformat(data["tested_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def environment_test_connection(*, environment: Environment, actor: User | None) -> ConnectionTestResult:
    """Call AFAS and eConnect with the environment's stored credentials; record the outcome on its timeline."""
    try:
        # The pages' querysets defer the credentials; they are read here, where they go straight into the clients.
        with_credentials = Environment.objects.get(pk=environment.pk)
        afas = _check_afas(with_credentials)
        econnect = _check_econnect(with_credentials)
    except CredentialDecryptionError:
        afas = ServiceCheck(AFAS, False, problem="unreadable")
        econnect = ServiceCheck(ECONNECT, False, problem="unreadable")
    result = ConnectionTestResult(afas=afas, econnect=econnect)
    if afas.ok or afas.problem == "connectors_missing":
        # The token is accepted: the full AFAS setup check follows (connectors, fields, rights, data) and is what
        # the setup checklist reads.
        afas_check_setup(environment=with_credentials, actor=actor)
    event_record(
        environment=environment,
        actor=actor,
        kind=EVENT_KIND,
        message=Msg("environment.connection_tested", afas=afas.summary_message(), econnect=econnect.summary_message()),
        to_status="ok" if result.ok else "failed",
        data=result.as_data(),
    )
    return result


def connection_test_last(environment: Environment) -> ConnectionTestResult | None:
    """The outcome of the environment's most recent connection test, if any."""
    event = environment.events.filter(kind=EVENT_KIND).order_by("-created_at", "-pk").only("data").first()
    return ConnectionTestResult.from_data(event.data) if event is not None else None


def _check_afas(environment: Environment) -> ServiceCheck:
    if not environment.has_afas_token:
        return ServiceCheck(AFAS, False, problem="no_token")
    if environment.afas_edition == Environment.Edition.SMALL_BUSINESS:
        return _check_afas_small_business(environment)
    try:
        with clients.afas_client_for(environment) as client:
            _limit_wait(client.http)
            client.read_attempts = 1  # a person waits: one try, and the answer shows what happened
            meta = client.metainfo()
            version = client.profit_version()
            required = client.connectors
    except RemoteError as exc:
        return _failed(AFAS, exc)
    missing = [c for c in required.required_get_connectors if c not in meta.get_connectors]
    missing += [c for c in required.required_update_connectors if c not in meta.update_connectors]
    if missing:
        return ServiceCheck(AFAS, False, problem="connectors_missing", detail={"missing": missing})
    return ServiceCheck(AFAS, True, detail={"environment_id": meta.environment_id, "profit_version": version})


def _check_afas_small_business(environment: Environment) -> ServiceCheck:
    if not environment.afas_sb_domain:
        return ServiceCheck(AFAS, False, problem="no_domain")
    try:
        with clients.afas_small_business_client_for(environment) as client:
            _limit_wait(client.http)
            client.access_token()  # exchanging the app token is the cheapest authenticated call SB has
    except RemoteError as exc:
        return _failed(AFAS, exc)
    return ServiceCheck(AFAS, True)


def _check_econnect(environment: Environment) -> ServiceCheck:
    if not environment.has_econnect_keys:
        return ServiceCheck(ECONNECT, False, problem="no_psb_keys" if environment.uses_psb else "no_keys")
    try:
        if environment.uses_psb:
            # Reading the parties the credentials may act for proves the token and the party at once.
            with clients.econnect_gateway_for(environment, timeout=TEST_TIMEOUT) as gateway:
                gateway.login()
            return ServiceCheck(ECONNECT, True, detail={"psb_party": environment.econnect_psb_party_id})
        else:
            with clients.econnect_gateway_for(environment) as gateway:
                _limit_wait(gateway._http)
                gateway.login()
                # One authenticated read proves the security token is accepted, not only issued. Read-only.
                gateway.list_inbox_documents(limit=1)
    except RemoteError as exc:
        return _failed(ECONNECT, exc)
    return ServiceCheck(ECONNECT, True)


def _limit_wait(http: HttpClient) -> None:
    # The clients are built with the background workers' generous timeouts; here a person is waiting.
    # clients.py could take a ``timeout`` argument instead of this reach into the client (asked of the lead).
    http._client.timeout = TEST_TIMEOUT


def _failed(service: str, exc: RemoteError) -> ServiceCheck:
    return ServiceCheck(
        service,
        False,
        problem=_problem(service, exc),
        message=exc.message,
        error_type=type(exc).__name__,
        status=exc.status,
        code=exc.code,
    )


def _problem(service: str, exc: RemoteError) -> str:
    if isinstance(exc, AuthenticationError):
        return "token_rejected" if service == AFAS else "credentials_rejected"
    if isinstance(exc, AccessDenied):
        return "access_denied"
    if isinstance(exc, RemoteTimeout):
        return "timeout"
    if isinstance(exc, MalformedResponse):
        return "malformed"
    if isinstance(exc, TransientError):  # unreachable, maintenance, a server error on its side, "slow down"
        return "unavailable"
    return "refused"
