"""The eConnect platform SOAP API v3.1 ("connection keys": App Key + Secret) as an ``EConnectGateway``.

Facts: /work/shared/specs/econnect/SOURCES.md section 2 (vendor pages psb.econnect.eu/platform/endpoints/v3.1/*)
and the v3 WSDL, whose element names v3.1 keeps under the namespace ``http://api.everbinding.nl/v3_1/``.

- SOAP 1.1, ``Content-Type: text/xml; charset=utf-8``, ``SOAPAction: "<ns><Operation>"``; the body is sent as
  bytes so httpx sets ``Content-Length`` (the platform does not support chunked transfer encoding).
- ``Login`` returns a security token for the ``Authentication`` header of every other call, valid for about four
  hours. It is kept per process (keyed by endpoint and credentials, so the short-lived gateway of each task reuses
  it) and renewed before it runs out, and once more when a call is refused with an
  expired- or invalid-token fault (such a call was not processed, so repeating it is safe).
- Errors are SOAP faults (HTTP 500) whose ``faultstring`` ends in ``[ERRCODE]``; they become typed errors with the
  code kept for the user. Every response is parsed with the hardened parser; a success answer it refuses becomes an
  ``UnreadableDocument`` that carries the answer's bytes, so one unreadable inbox document can be kept as evidence
  instead of blocking the inbox.
- The credentials live only in this object: never logged, never in ``repr``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import httpx
from lxml import etree

from integrations.econnect import soap_sessions as sessions
from integrations.econnect import statuses
from integrations.econnect.errors import (
    DOCUMENT_ERROR_CODES,
    DOCUMENT_NOT_FOUND,
    ENVIRONMENT_BLOCKED_CODES,
    INVALID_KEY_OR_TOKEN,
    NO_PERMISSION_FOR_VIA,
    RECEIVER_UNREACHABLE,
    SERVICE,
    STATUS_NOT_ALLOWED,
    TOKEN_EXPIRED_CODES,
    DocumentNotFound,
    DocumentRejected,
    EConnectServerError,
    InvalidCredentials,
    InvalidRequest,
    SenderNotAllowed,
    TokenExpired,
    TokensKeepExpiring,
    UnknownRecipient,
    UnreadableDocument,
)
from integrations.econnect.lookup import PeppolLookup
from integrations.econnect.models import (
    InboxDocument,
    InboxPage,
    InboxState,
    LookupResult,
    OutboxDocument,
    OutboxPage,
    OutboxStatus,
    OutgoingDocument,
    SentDocument,
    StatusOption,
)
from integrations.econnect.soap_messages import (
    ERROR_CODE_PATTERN,
    MAX_RESPONSE_BYTES,
    NS,
    SOAP_ENV,
    XSI,
    build_envelope,
    child_text,
    facts_of,
    operation_element,
    outgoing_facts,
    outgoing_root,
    parse_datetime,
    party_reference,
    payload_bytes,
    q,
    read_delivery_method,
    read_inbox_summary,
    read_outbox_status,
    read_outbox_summary,
    sub_element,
    xml_datetime,
)
from integrations.http import (
    DEFAULT_TIMEOUT,
    AccessDenied,
    AuthenticationError,
    HttpClient,
    MalformedResponse,
    RemoteError,
    RemoteUnavailable,
    retry_after_seconds,
)
from integrations.peppol.document_types import DocumentType
from integrations.peppol.identifiers import PeppolIdentifier
from integrations.peppol.parser import parse_document
from integrations.peppol.xml import XmlRejected, parse_untrusted_xml

logger = logging.getLogger(__name__)


SOAP_PATH = "/soap/v3.1"
# MasterTemplateId of the standard SI-UBL "Factuur" template (documentsAndTemplates.html). No credit-note template id
# is published: credit notes use this one unless ``credit_note_template_id`` names one [GUESS G-EC-5].
INVOICE_TEMPLATE_ID = "GLDT9223370666504283001RA000000006DTP2000001"
TOKEN_LIFETIME = timedelta(hours=4)  # "renew it within 4 hours" (securityToken.html)
TOKEN_RENEW_MARGIN = timedelta(minutes=15)
TOKEN_RENEWALS_PER_CALL = 2  # a token the process kept may have run out, and so may the next
OUTBOX_SEARCH_SLACK = timedelta(minutes=10)  # clock skew between us and eConnect
MAX_OUTBOX_PAGES = 50


class _Answer(NamedTuple):
    element: etree._Element  # the <Operation>Response element
    raw: bytes  # the whole response as received, for payloads that must stay byte for byte


class PlatformSoapGateway:
    """``EConnectGateway`` over the platform SOAP API v3.1. One instance per environment (per key pair)."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        soap_url: str,
        lookup_url: str,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        lookup_transport: httpx.BaseTransport | None = None,
        template_id: str = INVOICE_TEMPLATE_ID,
        credit_note_template_id: str = "",
        subscription_key: str = "",
        group_id: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        if not app_key or not app_secret:
            raise InvalidCredentials("The eConnect App Key and Secret are both required.", service=SERVICE)
        self._app_key = app_key
        self._app_secret = app_secret
        self._soap_url = soap_url
        self._template_id = template_id
        self._credit_note_template_id = credit_note_template_id
        # eConnect's subscription key goes on the endpoint URL of every call (?subscriptionKey=); it is a secret:
        # integrations.http logs paths only, and it is never part of a message.
        self._params = {"subscriptionKey": subscription_key} if subscription_key else None
        self._group_id = group_id
        self._clock = clock
        self._http = HttpClient(service=SERVICE, timeout=timeout, transport=transport)
        self._lookup = PeppolLookup(base_url=lookup_url, timeout=timeout, transport=lookup_transport or transport)
        self._token: str | None = None
        self._token_renew_at: datetime | None = None
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<PlatformSoapGateway {self._soap_url} key=…{self._app_key[-4:]}>"

    def close(self) -> None:
        self._http.close()
        self._lookup.close()

    def __enter__(self) -> PlatformSoapGateway:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- authentication ------------------------------------------------------------------------------------------
    def login(self) -> None:
        with self._token_lock:
            self._login_locked()

    def _login_locked(self) -> str:
        body = operation_element("Login")
        sub_element(body, "ConsumerKey", self._app_key)
        sub_element(body, "ConsumerSecret", self._app_secret)
        token = child_text(self._exchange("Login", body, token=None).element, "e:SecurityToken")
        if not token:
            raise MalformedResponse("eConnect Login answered without a SecurityToken.", service=SERVICE)
        self._token = token
        self._token_renew_at = self._clock() + TOKEN_LIFETIME - TOKEN_RENEW_MARGIN
        sessions.keep(self._soap_url, self._app_key, self._app_secret, token, self._token_renew_at)
        logger.info("Logged in to eConnect")
        return token

    def _current_token(self) -> str:
        with self._token_lock:
            if self._token is None or self._token_renew_at is None:
                self._token, self._token_renew_at = sessions.kept(self._soap_url, self._app_key, self._app_secret)
            if self._token is None or self._token_renew_at is None or self._clock() >= self._token_renew_at:
                return self._login_locked()
            return self._token

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:  # another thread may have renewed it already
                self._token = None
            sessions.forget(self._soap_url, self._app_key, self._app_secret, token)

    # --- the one SOAP call ---------------------------------------------------------------------------------------
    def _call(self, operation: str, build: Callable[[], etree._Element]) -> _Answer:
        """Call an authenticated operation; renew the token while eConnect says it has expired, a few times. A
        refused call was not processed, so repeating it is safe."""
        token = self._current_token()
        for renewals in range(TOKEN_RENEWALS_PER_CALL + 1):
            try:
                return self._exchange(operation, build(), token=token)
            except TokenExpired as exc:
                self._forget_token(token)
                if renewals == TOKEN_RENEWALS_PER_CALL:
                    raise TokensKeepExpiring(f"eConnect refused {renewals + 1} fresh security tokens in a row on "
                                             f"{operation}; nothing was processed.", service=SERVICE, code=exc.code) from exc  # fmt: skip
                logger.info("eConnect security token refused on %s; logging in again", operation)
                token = self._current_token()
        raise AssertionError("unreachable")

    def _exchange(self, operation: str, body: etree._Element, *, token: str | None) -> _Answer:
        content = build_envelope(body, token=token)
        response = self._http.request(
            "POST",
            self._soap_url,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}{operation}"'},
            params=self._params,
            content=content,
        )
        return self._read(operation, response)

    def _read(self, operation: str, response: httpx.Response) -> _Answer:
        status = response.status_code
        body = self._soap_body(operation, response)
        if body is not None:
            fault = body.find(f"{{{SOAP_ENV}}}Fault")
            if fault is not None:
                raise self._fault_error(operation, fault, status)
            if status == 200:
                answer = body.find(q(f"{operation}Response"))
                if answer is None:
                    raise MalformedResponse(f"eConnect answered {operation} without its response.", service=SERVICE)
                return _Answer(answer, response.content)
        raise self._http_error(operation, response)

    def _soap_body(self, operation: str, response: httpx.Response) -> etree._Element | None:
        content_type = response.headers.get("Content-Type", "")
        if "xml" not in content_type or not response.content:
            return None
        try:
            tree = parse_untrusted_xml(response.content, max_bytes=MAX_RESPONSE_BYTES)
        except XmlRejected as exc:
            if response.status_code == 200:
                # A success answer the hardened parser refuses (e.g. a payload nested beyond libxml2's 2,048 levels,
                # which UBL extensions allow) will be refused again when asked again: its bytes go to the caller.
                raise UnreadableDocument(
                    f"eConnect {operation} answered, but the answer cannot be read safely: {exc.message.en}",
                    raw=response.content,
                    reason=exc.message.en,
                    service=SERVICE,
                    status=200,
                ) from exc
            return None
        root = tree.getroot()
        if root.tag != f"{{{SOAP_ENV}}}Envelope":
            return None
        return root.find(f"{{{SOAP_ENV}}}Body")

    @staticmethod
    def _http_error(operation: str, response: httpx.Response) -> RemoteError:
        status = response.status_code
        retry_after = retry_after_seconds(response)
        where = f"eConnect {operation}"
        if status == 200:
            return MalformedResponse(f"{where} answered something that is not a SOAP envelope.", service=SERVICE)
        if status in (502, 503, 504, 429):
            return RemoteUnavailable(
                f"{where}: HTTP {status}, unavailable.", service=SERVICE, status=status, retry_after=retry_after
            )
        if status >= 500:
            return EConnectServerError(
                f"{where}: HTTP {status} without a SOAP fault.", service=SERVICE, status=status, retry_after=retry_after
            )
        if status == 401:
            return AuthenticationError(
                f"{where}: HTTP 401: eConnect refused the subscription key (ECONNECT_SUBSCRIPTION_KEY is missing or "
                "wrong; eConnect gives it with the connection).",
                service=SERVICE,
                status=status,
                code="SUBSCRIPTION_KEY",
            )
        if status == 403:
            return AccessDenied(f"{where}: HTTP 403.", service=SERVICE, status=status)
        return InvalidRequest(f"{where}: HTTP {status}.", service=SERVICE, status=status)

    @staticmethod
    def _fault_error(operation: str, fault: etree._Element, status: int) -> RemoteError:
        faultcode = (fault.findtext("faultcode") or "").strip()
        faultstring = (fault.findtext("faultstring") or "").strip()
        match = ERROR_CODE_PATTERN.search(faultstring)
        code = match.group(1) if match else ""
        message = f"eConnect {operation}: {faultstring or faultcode or 'SOAP fault'}"
        kwargs = {"service": SERVICE, "status": status, "code": code}
        if code in TOKEN_EXPIRED_CODES:
            return TokenExpired(message, **kwargs)
        if code == INVALID_KEY_OR_TOKEN:
            return InvalidCredentials(message, **kwargs) if operation == "Login" else TokenExpired(message, **kwargs)
        if code == NO_PERMISSION_FOR_VIA or code in ENVIRONMENT_BLOCKED_CODES:
            return SenderNotAllowed(message, **kwargs)
        if code == RECEIVER_UNREACHABLE:
            return UnknownRecipient(message, **kwargs)
        if code in DOCUMENT_ERROR_CODES:
            return DocumentRejected(message, **kwargs)
        if code == DOCUMENT_NOT_FOUND:
            return DocumentNotFound(message, **kwargs)
        if code == STATUS_NOT_ALLOWED:
            return InvalidRequest(message, **kwargs)
        if faultcode.split(":")[-1].lower().startswith("client"):
            return InvalidRequest(message, **kwargs)
        return EConnectServerError(message, **kwargs)

    # --- sending -------------------------------------------------------------------------------------------------
    def send_document(self, document: OutgoingDocument) -> SentDocument:
        facts, root = outgoing_facts(document), outgoing_root(document)

        def build() -> etree._Element:
            body = operation_element("SendDocument")
            sub_element(sub_element(body, "Via"), "ReferenceId", party_reference(document.sender))
            to = sub_element(body, "To")
            sub_element(to, "ReferenceId", party_reference(document.recipient))
            if document.fallback_email:
                sub_element(to, "EmailAddress", document.fallback_email)
            sub_element(body, "Subject", facts.subject)  # the platform overwrites it with "{template} {invoiceid}"
            sub_element(body, "Payload").append(etree.fromstring(etree.tostring(root)))
            sub_element(body, "TemplateId", self._template_for(facts.credit_note))
            return body

        logger.info("Sending %s to eConnect (reference %s)", facts.number, document.reference)
        answer = self._call("SendDocument", build).element
        external_id = child_text(answer, "e:ExternalId")
        if not external_id:
            # "Without an ExternalId a document can be considered as not sent" - but we cannot be sure: transient,
            # and the caller checks the outbox before sending again.
            raise MalformedResponse("eConnect SendDocument answered without an ExternalId.", service=SERVICE)
        return SentDocument(
            external_id=external_id, reference=document.reference, subject=facts.subject, created_on=None
        )

    def _template_for(self, credit_note: bool) -> str:
        if credit_note and self._credit_note_template_id:
            return self._credit_note_template_id
        return self._template_id

    @property
    def receive_template_ids(self) -> tuple[str, ...]:
        """The MasterTemplateIds the inbox is read for: invoices, and credit notes when they have their own."""
        ids = [self._template_id]
        if self._credit_note_template_id and self._credit_note_template_id != self._template_id:
            ids.append(self._credit_note_template_id)
        return tuple(ids)

    def _scope(self, body: etree._Element) -> None:
        """GroupId: the company whose inbox is read, so keys that see several companies read only this one."""
        if self._group_id:
            sub_element(body, "GroupId", self._group_id)

    def find_sent_document(self, document: OutgoingDocument) -> SentDocument | None:
        """The outbox document eConnect already has for ``document``, found the way eConnect itself recognises
        an invoice: the same invoice number, issue date and supplier (documentsAndTemplates.html "revisions").

        The platform API has no field for our reference, so the outbox since ``prepared_at`` is searched, candidates
        are picked by subject (which the platform sets to "{template} {invoiceid}") and confirmed on their payload.
        """
        facts = outgoing_facts(document)
        wanted = facts.key
        since = document.prepared_at - OUTBOX_SEARCH_SLACK
        for item in self._outbox_since(since):
            subject = child_text(item, "e:Subject")
            if facts.number and not subject.endswith(facts.number):
                continue
            external_id = child_text(item, "e:ExternalId")
            details, raw = self._outbox_document(external_id)
            payload = details.find(q("Payload"))
            if payload is None:
                continue
            try:
                theirs = parse_document(payload_bytes(raw, payload), max_bytes=MAX_RESPONSE_BYTES)
            except XmlRejected:
                continue
            if facts_of(theirs).key == wanted:
                return SentDocument(
                    external_id=external_id,
                    reference=document.reference,
                    subject=child_text(details, "e:Subject"),
                    created_on=parse_datetime(child_text(details, "e:CreatedOn")),
                    status=read_outbox_status(external_id, details.find(q("Status"))),
                    delivery_method=read_delivery_method(child_text(details, "e:Transaction/e:DeliveryMethod")),
                )
        return None

    def send_once(self, document: OutgoingDocument, *, check_first: bool) -> SentDocument:
        if check_first:
            already = self.find_sent_document(document)
            if already is not None:
                logger.info("eConnect already has reference %s as %s", document.reference, already.external_id)
                return already
        return self.send_document(document)

    def _outbox_since(self, since: datetime) -> Iterator[etree._Element]:
        page: str | None = None
        for _ in range(MAX_OUTBOX_PAGES):

            def build(page: str | None = page) -> etree._Element:
                body = operation_element("GetOutboxDocuments")
                self._scope(body)
                paging = sub_element(body, "Paging")
                sub_element(paging, "Limit", "50")
                if page:
                    sub_element(paging, "StartPage", page)
                created = sub_element(sub_element(body, "Search"), "CreatedOn")
                sub_element(created, "To").set(f"{{{XSI}}}nil", "true")
                sub_element(created, "From", xml_datetime(since))
                return body

            answer = self._call("GetOutboxDocuments", build).element
            yield from answer.iterfind("e:Results/e:Document", namespaces={"e": NS})
            page = child_text(answer, "e:PagingResponse/e:NextPage") or None
            if page is None:
                return
        raise MalformedResponse("eConnect's outbox paging does not end.", service=SERVICE)

    def _outbox_document(self, external_id: str) -> tuple[etree._Element, bytes]:
        def build() -> etree._Element:
            body = operation_element("GetOutboxDocument")
            sub_element(body, "ExternalId", external_id)
            return body

        answer = self._call("GetOutboxDocument", build)
        details = answer.element.find(q("Details"))
        if details is None:
            raise MalformedResponse("eConnect GetOutboxDocument answered without Details.", service=SERVICE)
        return details, answer.raw

    def outbox_status(self, external_id: str) -> OutboxStatus:
        def build() -> etree._Element:
            body = operation_element("GetOutboxDocumentStatus")
            sub_element(body, "ExternalId", external_id)
            return body

        status = read_outbox_status(
            external_id, self._call("GetOutboxDocumentStatus", build).element.find(q("Details"))
        )
        if status is None:
            raise MalformedResponse("eConnect GetOutboxDocumentStatus answered without Details.", service=SERVICE)
        return status

    # --- receiving -----------------------------------------------------------------------------------------------
    def list_inbox_documents(
        self,
        *,
        state: InboxState | None = InboxState.NEW,
        page: str | None = None,
        limit: int = 25,
        since: datetime | None = None,
        template_id: str | None = None,
    ) -> InboxPage:
        def build() -> etree._Element:
            body = operation_element("GetInboxDocuments")
            self._scope(body)
            paging = sub_element(body, "Paging")
            sub_element(paging, "Limit", str(limit))
            if page:
                sub_element(paging, "StartPage", page)
            search = sub_element(body, "Search")
            if since is not None:
                created = sub_element(search, "CreatedOn")
                sub_element(created, "To").set(f"{{{XSI}}}nil", "true")
                sub_element(created, "From", xml_datetime(since))
            if state is not None:
                sub_element(sub_element(search, "Status"), "Code", statuses.inbox_code(state))
            if template_id:
                sub_element(sub_element(search, "Template"), "MasterId", template_id)
            return body

        answer = self._call("GetInboxDocuments", build).element
        documents = tuple(
            read_inbox_summary(item) for item in answer.iterfind("e:Results/e:Document", namespaces={"e": NS})
        )
        return InboxPage(documents=documents, next_page=child_text(answer, "e:PagingResponse/e:NextPage") or None)

    def get_inbox_document(self, external_id: str) -> InboxDocument:
        def build() -> etree._Element:
            body = operation_element("GetInboxDocument")
            sub_element(body, "ExternalId", external_id)
            return body

        try:
            answer, raw = self._call("GetInboxDocument", build)
        except UnreadableDocument as exc:
            raise _unreadable_inbox_document(external_id, exc.raw, exc.reason) from exc
        try:
            details = answer.find(q("Details"))
            payload = details.find(q("Payload")) if details is not None else None
            if details is None or payload is None:
                raise MalformedResponse("eConnect GetInboxDocument answered without a payload.", service=SERVICE)
            allowed = tuple(
                StatusOption(code=child_text(s, "e:Code"), name=child_text(s, "e:Name"))
                for s in answer.iterfind("e:Statuses/e:Status", namespaces={"e": NS})
            )
            return InboxDocument(
                summary=read_inbox_summary(details), payload=payload_bytes(raw, payload), allowed_statuses=allowed
            )
        except MalformedResponse as exc:
            # Read, but holding no single document with an id: the same answer again next time, so kept as evidence.
            raise _unreadable_inbox_document(external_id, raw, exc.message) from exc

    def set_inbox_document_status(self, external_id: str, code: str) -> None:
        """``code``: one of the document's allowed statuses (``InboxDocument.allowed_statuses``)."""

        def build() -> etree._Element:
            body = operation_element("SetInboxDocumentStatus")
            sub_element(body, "ExternalId", external_id)
            sub_element(body, "StatusCode", code)
            return body

        self._call("SetInboxDocumentStatus", build)

    # --- reconciliation: read back what eConnect holds -----------------------------------------------------------
    def list_outbox_documents(self, *, since: datetime, page: str | None = None, limit: int = 100) -> OutboxPage:
        """One page of the outbox: documents created at or after ``since``, with the status the listing gives."""

        def build() -> etree._Element:
            body = operation_element("GetOutboxDocuments")
            self._scope(body)
            paging = sub_element(body, "Paging")
            sub_element(paging, "Limit", str(limit))
            if page:
                sub_element(paging, "StartPage", page)
            created = sub_element(sub_element(body, "Search"), "CreatedOn")
            sub_element(created, "To").set(f"{{{XSI}}}nil", "true")
            sub_element(created, "From", xml_datetime(since))
            return body

        answer = self._call("GetOutboxDocuments", build).element
        documents = tuple(
            read_outbox_summary(item) for item in answer.iterfind("e:Results/e:Document", namespaces={"e": NS})
        )
        return OutboxPage(documents=documents, next_page=child_text(answer, "e:PagingResponse/e:NextPage") or None)

    def get_outbox_document(self, external_id: str) -> OutboxDocument:
        """One sent document with its payload, as eConnect holds it."""
        details, raw = self._outbox_document(external_id)
        payload = details.find(q("Payload"))
        if payload is None:
            raise MalformedResponse("eConnect GetOutboxDocument answered without a payload.", service=SERVICE)
        return OutboxDocument(summary=read_outbox_summary(details), payload=payload_bytes(raw, payload))

    def list_inbox_documents_since(
        self, *, since: datetime, state: InboxState | None = None, page: str | None = None, limit: int = 100
    ) -> InboxPage:
        """One page of inbox documents created at or after ``since`` (in ``state``, or every listed state)."""

        def build() -> etree._Element:
            body = operation_element("GetInboxDocuments")
            self._scope(body)
            paging = sub_element(body, "Paging")
            sub_element(paging, "Limit", str(limit))
            if page:
                sub_element(paging, "StartPage", page)
            search = sub_element(body, "Search")
            created = sub_element(search, "CreatedOn")
            sub_element(created, "To").set(f"{{{XSI}}}nil", "true")
            sub_element(created, "From", xml_datetime(since))
            if state is not None:
                sub_element(sub_element(search, "Status"), "Code", statuses.inbox_code(state))
            return body

        answer = self._call("GetInboxDocuments", build).element
        documents = tuple(
            read_inbox_summary(item) for item in answer.iterfind("e:Results/e:Document", namespaces={"e": NS})
        )
        return InboxPage(documents=documents, next_page=child_text(answer, "e:PagingResponse/e:NextPage") or None)

    # --- lookup --------------------------------------------------------------------------------------------------
    def look_up_participants(self, candidates: Sequence[PeppolIdentifier], document_type: DocumentType) -> LookupResult:
        return self._lookup.look_up(candidates, document_type)


def _unreadable_inbox_document(external_id: str, raw: bytes, reason: str) -> UnreadableDocument:
    return UnreadableDocument(
        f"eConnect's answer for inbox document {external_id[:100]} cannot be read safely: {reason}",
        raw=raw,
        external_id=external_id,
        reason=reason,
        service=SERVICE,
        status=200,
    )
