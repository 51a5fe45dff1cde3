"""eConnect's PSB REST API v1 (the Procurement Service Bus): the calls the portal makes, typed in and out.

Facts from ``/work/shared/specs/econnect/psb/contract.md`` (sections 1, 2, 5, 7 and 8), which cites eConnect's .NET
SDK and documentation. Every call carries a Bearer token (``auth.TokenProvider``; a 401 renews it once) and, when
configured, the legacy ``Subscription-Key``. Uploads carry ``X-EConnect-DocumentId``: an id the portal saved before
the call; eConnect answers a repeat with 409, which means "already processed", so a send is safe to repeat.

Errors are the shared typed errors (``integrations.econnect.errors``): 5xx and 429 transient (Retry-After kept),
everything else permanent, with eConnect's error code in ``code`` and its message and request id in the text.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from lxml import etree

from integrations.econnect.errors import (
    SERVICE,
    DocumentNotFound,
    DocumentRejected,
    EConnectServerError,
    InvalidCredentials,
    InvalidRequest,
    SenderNotAllowed,
)
from integrations.econnect.psb.auth import PsbCredentials, TokenProvider
from integrations.econnect.psb.models import DocumentStatus, Hook, InvoiceResponse, plain_text
from integrations.econnect.psb.webhooks import parse_timestamp
from integrations.http import DEFAULT_TIMEOUT, HttpClient, MalformedResponse, RemoteError, retry_after_seconds
from integrations.peppol.xml import XmlRejected, parse_untrusted_xml

# The send endpoint takes at most 24 MB per request including HTTP overhead; above it the web server answers 500,
# which must not be retried (contract.md section 7). The margin covers the multipart envelope and headers.
MAX_UPLOAD_BYTES = 24 * 1000 * 1000 - 64 * 1024
MAX_DOWNLOAD_BYTES = 24 * 1000 * 1000
# At least 6 characters, no special characters such as "@" or "_" (DOC-accp idempotency).
_DOCUMENT_ID = re.compile(r"[A-Za-z0-9-]{6,64}")
INVOICE_DOCUMENT_TYPE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"


@dataclass(frozen=True)
class SendResult:
    document_id: str
    already_processed: bool  # eConnect answered 409: it had this document id already


@dataclass(frozen=True)
class PartyAccess:
    """One party the credentials may act for (``GET /api/v1/me/party``)."""

    id: str
    name: str
    permissions: dict[str, bool]


def new_document_id() -> str:
    """A fresh ``X-EConnect-DocumentId``: a UUID (never the invoice number, which credit notes reuse)."""
    return str(uuid.uuid4())


def check_document_id(document_id: str) -> str:
    if not _DOCUMENT_ID.fullmatch(document_id or ""):
        raise InvalidRequest(
            f"{document_id!r} cannot be an eConnect document id (6 to 64 letters, digits or '-').", service=SERVICE
        )
    return document_id


class PsbClient:
    def __init__(
        self,
        *,
        base_url: str,
        identity_url: str,
        credentials: PsbCredentials,
        party_id: str,
        subscription_key: str = "",
        domain_id: str = "",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.party_id = party_id
        self._credentials = credentials
        self._http = HttpClient(service=SERVICE, base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._identity = HttpClient(service=SERVICE, timeout=timeout, transport=transport)
        self._tokens = TokenProvider(self._identity, identity_url, clock=clock)
        self._headers = {"Accept": "application/json"}
        if subscription_key:
            self._headers["Subscription-Key"] = subscription_key
        if domain_id:
            self._headers["X-EConnect-DomainId"] = domain_id

    def close(self) -> None:
        self._http.close()
        self._identity.close()

    def __enter__(self) -> PsbClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- who we are --------------------------------------------------------------------------------------------

    def me(self) -> str:
        """The name of the PSB user or client (``GET /api/v1/me``): "test connection" proves the credentials."""
        return str(_object(self._ok(self._call("GET", "/api/v1/me"))).get("name", ""))

    def parties(self) -> tuple[PartyAccess, ...]:
        found = []
        for item in _array(self._ok(self._call("GET", "/api/v1/me/party"))):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                permissions = item.get("permissions") if isinstance(item.get("permissions"), dict) else {}
                found.append(
                    PartyAccess(
                        id=item["id"],
                        name=str(item.get("name") or ""),
                        permissions={str(k): bool(v) for k, v in permissions.items()},
                    )
                )
        return tuple(found)

    # --- sending ---------------------------------------------------------------------------------------------

    def send_sales_invoice(self, payload: bytes, *, document_id: str, receiver_id: str | None = None) -> SendResult:
        """Upload the UBL once. A repeat with the same ``document_id`` is answered 409: already processed."""
        check_document_id(document_id)
        if len(payload) > MAX_UPLOAD_BYTES:
            raise DocumentRejected(
                f"The document is {len(payload):,} bytes; eConnect accepts at most 24 MB per upload.",
                service=SERVICE,
                code="SIZE",
            )
        body, content_type = _multipart(payload, filename=f"{document_id}.xml")
        params = {"receiverId": receiver_id} if receiver_id else None
        response = self._call(
            "POST",
            self._party_path("salesInvoice/send"),
            params=params,
            content=body,
            headers={"Content-Type": content_type, "X-EConnect-DocumentId": document_id},
        )
        if response.status_code == 409:
            return SendResult(document_id=document_id, already_processed=True)
        data = _object(self._ok(response, bad_request=DocumentRejected))
        return SendResult(document_id=str(data.get("id") or document_id), already_processed=False)

    def query_recipient_party(
        self, candidates: Sequence[str], *, preferred_document_type_id: str | None = None
    ) -> str | None:
        """The first of ``candidates`` (e.g. ``NL:KVK:…``, ``0106:…``) eConnect can deliver to, as eConnect writes
        it; None when none is reachable (404 API404)."""
        params = {"preferredDocumentTypeId": preferred_document_type_id} if preferred_document_type_id else None
        response = self._call(
            "POST", self._party_path("salesInvoice/queryRecipientParty"), params=params, json=list(candidates)
        )
        if response.status_code == 404:
            return None
        found = _object(self._ok(response)).get("id")
        return found if isinstance(found, str) and found else None

    def sales_invoice_status(self, document_id: str) -> tuple[DocumentStatus, ...]:
        response = self._call("GET", self._party_path(f"salesInvoice/{_segment(document_id)}/status"))
        return _statuses(self._ok(response, not_found=document_id))

    # --- receiving ---------------------------------------------------------------------------------------------

    def download_purchase_invoice(self, document_id: str) -> bytes:
        """The received document byte for byte (no format conversion asked)."""
        response = self._call("GET", self._party_path(f"purchaseInvoice/{_segment(document_id)}/download"))
        self._ok(response, not_found=document_id, as_json=False)
        if len(response.content) > MAX_DOWNLOAD_BYTES:
            raise DocumentRejected(f"eConnect's document {document_id} is larger than 24 MB.", service=SERVICE)
        if not response.content:
            raise MalformedResponse(f"eConnect sent document {document_id} without content.", service=SERVICE)
        if _is_an_error_page(response.content):
            raise MalformedResponse(
                f"eConnect's download of document {document_id} could not be read: it is not an XML document "
                "(an error page of a server on the way?).",
                service=SERVICE,
            )
        return response.content

    def delete_purchase_invoice(self, document_id: str) -> None:
        """Remove the document at eConnect early (after AFAS accepted it). Already gone counts as done."""
        response = self._call("DELETE", self._party_path(f"purchaseInvoice/{_segment(document_id)}"))
        if response.status_code != 404:
            self._ok(response, as_json=False)

    def send_invoice_response(self, document_id: str, response: InvoiceResponse, *, response_document_id: str) -> str:
        """An Invoice Response (AB, RE, UQ …) to the supplier of a received document. Safe to repeat with the same
        ``response_document_id`` (409: already sent)."""
        check_document_id(response_document_id)
        answer = self._call(
            "POST",
            self._party_path(f"purchaseInvoice/{_segment(document_id)}/response"),
            json=response.as_json(),
            headers={"X-EConnect-DocumentId": response_document_id},
        )
        if answer.status_code == 409:
            return response_document_id
        return str(_object(self._ok(answer, not_found=document_id)).get("id") or response_document_id)

    # --- webhooks ----------------------------------------------------------------------------------------------

    def hooks(self) -> tuple[Hook, ...]:
        return tuple(_hook(item) for item in _array(self._ok(self._call("GET", self._party_path("hook")))))

    def put_hook(self, hook: Hook) -> Hook:
        """Create or update (by ``id``) a hook: updating keeps eConnect's retry state, deleting would not."""
        return _hook(_object(self._ok(self._call("PUT", self._party_path("hook"), json=hook.as_json()))))

    def delete_hook(self, hook_id: str) -> None:
        response = self._call("DELETE", self._party_path(f"hook/{_segment(hook_id)}"))
        if response.status_code != 404:
            self._ok(response, as_json=False)

    def ping_hooks(self) -> None:
        """Ask eConnect to send a test event to the party's hooks."""
        self._ok(self._call("GET", self._party_path("hook/ping")))

    # --- the wire --------------------------------------------------------------------------------------------

    def _party_path(self, rest: str) -> str:
        return f"/api/v1/{_segment(self.party_id)}/{rest}"

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        extra = kwargs.pop("headers", None) or {}
        for attempt in (1, 2):
            token = self._tokens.token(self._credentials)
            headers = {**self._headers, **extra, "Authorization": f"Bearer {token}"}
            response = self._http.request(method, path, headers=headers, **kwargs)
            if response.status_code != 401 or attempt == 2:
                return response
            self._tokens.invalidate(self._credentials)  # expired or revoked early: one new token, then give up
        raise AssertionError("unreachable")

    def _ok(
        self,
        response: httpx.Response,
        *,
        bad_request: type[RemoteError] = InvalidRequest,
        not_found: str = "",
        as_json: bool = True,
    ) -> Any:
        status = response.status_code
        if status < 300:
            if not as_json:
                return None
            try:
                return response.json()
            except (ValueError, RecursionError) as exc:  # RecursionError: nested beyond the limit
                raise MalformedResponse(
                    f"eConnect answered HTTP {status}, but not JSON: the answer could not be read.", service=SERVICE
                ) from exc
        code, text = _error_of(response)
        if status == 429 or status >= 500:
            raise EConnectServerError(
                text, service=SERVICE, status=status, code=code, retry_after=retry_after_seconds(response)
            )
        if status == 401:
            raise InvalidCredentials(
                f"eConnect does not accept the PSB credentials ({text}): check the client id and secret.",
                service=SERVICE,
                status=status,
                code=code,
            )
        if status == 403:
            raise SenderNotAllowed(
                f"eConnect does not let these credentials act for {self.party_id} ({text}).",
                service=SERVICE,
                status=status,
                code=code,
            )
        if status == 404 and not_found:
            raise DocumentNotFound(f"eConnect has no document {not_found} ({text}).", service=SERVICE, code=code)
        error = DocumentRejected if status == 413 else bad_request if status == 400 else InvalidRequest
        raise error(text, service=SERVICE, status=status, code=code)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """eConnect's error body ``{code, message, requestId}`` as (code, readable text); the SDK's codes otherwise."""
    status = response.status_code
    try:
        data = response.json()
    except (ValueError, RecursionError):
        snippet = plain_text(response.text, limit=200)
        return f"PSB{status}.JSON02", f"eConnect answered HTTP {status}: {snippet or '(no text)'}"
    if not isinstance(data, dict) or not data:
        return f"PSB{status}.JSON01", f"eConnect answered HTTP {status} without an explanation."
    code = plain_text(data.get("code"), limit=50) or f"PSB{status}"
    message = plain_text(data.get("message"), limit=500) or f"HTTP {status}"
    request_id = plain_text(data.get("requestId"), limit=64)
    return code, f"{message} (eConnect {code}" + (f", request {request_id})" if request_id else ")")


def _object(data: Any) -> dict:
    if not isinstance(data, dict):
        raise MalformedResponse("eConnect answered with an unexpected JSON shape (no object).", service=SERVICE)
    return data


def _array(data: Any) -> list:
    if not isinstance(data, list):
        raise MalformedResponse("eConnect answered with an unexpected JSON shape (no list).", service=SERVICE)
    return data


def _statuses(data: Any) -> tuple[DocumentStatus, ...]:
    return tuple(
        DocumentStatus(
            id=plain_text(item.get("id"), limit=100),
            name=plain_text(item.get("name"), limit=100),
            description=plain_text(item.get("description"), limit=500),
            created_on=parse_timestamp(item.get("createdOn")),
        )
        for item in _array(data)
        if isinstance(item, dict)
    )


def _hook(item: Any) -> Hook:
    data = _object(item)
    topics = data.get("topics") if isinstance(data.get("topics"), list) else []
    return Hook(
        id=str(data.get("id") or ""),
        name=str(data.get("name") or ""),
        action=str(data.get("action") or ""),
        topics=tuple(str(topic) for topic in topics),
        is_active=bool(data.get("isActive", True)),
    )


def _multipart(payload: bytes, *, filename: str) -> tuple[bytes, str]:
    """``multipart/form-data`` with the document in part ``file``, as eConnect's SDKs upload it."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/xml\r\n\r\n"
    ).encode("ascii")
    return head + payload + f"\r\n--{boundary}--\r\n".encode("ascii"), f"multipart/form-data; boundary={boundary}"


def _is_an_error_page(content: bytes) -> bool:
    """Not a document at all: no XML (a text or JSON answer) or an HTML page (a proxy's error page). Anything else,
    unreadable or hostile XML included, is stored as received and judged by the portal's own reading."""
    try:
        root = parse_untrusted_xml(content).getroot()
    except XmlRejected as rejected:
        return rejected.kind in ("empty", "not_xml", "truncated")
    return etree.QName(root).localname.lower() == "html"
