"""AFAS Profit REST client: GetConnectors (paged, filtered, always ordered), UpdateConnectors, dossier files.

One client per environment: the participant number, the environment type and the token are given when it is
created and never read from settings. All HTTP goes through ``integrations.http.HttpClient``; every non-2xx
answer becomes a typed error (``integrations.afas.errors``); every answer becomes a dataclass.

Reads are retried on transient failures (honouring ``Retry-After`` up to ``max_retry_wait`` seconds); writes are
not, because Profit has no idempotency key: a caller that sees a transient error on a write decides itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from integrations.afas import rows as afas_rows
from integrations.afas.errors import (
    SERVICE,
    AfasAuthenticationError,
    AfasConnectorMissing,
    AfasQueryTooLong,
    error_for,
    malformed,
)
from integrations.afas.models import (
    PROFIT_BASE_URL_TEMPLATE,
    Administration,
    AttachmentFile,
    ChangedRows,
    Condition,
    ConnectionProblem,
    ConnectionTestResult,
    ConnectorNames,
    Creditor,
    Debtor,
    DeliveredPurchaseInvoice,
    DossierAttachment,
    DossierItem,
    EnvironmentType,
    Filter,
    MetaInfo,
    Operator,
    Page,
    UpdateResult,
)
from integrations.afas.rows import format_datetime, parse_datetime
from integrations.http import (
    DEFAULT_TIMEOUT,
    AccessDenied,
    AuthenticationError,
    HttpClient,
    RemoteError,
    TransientError,
    call_with_retries,
)

# Profit answers 404 to a request whose query string is longer than this (APIS.md 2.3).
MAX_QUERY_LENGTH = 2049
DEFAULT_PAGE_SIZE = 100
# Room for the largest skip/take a paging loop will send, so that the split is decided once per query.
_PAGING_ROOM = len("skip=999999999&take=99999&")


def encode_token(token: str) -> str:
    """The Authorization value: ``AfasToken`` + base64 of the whole XML token (mandatory since Profit 6)."""
    token = token.strip()
    return "AfasToken " + base64.b64encode(token.encode("utf-8")).decode("ascii")


def _count(value: object, default: int) -> int:
    """A page's skip/take as Profit echoes it; anything but a plain non-negative whole number means ``default``."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _json_body(response: httpx.Response, *, what: str) -> Any:
    """The body as JSON, or ``MalformedResponse``: also for nesting deeper than Python's recursion limit and for
    integers beyond Python's 4,300-digit conversion limit, which the json module raises as other errors."""
    try:
        return response.json()
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise malformed(what, f"not JSON ({str(exc)[:200]})") from exc


class ProfitClient:
    """The AFAS Profit REST API of one environment.

    ``base_url_template`` takes ``{participant}`` and ``{rest_host}`` (rest, resttest, restaccept); for the
    simulator use ``integrations.afas.models.SIMULATOR_BASE_URL_TEMPLATE``.
    """

    def __init__(
        self,
        *,
        participant: str,
        environment_type: str | EnvironmentType,
        token: str,
        connectors: ConnectorNames | None = None,
        base_url_template: str = PROFIT_BASE_URL_TEMPLATE,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        read_attempts: int = 3,
        max_retry_wait: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        max_query_length: int = MAX_QUERY_LENGTH,
        language: str = "nl-nl",
        integration_id: str = "",
    ):
        if not str(participant).isdigit():
            raise ValueError(f"An AFAS participant number is digits only, not {participant!r}")
        self.participant = str(participant)
        self.environment_type = EnvironmentType(environment_type)
        self.connectors = connectors or ConnectorNames()
        self.base_url = base_url_template.format(
            participant=self.participant, rest_host=self.environment_type.rest_host
        ).rstrip("/")
        self.read_attempts = read_attempts
        self.max_retry_wait = max_retry_wait
        self.sleep = sleep
        self.max_query_length = max_query_length
        headers = {
            "Authorization": encode_token(token),
            "Accept": "application/json",
            "Accept-Language": language,
        }
        if integration_id:
            headers["IntegrationId"] = integration_id
        self.http = HttpClient(
            service=SERVICE, base_url=self.base_url, timeout=timeout, headers=headers, transport=transport
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ProfitClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- the one place requests are sent ------------------------------------------------------------------
    def _send(self, method: str, path: str, *, what: str, params: Mapping[str, Any] | None = None, body: Any = None):
        query = urlencode(params or {})
        if len(query) > self.max_query_length:  # never send what Profit answers with 404
            raise AfasQueryTooLong(
                f"The query for {what} is {len(query)} characters; Profit accepts at most {self.max_query_length}.",
                service=SERVICE,
            )
        url = f"{path}?{query}" if query else path
        content = None
        headers = None
        if body is not None:
            content = json.dumps(body).encode("utf-8")
            headers = {"Content-Type": "application/json;charset=utf-8"}
        response = self.http.request(method, url, content=content, headers=headers)
        if not 200 <= response.status_code < 300:
            raise error_for(response, what=what)
        return response

    def _read_json(self, path: str, *, what: str, params: Mapping[str, Any] | None = None) -> Any:
        def attempt() -> Any:
            response = self._send("GET", path, what=what, params=params)
            return _json_body(response, what=what)

        return call_with_retries(attempt, attempts=self.read_attempts, max_delay=self.max_retry_wait, sleep=self.sleep)

    # --- GetConnectors --------------------------------------------------------------------------------------
    def get_page(
        self,
        connector: str,
        *,
        order_by: Sequence[str],
        skip: int = 0,
        take: int = DEFAULT_PAGE_SIZE,
        filter: Filter | None = None,
    ) -> Page:
        """One page. ``order_by`` is required: without it Profit does not guarantee the order between pages.
        A field prefixed with ``-`` sorts descending."""
        if not order_by:
            raise ValueError("GetConnector calls must name orderbyfieldids, or paging may skip or repeat rows")
        if skip < 0 or take < 1:
            raise ValueError("skip must be >= 0 and take >= 1 (skip=-1&take=-1 'everything' is not used)")
        params = {"skip": skip, "take": take, "orderbyfieldids": ",".join(order_by), **(filter or Filter()).query()}
        what = f"GetConnector {connector}"
        data = self._read_json(f"/connectors/{connector}", what=what, params=params)
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
            raise malformed(what, "no 'rows' list")
        rows = tuple(row for row in data["rows"] if isinstance(row, dict))
        if len(rows) != len(data["rows"]):
            raise malformed(what, "a row is not an object")
        return Page(skip=_count(data.get("skip"), skip), take=_count(data.get("take"), take), rows=rows)

    def split_filter(self, filter: Filter | None, order_by: Sequence[str]) -> list[Filter]:
        """The filter as one or more filters whose query strings fit Profit's limit (groups are ORed, so each
        request takes a share of the groups). A single group that does not fit raises ``AfasQueryTooLong``."""
        filter = filter or Filter()
        base = len(urlencode({"orderbyfieldids": ",".join(order_by)})) + _PAGING_ROOM
        if not filter.groups or base + len(urlencode(filter.query())) + 1 <= self.max_query_length:
            return [filter]
        parts: list[Filter] = []
        current: list[tuple[Condition, ...]] = []
        for group in filter.groups:
            candidate = Filter((*current, group))
            if base + len(urlencode(candidate.query())) + 1 <= self.max_query_length:
                current.append(group)
                continue
            if not current:
                raise AfasQueryTooLong(
                    f"One filter group ({', '.join(c.field for c in group)}) is too long for Profit's query string.",
                    service=SERVICE,
                )
            parts.append(Filter(tuple(current)))
            current = [group]
            if base + len(urlencode(Filter((group,)).query())) + 1 > self.max_query_length:
                raise AfasQueryTooLong(
                    f"One filter group ({', '.join(c.field for c in group)}) is too long for Profit's query string.",
                    service=SERVICE,
                )
        parts.append(Filter(tuple(current)))
        return parts

    def iter_rows(
        self,
        connector: str,
        *,
        order_by: Sequence[str],
        filter: Filter | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Iterator[Mapping[str, Any]]:
        """Every row, page by page until a page comes back short. A filter too long for one query string is
        split into several queries; then rows are in order per query, and a row matching groups in two queries is
        yielded once."""
        parts = self.split_filter(filter, order_by)
        seen: set[str] = set()
        for part in parts:
            skip = 0
            while True:
                page = self.get_page(connector, order_by=order_by, skip=skip, take=page_size, filter=part)
                for row in page.rows:
                    if len(parts) > 1:
                        key = json.dumps(row, sort_keys=True, default=str)
                        if key in seen:
                            continue
                        seen.add(key)
                    yield row
                if len(page.rows) < page_size:
                    break
                skip += len(page.rows)

    def rows_changed_since(
        self,
        connector: str,
        *,
        cursor_field: str,
        cursor: Any,
        key_field: str,
        filter: Filter | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> ChangedRows:
        """Rows whose ``cursor_field`` is at or after ``cursor`` (None: all), ordered by it then by ``key_field``.

        At-or-after (``>=``) re-reads the rows sharing the cursor's exact value, so none that changed in the same
        second is lost; the caller's upsert by key makes the re-read harmless. The new cursor is the highest value
        seen (as Profit wrote it).
        """
        if cursor is not None:
            value = format_datetime(cursor) if isinstance(cursor, datetime) else str(cursor)
            filter = (filter or Filter()).and_(Condition(cursor_field, Operator.GREATER_OR_EQUAL, value))
        rows = tuple(self.iter_rows(connector, order_by=(cursor_field, key_field), filter=filter, page_size=page_size))
        # Profit writes date-times as text; a value of another type (hostile or broken) cannot be compared with them.
        values = [row.get(cursor_field) for row in rows if isinstance(row.get(cursor_field), str)]
        return ChangedRows(rows=rows, cursor=max(values) if values else cursor)

    # --- what the portal reads -------------------------------------------------------------------------------
    def debtors(self, *, changed_since: datetime | None = None) -> ChangedRows:
        """Debtors with their e-invoicing fields; ``ChangedRows.rows`` are ``Debtor``s and ``cursor`` a datetime."""
        changed = self.rows_changed_since(
            self.connectors.debtors, cursor_field="ModifiedDate", cursor=changed_since, key_field="DebtorId"
        )
        return ChangedRows(
            rows=tuple(afas_rows.debtor(row) for row in changed.rows),
            cursor=parse_datetime(changed.cursor) if isinstance(changed.cursor, str) else changed.cursor,
        )

    def debtor(self, number: str) -> Debtor | None:
        rows = list(
            self.iter_rows(self.connectors.debtors, order_by=("DebtorId",), filter=Filter.equals("DebtorId", number))
        )
        return afas_rows.debtor(rows[0]) if rows else None

    def debtors_by_organisation(self, organisation_codes: Iterable[str]) -> list[Debtor]:
        """The debtors of these organisations (BcCo), in one read (split if the query would be too long)."""
        codes = sorted(set(organisation_codes))
        if not codes:
            return []
        rows = self.iter_rows(self.connectors.debtors, order_by=("DebtorId",), filter=Filter.any_of("BcCo", codes))
        return [afas_rows.debtor(row) for row in rows]

    def creditors(self) -> list[Creditor]:
        return [afas_rows.creditor(row) for row in self.iter_rows(self.connectors.creditors, order_by=("CreditorId",))]

    def creditors_changed(self, *, changed_since: datetime | None = None) -> ChangedRows:
        """Creditors changed at or after ``changed_since`` (None: all), as ``Creditor``s, with the next cursor."""
        changed = self.rows_changed_since(
            self.connectors.creditors, cursor_field="ModifiedDate", cursor=changed_since, key_field="CreditorId"
        )
        return ChangedRows(
            rows=tuple(afas_rows.creditor(row) for row in changed.rows),
            cursor=parse_datetime(changed.cursor) if isinstance(changed.cursor, str) else changed.cursor,
        )

    def administrations(self) -> list[Administration]:
        return [
            Administration(
                id=afas_rows.integer(row, "AdminId") or 0,
                name=afas_rows.text(row, "AdminNm"),
                code=afas_rows.text(row, "AdminCd"),
            )
            for row in self.iter_rows(self.connectors.administrations, order_by=("AdminId",))
        ]

    def sales_invoice_items(self, *, after_subject_id: int = 0, limit: int | None = None) -> list[DossierItem]:
        """Dossier items of sales invoices filed after ``after_subject_id`` (the cursor: SbId only grows), with their
        attachments: the invoices Profit issued with "invoice and UBL in dossier" (issue method R).

        An item belongs to a sales invoice when ``Profit_SubjectFile`` links it to one (SalesInvoiceNumber), whatever
        its dossier item type; the type filters only when the environment names one.
        """
        conditions = [
            Condition("SubjectId", Operator.GREATER, str(after_subject_id)),
            Condition("SalesInvoiceNumber", Operator.NOT_EMPTY, ""),
        ]
        if self.connectors.sales_invoice_subject_type is not None:
            conditions.append(Condition("TypeId", Operator.EQUAL, str(self.connectors.sales_invoice_subject_type)))
        linked: dict[int, dict[str, Any]] = {}
        for row in self.iter_rows(
            self.connectors.dossier_item_files, order_by=("SubjectId",), filter=Filter.where(*conditions)
        ):
            subject_id = afas_rows.integer(row, "SubjectId")
            if subject_id is not None and subject_id not in linked:
                if limit is not None and len(linked) >= limit:
                    break
                linked[subject_id] = row
        if not linked:
            return []
        found = {
            item.subject_id: item
            for item in (
                afas_rows.dossier_item(row)
                for row in self.iter_rows(
                    self.connectors.dossier_items, order_by=("SbId",), filter=Filter.any_of("SbId", sorted(linked))
                )
            )
        }
        items = [
            replace(
                found.get(subject_id) or afas_rows.dossier_item_from_file(row),
                sales_invoice_number=afas_rows.text(row, "SalesInvoiceNumber"),
            )
            for subject_id, row in linked.items()
        ]
        attachments: dict[int, list[DossierAttachment]] = {}
        for row in self.iter_rows(
            self.connectors.dossier_attachments,
            order_by=("subject_id", "attachment_id"),
            filter=Filter.any_of("subject_id", [item.subject_id for item in items]),
        ):
            attachment = DossierAttachment(
                attachment_id=afas_rows.integer(row, "attachment_id") or 0,
                subject_id=afas_rows.integer(row, "subject_id") or 0,
                file_id=afas_rows.text(row, "file_id"),
                file_name=afas_rows.text(row, "file_name"),
            )
            attachments.setdefault(attachment.subject_id, []).append(attachment)
        return [
            DossierItem(**{**item.__dict__, "attachments": tuple(attachments.get(item.subject_id, ()))})
            for item in items
        ]

    def delivered_purchase_invoices(
        self, *, received_since: datetime | None = None, limit: int | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[DeliveredPurchaseInvoice]:
        """The e-invoices Profit received at or after ``received_since`` (None: all), oldest first, at most
        ``limit`` (read page by page; the caller learns it was cut off when it gets ``limit`` rows)."""
        filter = None
        if received_since is not None:
            filter = Filter.where(Condition("ReceivedOn", Operator.GREATER_OR_EQUAL, format_datetime(received_since)))
        found: list[DeliveredPurchaseInvoice] = []
        for row in self.iter_rows(
            self.connectors.delivered_purchase_invoices,
            order_by=("ReceivedOn", "EntryId"),
            filter=filter,
            page_size=page_size,
        ):
            found.append(
                DeliveredPurchaseInvoice(
                    entry_id=afas_rows.integer(row, "EntryId") or 0,
                    file_name=afas_rows.text(row, "FileName"),
                    invoice_number=afas_rows.text(row, "InvoiceNumber"),
                    invoice_date=afas_rows.text(row, "InvoiceDate")[:10],
                    creditor=afas_rows.text(row, "CreditorId"),
                    received_at=parse_datetime(row.get("ReceivedOn")),
                )
            )
            if limit is not None and len(found) >= limit:
                break
        return found

    def download_attachment(self, subject_id: int, file_id: str) -> AttachmentFile:
        """The bytes of a dossier attachment (``SubjectConnector``, base64 in JSON). The app connector must include
        the subject connector (AppConnectorSubject); AFAS refuses the download without it."""
        what = f"SubjectConnector {subject_id}/{file_id}"
        try:
            data = self._read_json("/SubjectConnector", what=what, params={"SubjectId": subject_id, "FileId": file_id})
        except AfasAuthenticationError as exc:
            raise AfasConnectorMissing(
                "AFAS refused the attachment download (SubjectConnector): add the subject connector "
                f"({self.connectors.subject_connector}) to the app connector in Profit (General > Management > "
                "App connectors > the portal's app connector > tab Connectors), then test again.",
                service=SERVICE,
                status=exc.status,
                code="SUBJECT_CONNECTOR",
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("filedata"), str):
            raise malformed(what, "no 'filedata'")
        try:
            content = base64.b64decode(data["filedata"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise malformed(what, "'filedata' is not base64") from exc
        return AttachmentFile(
            filename=str(data.get("filename") or ""), mimetype=str(data.get("mimetype") or ""), content=content
        )

    # --- metadata and connection test ------------------------------------------------------------------------
    def metainfo(self) -> MetaInfo:
        data = self._read_json("/metainfo", what="metainfo")
        if not isinstance(data, dict):
            raise malformed("metainfo", "not an object")
        info = data.get("info") if isinstance(data.get("info"), dict) else {}

        def ids(key: str) -> tuple[str, ...]:
            items = data.get(key) if isinstance(data.get(key), list) else []
            return tuple(str(i["id"]) for i in items if isinstance(i, dict) and i.get("id"))

        return MetaInfo(
            environment_id=afas_rows.text(info, "envid"),
            app_name=afas_rows.text(info, "appName"),
            group=afas_rows.text(info, "group"),
            token_expiry=afas_rows.text(info, "tokenExpiry"),
            get_connectors=ids("getConnectors"),
            update_connectors=ids("updateConnectors"),
        )

    def connector_fields(self, kind: str, connector: str) -> tuple[str, ...]:
        """The field ids of a GetConnector (``kind="get"``) or UpdateConnector (``"update"``) from
        ``/metainfo/{kind}/{connector}``."""
        what = f"metainfo/{kind}/{connector}"
        data = self._read_json(f"/metainfo/{kind}/{connector}", what=what)
        fields = data.get("fields") if isinstance(data, dict) else None
        if not isinstance(fields, list):
            raise malformed(what, "no 'fields'")
        return tuple(str(f["id"]) for f in fields if isinstance(f, dict) and f.get("id"))

    def profit_version(self) -> str:
        data = self._read_json("/profitversion", what="profitversion")
        if not isinstance(data, dict) or not data.get("version"):
            raise malformed("profitversion", "no 'version'")
        return str(data["version"])

    def test_connection(self) -> ConnectionTestResult:
        """Reach the environment, check the token and that its app connector has every connector the portal uses.
        Never raises for a remote failure: the result names what failed."""
        try:
            meta = self.metainfo()
            version = self.profit_version()
        except AuthenticationError:
            return ConnectionTestResult(
                False,
                ConnectionProblem.TOKEN_REJECTED,
                "AFAS refused the token: generate a new token for this environment in the app connector "
                "and paste the whole <token>…</token> text.",
            )
        except AccessDenied:
            return ConnectionTestResult(
                False,
                ConnectionProblem.IP_RESTRICTED,
                "AFAS refused the portal's IP address: add it to the app connector's IP restriction.",
            )
        except TransientError as exc:
            problem = ConnectionProblem.MAINTENANCE if exc.status == 503 else ConnectionProblem.UNREACHABLE
            return ConnectionTestResult(False, problem, f"AFAS could not be reached: {exc.message}")
        except RemoteError as exc:
            return ConnectionTestResult(False, ConnectionProblem.UNEXPECTED, exc.message)
        missing_get = tuple(c for c in self.connectors.required_get_connectors if c not in meta.get_connectors)
        missing_update = tuple(c for c in self.connectors.required_update_connectors if c not in meta.update_connectors)
        if missing_get or missing_update:
            names = ", ".join((*missing_get, *missing_update))
            return ConnectionTestResult(
                False,
                ConnectionProblem.MISSING_CONNECTORS,
                f"The token works, but its app connector lacks: {names}. Add them in AFAS (app connector).",
                environment_id=meta.environment_id,
                app_name=meta.app_name,
                profit_version=version,
                missing_get_connectors=missing_get,
                missing_update_connectors=missing_update,
            )
        return ConnectionTestResult(
            True,
            ConnectionProblem.NONE,
            f"Connected to AFAS environment {meta.environment_id} (Profit {version}).",
            environment_id=meta.environment_id,
            app_name=meta.app_name,
            profit_version=version,
        )

    # --- UpdateConnectors ---------------------------------------------------------------------------------------
    def update(self, connector: str, element: Mapping[str, Any], *, insert: bool) -> UpdateResult:
        """POST (insert) or PUT (update) ``{"<connector>": {"Element": element}}``; not retried.

        Profit answers 201 with ``{"results": {"<connector>": {...keys}}}``, with the same without ``results``,
        or with an empty body; all three are success.
        """
        method = "POST" if insert else "PUT"
        what = f"UpdateConnector {connector} ({method})"
        response = self._send(method, f"/connectors/{connector}", what=what, body={connector: {"Element": element}})
        return UpdateResult(connector=connector, status=response.status_code, keys=_update_keys(response, connector))

    def deliver_purchase_invoice(
        self,
        *,
        ubl: bytes,
        filename: str = "invoice.xml",
        pdf: bytes | None = None,
        pdf_filename: str = "invoice.pdf",
        administration: int | None = None,
        process_directly: bool = False,
    ) -> UpdateResult:
        """Hand a received UBL to Profit's e-invoice processing (``FiElectronicInvoicePurchase``), bytes unchanged."""
        fields: dict[str, Any] = {
            "FXml": filename,
            "XML": base64.b64encode(ubl).decode("ascii"),
            "Proc": process_directly,
        }
        if pdf is not None:
            fields["FPdf"] = pdf_filename
            fields["PDF"] = base64.b64encode(pdf).decode("ascii")
        if administration is not None:
            fields["UnId"] = administration
        return self.update(self.connectors.purchase_invoice, {"Fields": fields}, insert=True)

    def set_debtor_econnect_id(self, debtor_number: str, econnect_id: str) -> UpdateResult:
        """Write a verified Peppol identifier back to the debtor's "eConnect company ID" (``EnId``)."""
        if len(econnect_id) > 50:
            raise ValueError("EnId holds at most 50 characters")
        # The OpenAPI request schema requires DbId among the Fields, beside the element's @DbId key.
        element = {"@DbId": debtor_number, "Fields": {"DbId": debtor_number, "EnId": econnect_id}}
        return self.update(self.connectors.sales_relation, element, insert=False)


def _update_keys(response: httpx.Response, connector: str) -> Mapping[str, Any]:
    if not response.content.strip():
        return {}
    data = _json_body(response, what=f"UpdateConnector {connector}")
    if isinstance(data, dict) and isinstance(data.get("results"), dict):
        data = data["results"]
    if isinstance(data, dict):
        keys = data.get(connector, data)
        if isinstance(keys, dict):
            return dict(keys)
    return {}
