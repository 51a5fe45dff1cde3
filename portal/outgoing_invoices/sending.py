"""What the invoices of one environment share while a task prepares and submits them."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from integrations.econnect.gateway import EConnectGateway
from integrations.econnect.models import LookupResult
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import PeppolIdentifier
from portal.events.messages import Msg
from portal.organisations import clients
from portal.organisations.models import Environment


def own_sender(environment: Environment) -> PeppolIdentifier | None:
    """The own identifier the environment sends from (the one that receives here, if any); None without one."""
    own = environment.own_identifiers.order_by("-receive_active", "pk").values_list("scheme", "value")[:1]
    return next((PeppolIdentifier(scheme, value) for scheme, value in own), None)


class EnvironmentSending:
    """One environment's sending, shared by the invoices one task prepares and submits: the own identifier they are
    sent from, what keeps the environment from sending, one eConnect gateway (opened when first needed, closed with
    this) and the Peppol directory's answers (a customer of several of the invoices is looked up once)."""

    def __init__(self, environment: Environment):
        self.environment = environment
        self._clients = clients.EnvironmentClients(environment)
        self._lookups: dict[tuple, LookupResult] = {}

    def __enter__(self) -> EnvironmentSending:
        return self

    def __exit__(self, *exc_info) -> None:
        self._clients.__exit__(*exc_info)

    def reread(self, environment: Environment) -> EnvironmentSending:
        """A session for the environment as read again (a claim reads its keys as they are now), with this one's
        sender when it was read."""
        fresh = EnvironmentSending(environment)
        if "sender" in self.__dict__:
            fresh.sender = self.sender
        return fresh

    @cached_property
    def sender(self) -> PeppolIdentifier | None:
        return own_sender(self.environment)

    @cached_property
    def blocker(self) -> Msg | None:
        """What keeps the environment from sending at all, as a message with the fix; None when nothing does."""
        if not self.environment.has_econnect_keys:
            return Msg("outgoing.no_econnect_keys")
        if self.sender is None:
            return Msg("outgoing.no_sender")
        return None

    def gateway(self) -> EConnectGateway:
        """The environment's eConnect gateway (raises as ``clients.econnect_gateway_for`` does, e.g. unreadable keys)."""
        return self._clients.econnect()

    def look_up_participants(self, candidates: Sequence[PeppolIdentifier], document_type: DocumentType) -> LookupResult:
        """The directory's answer for these candidates, asked once per task (a failed lookup is not kept)."""
        key = (tuple(candidates), document_type)
        if key not in self._lookups:
            self._lookups[key] = self.gateway().look_up_participants(candidates, document_type)
        return self._lookups[key]
