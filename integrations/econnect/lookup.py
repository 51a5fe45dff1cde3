"""Peppol participant lookup through eConnect's public delivery-option endpoint (no token needed).

``GET /api/v1/peppol/deliveryOption?partyIds=..&partyIds=..&documentFamily=invoice`` answers, best first, one
option per (participant, document type) it can deliver to: ``[{"partyId", "documentTypeId", "processId",
"protocol", "url", "certificate"}]``, or ``[]`` (APIS.md 1.4, SDK ``PsbPeppolLookupApi``). We ask for the whole
invoice family once and classify per candidate, so "registered, but not for credit notes" is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from integrations.econnect.errors import SERVICE, EConnectServerError, InvalidRequest
from integrations.econnect.models import (
    AccessPoint,
    DeliveryOption,
    LookupResult,
    ParticipantLookup,
    Reachability,
)
from integrations.http import (
    DEFAULT_TIMEOUT,
    HttpClient,
    MalformedResponse,
    RemoteUnavailable,
    retry_after_seconds,
)
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import IdentifierSyntaxError, PeppolIdentifier, parse_identifier
from integrations.ratelimit import RateLimiter

DELIVERY_OPTION_PATH = "/api/v1/peppol/deliveryOption"
MAX_CANDIDATES = 10

_ROOTS = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice": DocumentType.INVOICE,
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote": DocumentType.CREDIT_NOTE,
}


def document_type_of(document_type_id: str) -> DocumentType | None:
    """Invoice or credit note from a Peppol document type id (``<root>##<customization>::<version>``)."""
    root = document_type_id.split("##", 1)[0].strip()
    if root.startswith("busdox-docid-qns::"):
        root = root[len("busdox-docid-qns::") :]
    return _ROOTS.get(root)


def access_point_of(url: str) -> AccessPoint:
    """Which access point an AS4 endpoint belongs to, by its host. [INFERRED]: eConnect's lookup names no AP.

    A URL that cannot be parsed (e.g. ``http://[::1``, an unclosed IPv6 host) names no known access point."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return AccessPoint.UNKNOWN
    if not host:
        return AccessPoint.UNKNOWN
    if host == "econnect.eu" or host.endswith(".econnect.eu"):
        return AccessPoint.ECONNECT
    if "afas" in host.split("."):
        return AccessPoint.AFAS
    return AccessPoint.OTHER


class PeppolLookup:
    """Read-only and idempotent: safe to wrap in ``call_with_retries``."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
    ):
        self._rate_limiter = rate_limiter
        self._http = HttpClient(
            service=f"{SERVICE} Peppol lookup",
            base_url=base_url,
            timeout=timeout,
            headers={"Accept": "application/json"},
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PeppolLookup:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def delivery_options(self, candidates: Sequence[PeppolIdentifier]) -> tuple[DeliveryOption, ...]:
        if not candidates:
            return ()
        if len(candidates) > MAX_CANDIDATES:
            raise ValueError(f"At most {MAX_CANDIDATES} candidate identifiers per lookup")
        params = [("partyIds", c.icd) for c in candidates] + [("documentFamily", "invoice")]
        if self._rate_limiter is not None:
            self._rate_limiter.wait()
        response = self._http.request("GET", DELIVERY_OPTION_PATH, params=params)
        return tuple(_parse_options(_json(response)))

    def look_up(self, candidates: Sequence[PeppolIdentifier], document_type: DocumentType) -> LookupResult:
        options = self.delivery_options(candidates)
        participants = []
        for candidate in candidates:
            own = [o for o in options if o.identifier == candidate]
            types = tuple(dict.fromkeys(o.document_type for o in own if o.document_type is not None))
            matching = [o for o in own if o.document_type is document_type]
            if matching:
                reachability, best = Reachability.REGISTERED, matching[0]
            elif own:
                reachability, best = Reachability.OTHER_DOCUMENT_TYPES_ONLY, own[0]
            else:
                participants.append(ParticipantLookup(candidate, Reachability.NOT_REGISTERED))
                continue
            participants.append(ParticipantLookup(candidate, reachability, types, best.access_point, best.endpoint_url))
        return LookupResult(document_type=document_type, participants=tuple(participants))

    def participants(self, candidates: Sequence[PeppolIdentifier]) -> dict[PeppolIdentifier, ParticipantLookup]:
        """What the directory says about each identifier (any number, asked in batches of ``MAX_CANDIDATES``).

        ``reachability`` is about invoices; ``document_types`` says whether credit notes can be received too.
        """
        unique = list(dict.fromkeys(candidates))
        found: dict[PeppolIdentifier, ParticipantLookup] = {}
        for start in range(0, len(unique), MAX_CANDIDATES):
            batch = unique[start : start + MAX_CANDIDATES]
            result = self.look_up(batch, DocumentType.INVOICE)
            found.update((participant.identifier, participant) for participant in result.participants)
        return found


def _json(response: httpx.Response) -> Any:
    status = response.status_code
    if status >= 500 or status == 429:
        error = EConnectServerError if status == 500 else RemoteUnavailable
        raise error(
            f"The eConnect Peppol lookup answered HTTP {status}.",
            service=SERVICE,
            status=status,
            retry_after=retry_after_seconds(response),
        )
    if status != 200:
        code = ""
        try:
            code = str(response.json().get("code", ""))
        except (ValueError, AttributeError, RecursionError):
            pass
        raise InvalidRequest(
            f"The eConnect Peppol lookup refused the request (HTTP {status}).",
            service=SERVICE,
            status=status,
            code=code,
        )
    try:
        return response.json()
    except (ValueError, RecursionError) as exc:  # nested beyond Python's recursion limit: RecursionError
        raise MalformedResponse("The eConnect Peppol lookup did not answer JSON.", service=SERVICE) from exc


def _parse_options(data: Any) -> list[DeliveryOption]:
    if not isinstance(data, list):
        raise MalformedResponse("The eConnect Peppol lookup did not answer a list.", service=SERVICE)
    options = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("partyId"), str):
            raise MalformedResponse("A delivery option without a partyId.", service=SERVICE)
        try:
            identifier = parse_identifier(item["partyId"])
        except IdentifierSyntaxError as exc:
            raise MalformedResponse(f"A delivery option with an unreadable partyId: {exc}", service=SERVICE) from exc
        document_type_id = str(item.get("documentTypeId") or "")
        url = str(item.get("url") or "")
        options.append(
            DeliveryOption(
                identifier=identifier,
                document_type_id=document_type_id,
                document_type=document_type_of(document_type_id),
                process_id=str(item.get("processId") or ""),
                protocol=str(item.get("protocol") or ""),
                endpoint_url=url,
                access_point=access_point_of(url),
            )
        )
    return options
