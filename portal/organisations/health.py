"""Connection health of an environment: when AFAS and eConnect last answered, and whether they refuse its credentials.

Recorded where every call passes: the clients that ``portal.organisations.clients`` builds are wrapped in
``ObservedClient``, so workers, the "test connection" button and anything else count alike. A call that returns
counts as a success; ``AuthenticationError`` and ``AccessDenied`` (from the HTTP choke point, ``integrations.http``)
are a credential failure, shown with its exact message until the next success clears it. Other failures (timeouts,
maintenance, a rejected document) say nothing about the credentials and are not recorded here.

Recording never breaks the call it observes, writes at most once a minute per environment and service for successes
(a conditional UPDATE that matches no row otherwise), and never stores or logs a credential.
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
from collections.abc import Callable, Generator, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.afas.models import ConnectionProblem, ConnectionTestResult
from integrations.http import AccessDenied, AuthenticationError
from portal.organisations.models import Environment

logger = logging.getLogger(__name__)

# A success is written at most this often per environment and service; a success after a failure always is.
SUCCESS_WRITE_INTERVAL = timedelta(seconds=60)
MAX_MESSAGE_LENGTH = 2000
# Methods that do not call the service with the environment's credentials: they prove nothing either way.
UNOBSERVED_METHODS = frozenset({"close", "split_filter", "look_up_participants"})

C = TypeVar("C")


class Service(enum.Enum):
    AFAS = "afas"
    ECONNECT = "econnect"

    @property
    def last_success_field(self) -> str:
        return f"{self.value}_last_success_at"

    @property
    def failing_since_field(self) -> str:
        return f"{self.value}_failing_since"

    @property
    def failure_field(self) -> str:
        return f"{self.value}_failure"


def _safely(write: Callable[[], int], *, environment_id: int, service: Service) -> bool:
    """Run one UPDATE; a failure is logged (without its SQL or parameters) and swallowed.

    Inside a caller's transaction the write gets its own savepoint, so a failing write leaves that transaction usable.
    """
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                return write() == 1
        return write() == 1
    except Exception as exc:  # noqa: BLE001 - health is a side note: the observed call must go on
        logger.warning(
            "Could not record %s connection health of environment %s (%s)",
            service.value,
            environment_id,
            type(exc).__name__,
        )
        return False


# When this process last recorded a success, per (environment, service): within SUCCESS_WRITE_INTERVAL of that, a
# success needs no statement at all (the conditional UPDATE would match no row). A failure recorded by this process forgets
# it; one recorded by another process is cleared by this one's next success at most SUCCESS_WRITE_INTERVAL later.
_success_written: dict[tuple[int, Service], datetime] = {}


def environment_record_success(*, environment_id: int, service: Service, now: datetime | None = None) -> bool:
    """The service answered a call with this environment's credentials. True when a row was written."""
    now = now or timezone.now()
    written = _success_written.get((environment_id, service))
    if written is not None and written <= now < written + SUCCESS_WRITE_INTERVAL:
        return False
    due = (
        Q(**{f"{service.last_success_field}__isnull": True})
        | Q(**{f"{service.last_success_field}__lt": now - SUCCESS_WRITE_INTERVAL})
        | Q(**{f"{service.failing_since_field}__isnull": False})
    )

    def write() -> int:
        rows = Environment.objects.filter(due, pk=environment_id).update(
            **{service.last_success_field: now, service.failing_since_field: None, service.failure_field: ""}
        )
        # Written, or not due (a success under a minute old, no failure): either way nothing to do for a while.
        _success_written[(environment_id, service)] = now
        return rows

    return _safely(write, environment_id=environment_id, service=service)


def environment_record_credential_failure(
    *, environment_id: int, service: Service, message: str, now: datetime | None = None
) -> bool:
    """The service refused this environment's credentials (or the portal's address). Keeps when the failing started;
    writes only when the failure is new or its message changed. True when a row was written."""
    now = now or timezone.now()
    _success_written.pop((environment_id, service), None)
    message = message[:MAX_MESSAGE_LENGTH]
    changed = Q(**{f"{service.failing_since_field}__isnull": True}) | ~Q(**{service.failure_field: message})

    def write() -> int:
        return Environment.objects.filter(changed, pk=environment_id).update(
            **{
                service.failing_since_field: Coalesce(F(service.failing_since_field), Value(now)),
                service.failure_field: message,
            }
        )

    return _safely(write, environment_id=environment_id, service=service)


def scrub(message: str, secrets: Iterable[str]) -> str:
    """The message without any of the secrets in it (a remote error text could echo what it was sent)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "…")
    return message


class ObservedClient:
    """Wraps an AFAS or eConnect client: every public method call records the environment's connection health.

    Behaves like the wrapped client (attributes, context manager); results and exceptions pass through unchanged.
    A method returning a generator is observed until the generator finishes.
    """

    __slots__ = ("_client", "_environment_id", "_service", "_secrets")

    def __init__(self, client: Any, *, environment_id: int, service: Service, secrets: Iterable[str] = ()):
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_environment_id", environment_id)
        object.__setattr__(self, "_service", service)
        object.__setattr__(self, "_secrets", tuple(secrets))

    def __repr__(self) -> str:
        return f"<observed {self._client!r}>"

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        if name.startswith("_") or name in UNOBSERVED_METHODS or not callable(value):
            return value
        return functools.partial(self._observe, value)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._client, name, value)

    def __enter__(self) -> ObservedClient:
        self._client.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        return self._client.__exit__(*exc_info)

    # --- recording -------------------------------------------------------------------------------------------
    def _succeeded(self) -> None:
        environment_record_success(environment_id=self._environment_id, service=self._service)

    def _refused(self, message: str) -> None:
        environment_record_credential_failure(
            environment_id=self._environment_id, service=self._service, message=scrub(message, self._secrets)
        )

    def _observe(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except (AuthenticationError, AccessDenied) as exc:
            self._refused(exc.message)
            raise
        if inspect.isgenerator(result):
            return self._observe_generator(result)
        if isinstance(result, ConnectionTestResult):
            self._record_test_result(result)
        else:
            self._succeeded()
        return result

    def _observe_generator(self, generator: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
        try:
            result = yield from generator
        except (AuthenticationError, AccessDenied) as exc:
            self._refused(exc.message)
            raise
        except GeneratorExit:  # the caller stopped early: what it read came through
            self._succeeded()
            raise
        self._succeeded()
        return result

    def _record_test_result(self, result: ConnectionTestResult) -> None:
        """The AFAS connection test reports refusals in its result instead of raising them."""
        if result.ok or result.problem == ConnectionProblem.MISSING_CONNECTORS:  # the token itself was accepted
            self._succeeded()
        elif result.problem in (ConnectionProblem.TOKEN_REJECTED, ConnectionProblem.IP_RESTRICTED):
            self._refused(result.message)


def observed(client: C, *, environment: Environment, service: Service, secrets: Iterable[str] = ()) -> C:
    """``client`` with its calls recorded as ``environment``'s connection health for ``service``."""
    return ObservedClient(client, environment_id=environment.pk, service=service, secrets=secrets)  # type: ignore[return-value]
