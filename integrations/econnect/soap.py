"""The eConnect platform SOAP API v3.1 ("connection keys": App Key + Secret) as an ``EConnectGateway``.

Facts: /work/shared/specs/econnect/SOURCES.md section 2 (vendor pages psb.econnect.eu/platform/endpoints/v3.1/*)
and the v3 WSDL, whose element names v3.1 keeps under the namespace ``http://api.everbinding.nl/v3_1/``.

- SOAP 1.1, ``Content-Type: text/xml; charset=utf-8``, ``SOAPAction: "<ns><Operation>"``; the body is sent as
  bytes so httpx sets ``Content-Length`` (the platform does not support chunked transfer encoding).
- ``Login`` returns a security token for the ``Authentication`` header of every other call, valid for about four
  hours. It is cached per gateway and renewed before it runs out, and once more when a call is refused with an
  expired- or invalid-token fault (such a call was not processed, so repeating it is safe).
- Errors are SOAP faults (HTTP 500) whose ``faultstring`` ends in ``[ERRCODE]``; they become typed errors with the
  code kept for the user. Every response is parsed with the hardened parser; a success answer it refuses becomes an
  ``UnreadableDocument`` that carries the answer's bytes, so one unreadable inbox document can be kept as evidence
  instead of blocking the inbox.
- The credentials live only in this object: never logged, never in ``repr``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import httpx
from lxml import etree

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
    UnknownRecipient,
    UnreadableDocument,
)
from integrations.econnect.lookup import PeppolLookup
from integrations.econnect.models import (
    DeliveryMethod,
    DocumentParty,
    InboxDocument,
    InboxDocumentSummary,
    InboxPage,
    InboxState,
    LookupResult,
    OutboxDocument,
    OutboxDocumentSummary,
    OutboxPage,
    OutboxStatus,
    OutgoingDocument,
    SentDocument,
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
from integrations.peppol.parser import DocumentSummary, parse_document
from integrations.peppol.xml import XmlRejected, parse_untrusted_xml

logger = logging.getLogger(__name__)

NS = "http://api.everbinding.nl/v3_1/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOAP_PATH = "/soap/v3.1"
# MasterTemplateId of the standard SI-UBL "Factuur" template (documentsAndTemplates.html). Credit notes are sent
# with the same template [GUESS: no separate credit-note template id is published].
INVOICE_TEMPLATE_ID = "GLDT9223370666504283001RA000000006DTP2000001"
TOKEN_LIFETIME = timedelta(hours=4)  # "renew it within 4 hours" (securityToken.html)
TOKEN_RENEW_MARGIN = timedelta(minutes=15)
MAX_RESPONSE_BYTES = 60 * 1024 * 1024  # a payload may embed PDFs
OUTBOX_SEARCH_SLACK = timedelta(minutes=10)  # clock skew between us and eConnect
MAX_OUTBOX_PAGES = 50

_ERROR_CODE = re.compile(r"\[\s*([A-Za-z0-9_]+)\s*\]\s*$")


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, q(name))
    if text is not None:
        element.text = text
    return element


def build_envelope(body: etree._Element, *, token: str | None) -> bytes:
    """A SOAP 1.1 envelope around ``body`` (an element in the v3_1 namespace), with the token header if given."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    if token is not None:
        authentication = etree.SubElement(header, q("Authentication"), nsmap={None: NS})
        _sub(authentication, "SecurityToken", token)
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(body)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def operation_element(operation: str) -> etree._Element:
    return etree.Element(q(operation), nsmap={None: NS})


def _text(parent: etree._Element | None, path: str) -> str:
    if parent is None:
        return ""
    element = parent.find(path, namespaces={"e": NS})
    return (element.text or "").strip() if element is not None else ""


def _datetime(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _xml_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _party(element: etree._Element | None) -> DocumentParty | None:
    if element is None:
        return None
    return DocumentParty(_text(element, "e:EConnectPartyId"), _text(element, "e:Name"))


def _inbox_summary(element: etree._Element) -> InboxDocumentSummary:
    code, name = _text(element, "e:Status/e:Code"), _text(element, "e:Status/e:Name")
    external_id = _text(element, "e:ExternalId")
    if not external_id:
        raise MalformedResponse("An eConnect document without an ExternalId.", service=SERVICE)
    return InboxDocumentSummary(
        external_id=external_id,
        subject=_text(element, "e:Subject"),
        created_on=_datetime(_text(element, "e:CreatedOn")),
        modified_on=_datetime(_text(element, "e:ModifiedOn")),
        sender=_party(element.find(q("Sender"))),
        receiver=_party(element.find(q("Reciever"))),  # sic: the WSDL spells it "Reciever"
        state=statuses.inbox_state(code, name),
        status_name=name,
        status_code=code,
    )


def _outbox_status(external_id: str, status: etree._Element | None) -> OutboxStatus | None:
    if status is None:
        return None
    code, name = _text(status, "e:Code"), _text(status, "e:Name")
    return OutboxStatus(
        external_id=external_id,
        state=statuses.outbox_state(code, name),
        name=name,
        code=code,
        changed_on=_datetime(_text(status, "e:Info/e:ChangedOn")),
    )


def _outbox_summary(element: etree._Element) -> OutboxDocumentSummary:
    external_id = _text(element, "e:ExternalId")
    if not external_id:
        raise MalformedResponse("An eConnect outbox document without an ExternalId.", service=SERVICE)
    return OutboxDocumentSummary(
        external_id=external_id,
        subject=_text(element, "e:Subject"),
        created_on=_datetime(_text(element, "e:CreatedOn")),
        modified_on=_datetime(_text(element, "e:ModifiedOn")),
        receiver=_party(element.find(q("Reciever"))),  # sic: the WSDL spells it "Reciever"
        status=_outbox_status(external_id, element.find(q("Status"))),
        delivery_method=_delivery_method(_text(element, "e:Transaction/e:DeliveryMethod")),
    )


def _delivery_method(value: str) -> DeliveryMethod:
    try:
        return DeliveryMethod(value)
    except ValueError:
        return DeliveryMethod.UNKNOWN


def _strip_prolog(data: bytes) -> bytes:
    """The document without BOM and XML declaration: the platform wants the payload "without the XML prolog"."""
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if data.startswith(b"<?xml"):
        end = data.find(b"?>")
        data = data[end + 2 :].lstrip() if end != -1 else data
    return data


def payload_bytes(raw: bytes, payload: etree._Element) -> bytes:
    """The document inside ``Payload`` exactly as eConnect wrote it into the response, from the root element's start
    tag to its end tag (whitespace around it is not part of the document).

    Re-serialising the element would change bytes (inherited namespace declarations, quoting, empty tags), so
    the bytes between the Payload tags are cut out of the raw response and then checked: they must parse, with the
    hardened parser, to the same canonical XML as the element the response parser saw. If not (e.g. a comment that
    looks like a tag), the canonical serialisation is returned instead.
    """
    children = [child for child in payload if isinstance(child.tag, str)]
    if len(children) != 1:
        raise MalformedResponse("The eConnect Payload does not hold exactly one document.", service=SERVICE)
    document = children[0]
    prefix = payload.prefix
    tag = f"{prefix}:Payload" if prefix else "Payload"
    open_match = re.search(rb"<" + re.escape(tag.encode()) + rb"(\s[^>]*)?>", raw)
    close_at = raw.rfind(b"</" + tag.encode())
    canonical = etree.tostring(document, method="c14n", exclusive=True)
    if open_match and close_at > open_match.end():
        candidate = raw[open_match.end() : close_at].strip()
        try:
            parsed = parse_untrusted_xml(candidate, max_bytes=MAX_RESPONSE_BYTES).getroot()
        except XmlRejected:
            parsed = None
        if parsed is not None and etree.tostring(parsed, method="c14n", exclusive=True) == canonical:
            return candidate
    logger.warning("eConnect payload could not be cut out byte for byte; using its canonical form")
    return canonical


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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        if not app_key or not app_secret:
            raise InvalidCredentials("The eConnect App Key and Secret are both required.", service=SERVICE)
        self._app_key = app_key
        self._app_secret = app_secret
        self._soap_url = soap_url
        self._template_id = template_id
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
        _sub(body, "ConsumerKey", self._app_key)
        _sub(body, "ConsumerSecret", self._app_secret)
        token = _text(self._exchange("Login", body, token=None).element, "e:SecurityToken")
        if not token:
            raise MalformedResponse("eConnect Login answered without a SecurityToken.", service=SERVICE)
        self._token = token
        self._token_renew_at = self._clock() + TOKEN_LIFETIME - TOKEN_RENEW_MARGIN
        logger.info("Logged in to eConnect")
        return token

    def _current_token(self) -> str:
        with self._token_lock:
            if self._token is None or self._token_renew_at is None or self._clock() >= self._token_renew_at:
                return self._login_locked()
            return self._token

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:  # another thread may have renewed it already
                self._token = None

    # --- the one SOAP call ---------------------------------------------------------------------------------------
    def _call(self, operation: str, build: Callable[[], etree._Element]) -> _Answer:
        """Call an authenticated operation; renew the token once if eConnect says it has expired."""
        token = self._current_token()
        try:
            return self._exchange(operation, build(), token=token)
        except TokenExpired:
            logger.info("eConnect security token refused on %s; logging in again", operation)
            self._forget_token(token)
        return self._exchange(operation, build(), token=self._current_token())

    def _exchange(self, operation: str, body: etree._Element, *, token: str | None) -> _Answer:
        content = build_envelope(body, token=token)
        response = self._http.request(
            "POST",
            self._soap_url,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}{operation}"'},
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
            return AuthenticationError(f"{where}: HTTP 401 (subscription key?).", service=SERVICE, status=status)
        if status == 403:
            return AccessDenied(f"{where}: HTTP 403.", service=SERVICE, status=status)
        return InvalidRequest(f"{where}: HTTP {status}.", service=SERVICE, status=status)

    @staticmethod
    def _fault_error(operation: str, fault: etree._Element, status: int) -> RemoteError:
        faultcode = (fault.findtext("faultcode") or "").strip()
        faultstring = (fault.findtext("faultstring") or "").strip()
        match = _ERROR_CODE.search(faultstring)
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
        summary, root = _read_outgoing(document)

        def build() -> etree._Element:
            body = operation_element("SendDocument")
            _sub(_sub(body, "Via"), "ReferenceId", _party_reference(document.sender))
            to = _sub(body, "To")
            _sub(to, "ReferenceId", _party_reference(document.recipient))
            if document.fallback_email:
                _sub(to, "EmailAddress", document.fallback_email)
            _sub(body, "Subject", _subject(summary))  # the platform overwrites it with "{template} {invoiceid}"
            _sub(body, "Payload").append(etree.fromstring(etree.tostring(root)))
            _sub(body, "TemplateId", self._template_id)
            return body

        logger.info("Sending %s to eConnect (reference %s)", summary.number, document.reference)
        answer = self._call("SendDocument", build).element
        external_id = _text(answer, "e:ExternalId")
        if not external_id:
            # "Without an ExternalId a document can be considered as not sent" - but we cannot be sure: transient,
            # and the caller checks the outbox before sending again.
            raise MalformedResponse("eConnect SendDocument answered without an ExternalId.", service=SERVICE)
        return SentDocument(
            external_id=external_id, reference=document.reference, subject=_subject(summary), created_on=None
        )

    def find_sent_document(self, document: OutgoingDocument) -> SentDocument | None:
        """The outbox document eConnect already has for ``document``, found the way eConnect itself recognises
        an invoice: the same invoice number, issue date and supplier (documentsAndTemplates.html "revisions").

        The platform API has no field for our reference, so the outbox since ``prepared_at`` is searched, candidates
        are picked by subject (which the platform sets to "{template} {invoiceid}") and confirmed on their payload.
        """
        summary, _ = _read_outgoing(document)
        wanted = _invoice_key(summary)
        since = document.prepared_at - OUTBOX_SEARCH_SLACK
        for item in self._outbox_since(since):
            subject = _text(item, "e:Subject")
            if summary.number and not subject.endswith(summary.number):
                continue
            external_id = _text(item, "e:ExternalId")
            details, raw = self._outbox_document(external_id)
            payload = details.find(q("Payload"))
            if payload is None:
                continue
            try:
                theirs = parse_document(payload_bytes(raw, payload), max_bytes=MAX_RESPONSE_BYTES)
            except XmlRejected:
                continue
            if _invoice_key(theirs) == wanted:
                return SentDocument(
                    external_id=external_id,
                    reference=document.reference,
                    subject=_text(details, "e:Subject"),
                    created_on=_datetime(_text(details, "e:CreatedOn")),
                    status=_outbox_status(external_id, details.find(q("Status"))),
                    delivery_method=_delivery_method(_text(details, "e:Transaction/e:DeliveryMethod")),
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
                paging = _sub(body, "Paging")
                _sub(paging, "Limit", "50")
                if page:
                    _sub(paging, "StartPage", page)
                created = _sub(_sub(body, "Search"), "CreatedOn")
                _sub(created, "To").set(f"{{{XSI}}}nil", "true")
                _sub(created, "From", _xml_datetime(since))
                return body

            answer = self._call("GetOutboxDocuments", build).element
            yield from answer.iterfind("e:Results/e:Document", namespaces={"e": NS})
            page = _text(answer, "e:PagingResponse/e:NextPage") or None
            if page is None:
                return
        raise MalformedResponse("eConnect's outbox paging does not end.", service=SERVICE)

    def _outbox_document(self, external_id: str) -> tuple[etree._Element, bytes]:
        def build() -> etree._Element:
            body = operation_element("GetOutboxDocument")
            _sub(body, "ExternalId", external_id)
            return body

        answer = self._call("GetOutboxDocument", build)
        details = answer.element.find(q("Details"))
        if details is None:
            raise MalformedResponse("eConnect GetOutboxDocument answered without Details.", service=SERVICE)
        return details, answer.raw

    def outbox_status(self, external_id: str) -> OutboxStatus:
        def build() -> etree._Element:
            body = operation_element("GetOutboxDocumentStatus")
            _sub(body, "ExternalId", external_id)
            return body

        status = _outbox_status(external_id, self._call("GetOutboxDocumentStatus", build).element.find(q("Details")))
        if status is None:
            raise MalformedResponse("eConnect GetOutboxDocumentStatus answered without Details.", service=SERVICE)
        return status

    # --- receiving -----------------------------------------------------------------------------------------------
    def list_inbox_documents(
        self, *, state: InboxState | None = InboxState.NEW, page: str | None = None, limit: int = 25
    ) -> InboxPage:
        def build() -> etree._Element:
            body = operation_element("GetInboxDocuments")
            paging = _sub(body, "Paging")
            _sub(paging, "Limit", str(limit))
            if page:
                _sub(paging, "StartPage", page)
            if state is not None:
                _sub(_sub(_sub(body, "Search"), "Status"), "Code", statuses.inbox_code(state))
            return body

        answer = self._call("GetInboxDocuments", build).element
        documents = tuple(
            _inbox_summary(item) for item in answer.iterfind("e:Results/e:Document", namespaces={"e": NS})
        )
        return InboxPage(documents=documents, next_page=_text(answer, "e:PagingResponse/e:NextPage") or None)

    def get_inbox_document(self, external_id: str) -> InboxDocument:
        def build() -> etree._Element:
            body = operation_element("GetInboxDocument")
            _sub(body, "ExternalId", external_id)
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
                statuses.inbox_state(_text(s, "e:Code"), _text(s, "e:Name"))
                for s in answer.iterfind("e:Statuses/e:Status", namespaces={"e": NS})
            )
            return InboxDocument(
                summary=_inbox_summary(details), payload=payload_bytes(raw, payload), allowed_states=allowed
            )
        except MalformedResponse as exc:
            # Read, but holding no single document with an id: the same answer again next time, so kept as evidence.
            raise _unreadable_inbox_document(external_id, raw, exc.message) from exc

    def set_inbox_document_status(self, external_id: str, state: InboxState) -> None:
        code = statuses.inbox_code(state)

        def build() -> etree._Element:
            body = operation_element("SetInboxDocumentStatus")
            _sub(body, "ExternalId", external_id)
            _sub(body, "StatusCode", code)
            return body

        self._call("SetInboxDocumentStatus", build)

    # --- reconciliation: read back what eConnect holds -----------------------------------------------------------
    def list_outbox_documents(self, *, since: datetime, page: str | None = None, limit: int = 100) -> OutboxPage:
        """One page of the outbox: documents created at or after ``since``, with the status the listing gives."""

        def build() -> etree._Element:
            body = operation_element("GetOutboxDocuments")
            paging = _sub(body, "Paging")
            _sub(paging, "Limit", str(limit))
            if page:
                _sub(paging, "StartPage", page)
            created = _sub(_sub(body, "Search"), "CreatedOn")
            _sub(created, "To").set(f"{{{XSI}}}nil", "true")
            _sub(created, "From", _xml_datetime(since))
            return body

        answer = self._call("GetOutboxDocuments", build).element
        documents = tuple(
            _outbox_summary(item) for item in answer.iterfind("e:Results/e:Document", namespaces={"e": NS})
        )
        return OutboxPage(documents=documents, next_page=_text(answer, "e:PagingResponse/e:NextPage") or None)

    def get_outbox_document(self, external_id: str) -> OutboxDocument:
        """One sent document with its payload, as eConnect holds it."""
        details, raw = self._outbox_document(external_id)
        payload = details.find(q("Payload"))
        if payload is None:
            raise MalformedResponse("eConnect GetOutboxDocument answered without a payload.", service=SERVICE)
        return OutboxDocument(summary=_outbox_summary(details), payload=payload_bytes(raw, payload))

    def list_inbox_documents_since(
        self, *, since: datetime, state: InboxState | None = None, page: str | None = None, limit: int = 100
    ) -> InboxPage:
        """One page of inbox documents created at or after ``since`` (in ``state``, or every listed state)."""

        def build() -> etree._Element:
            body = operation_element("GetInboxDocuments")
            paging = _sub(body, "Paging")
            _sub(paging, "Limit", str(limit))
            if page:
                _sub(paging, "StartPage", page)
            search = _sub(body, "Search")
            created = _sub(search, "CreatedOn")
            _sub(created, "To").set(f"{{{XSI}}}nil", "true")
            _sub(created, "From", _xml_datetime(since))
            if state is not None:
                _sub(_sub(search, "Status"), "Code", statuses.inbox_code(state))
            return body

        answer = self._call("GetInboxDocuments", build).element
        documents = tuple(
            _inbox_summary(item) for item in answer.iterfind("e:Results/e:Document", namespaces={"e": NS})
        )
        return InboxPage(documents=documents, next_page=_text(answer, "e:PagingResponse/e:NextPage") or None)

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


def _read_outgoing(document: OutgoingDocument) -> tuple[DocumentSummary, etree._Element]:
    """Our own document, read like any other XML; a document that cannot be read is refused before sending."""
    try:
        summary = parse_document(document.payload)
        root = parse_untrusted_xml(_strip_prolog(document.payload)).getroot()
    except XmlRejected as exc:
        raise DocumentRejected(f"The document cannot be sent: {exc}", service=SERVICE, code=exc.kind) from exc
    return summary, root


def _party_reference(identifier: PeppolIdentifier) -> str:
    """Registry ids in eConnect notation (NL:KVK:...) where there is one; newer pages also accept 0106:..."""
    return identifier.econnect or identifier.icd


def _subject(summary: DocumentSummary) -> str:
    kind = "Creditnota" if summary.is_credit_note else "Factuur"
    return f"{kind} {summary.number or ''}".strip()


def _invoice_key(summary: DocumentSummary) -> tuple[str | None, object, str | None]:
    supplier = summary.supplier.endpoint_id if summary.supplier else None
    return summary.number, summary.issue_date, str(supplier) if supplier else None
