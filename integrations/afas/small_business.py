"""AFAS Small Business (AFAS Focus) client: a different API from Profit (OASContent ``sb/en/6-0-0.json``).

- Base ``https://{domain}.afasfocus.nl/{customer environment}``; a static app token is exchanged at
  ``POST /authentication/getaccesstoken`` for a bearer access token valid 10 minutes (renewed here on expiry).
- Purchase invoices: ``POST /api/purchasejournalentry`` (version 1.1) with one line per VAT rate
  (``VatType`` high/low/zero, ``VatCalculation`` reversecharged/exempt) and blob attachments
  (``PUT /api/blob/{uuid}``: reserve with the Blob-* headers, then upload as multipart).
- SB cannot break down VAT from a UBL file, so ``journal_lines_from_vat_breakdown`` does it from the parsed UBL.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import httpx

from integrations.afas.errors import SERVICE, AfasNotConfigured, malformed
from integrations.http import (
    DEFAULT_TIMEOUT,
    AuthenticationError,
    HttpClient,
    PermanentError,
    RemoteError,
    RemoteUnavailable,
    TransientError,
    retry_after_seconds,
)
from integrations.peppol.parser import VatBreakdown

SB_BASE_URL_TEMPLATE = "https://{domain}.afasfocus.nl/{environment}"
SIMULATOR_SB_BASE_URL_TEMPLATE = "http://127.0.0.1:8101/sb/{domain}/{environment}"
JOURNAL_ENTRY_VERSION = "1"  # Accept-Version of purchasejournalentry 1.1 ("the sequence number of the endpoint")
_RENEW_MARGIN_SECONDS = 30


class VatType(StrEnum):
    HIGH = "high"
    LOW = "low"
    ZERO = "zero"


class VatCalculation(StrEnum):
    NORMAL = ""
    REVERSE_CHARGED = "reversecharged"
    EXEMPT = "exempt"


@dataclass(frozen=True)
class JournalLine:
    ledger_account_id: str
    amount_excluding_vat: Decimal
    amount_vat: Decimal
    vat_type: VatType
    vat_calculation: VatCalculation = VatCalculation.NORMAL
    description: str = ""

    def as_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "Description": self.description,
            "LedgerAccountId": self.ledger_account_id,
            "AmountExcludingVat": float(self.amount_excluding_vat),
            "AmountVat": float(self.amount_vat),
            "VatType": self.vat_type.value,
        }
        if self.vat_calculation is not VatCalculation.NORMAL:
            line["VatCalculation"] = self.vat_calculation.value
        return line


@dataclass(frozen=True)
class UnknownRelation:
    id: str
    name: str
    purchase_relation: bool


@dataclass(frozen=True)
class PurchaseJournalEntry:
    administration_id: str
    invoice_number: str
    relation_id: str
    invoice_date: date
    due_date: date
    lines: tuple[JournalLine, ...]
    relation_type: str = "organisation"
    reference: str = ""
    attachment_ids: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "AdministrationId": self.administration_id,
            "InvoiceNumber": self.invoice_number,
            "RelationType": self.relation_type,
            "RelationId": self.relation_id,
            "InvoiceDate": self.invoice_date.isoformat(),
            "DueDate": self.due_date.isoformat(),
            "InvoiceLine": [line.as_json() for line in self.lines],
        }
        if self.reference:
            body["Reference"] = self.reference
        if self.attachment_ids:
            body["Attachments"] = [{"AttachmentId": a} for a in self.attachment_ids]
        return body


@dataclass(frozen=True)
class JournalEntryResult:
    invoice_id: str
    invoice_number: str  # SB's own number, e.g. IF240002


class UnsupportedVat(ValueError):
    """A VAT breakdown SB cannot book as high/low/zero (e.g. a foreign rate): a person books it by hand."""


# Dutch rates: 21% high, 9% low (6% before 2019). [GUESS G-SB-5] K/G/O categories map as the buyer books them.
_HIGH_RATES = {Decimal("21")}
_LOW_RATES = {Decimal("9"), Decimal("6")}


def journal_lines_from_vat_breakdown(
    breakdown: Sequence[VatBreakdown], *, ledger_account_id: str, description: str = ""
) -> tuple[JournalLine, ...]:
    """One journal line per VAT breakdown of the UBL (``cac:TaxSubtotal``), as SB wants them."""
    lines = []
    for item in breakdown:
        category = (item.category or "").upper()
        rate = item.rate if item.rate is not None else Decimal("0")
        taxable = item.taxable_amount or Decimal("0")
        tax = item.tax_amount or Decimal("0")
        calculation = VatCalculation.NORMAL
        if category == "S" and rate in _HIGH_RATES:
            vat_type = VatType.HIGH
        elif category == "S" and rate in _LOW_RATES:
            vat_type = VatType.LOW
        elif category == "Z":
            vat_type = VatType.ZERO
        elif category in ("AE", "K"):
            vat_type, calculation = VatType.ZERO, VatCalculation.REVERSE_CHARGED
        elif category in ("E", "G", "O"):
            vat_type, calculation = VatType.ZERO, VatCalculation.EXEMPT
        else:
            raise UnsupportedVat(f"VAT category {category or '?'} at {rate}% cannot be booked in AFAS Small Business")
        lines.append(
            JournalLine(
                ledger_account_id=ledger_account_id,
                amount_excluding_vat=taxable,
                amount_vat=tax,
                vat_type=vat_type,
                vat_calculation=calculation,
                description=description or f"Btw {category} {rate.normalize():f}%",
            )
        )
    return tuple(lines)


class SmallBusinessClient:
    """One AFAS Small Business customer environment, authenticated with a static app token."""

    def __init__(
        self,
        *,
        domain: str,
        environment: str,
        app_token: str,
        base_url_template: str = SB_BASE_URL_TEMPLATE,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", environment or ""):
            # The customer environment is the name after the host ("enyoi" in concepts.md's examples).
            raise AfasNotConfigured(
                "The AFAS Small Business customer environment is missing or not a name like 'enyoi' (the part after "
                "the host in the SB address): set it on the environment.",
                service=SERVICE,
            )
        self.base_url = base_url_template.format(domain=domain, environment=environment).rstrip("/")
        self._app_token = app_token
        self._clock = clock
        self._access_token = ""
        self._expires_at = 0.0
        self.http = HttpClient(
            service=SERVICE, base_url=self.base_url, timeout=timeout, headers={"Accept": "application/json"},
            transport=transport,
        )  # fmt: skip

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SmallBusinessClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _raise_for(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        detail = ""
        if isinstance(body, dict) and body.get("errors"):
            detail = "; ".join(f"{k}: {v}" for e in body["errors"] if isinstance(e, dict) for k, v in e.items())
        if status == 401:
            raise AuthenticationError(
                f"AFAS Small Business refused the token for {what}: activate the app again and paste the new token.",
                service=SERVICE, status=status,
            )  # fmt: skip
        if status in (429, 503) or status >= 500:
            kind: type[RemoteError] = TransientError if status == 429 else RemoteUnavailable
            raise kind(f"AFAS Small Business answered {status} to {what}.", service=SERVICE, status=status,
                       retry_after=retry_after_seconds(response))  # fmt: skip
        raise PermanentError(f"AFAS Small Business refused {what}: {detail or status}", service=SERVICE, status=status)

    def access_token(self) -> str:
        """A valid access token, exchanged from the app token when missing or about to expire."""
        if self._access_token and self._clock() < self._expires_at - _RENEW_MARGIN_SECONDS:
            return self._access_token
        what = "getaccesstoken"
        response = self.http.request("POST", "/authentication/getaccesstoken", json={"apptoken": self._app_token})
        self._raise_for(response, what)
        try:
            data = response.json()
            token = str(data["access_token"])
            expires_in = float(data.get("expires_in") or 600)
        except (ValueError, KeyError, TypeError) as exc:
            raise malformed(what, "no access_token") from exc
        self._access_token, self._expires_at = token, self._clock() + expires_in
        return token

    def _auth(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token()}", "Accept-Version": JOURNAL_ENTRY_VERSION, **extra}

    def unknown_relations(self) -> list[UnknownRelation]:
        """SB's system relations ("Diverse debtors", "Diverse creditors"): ``GET /api/unknownrelation``. A purchase
        invoice booked on one has ``RelationType`` unknown (howto-purchasejournal.md)."""
        what = "unknownrelation"
        response = self.http.request("GET", "/api/unknownrelation", headers=self._auth())
        self._raise_for(response, what)
        try:
            data = response.json()
        except ValueError as exc:
            raise malformed(what, "not JSON") from exc
        rows = data if isinstance(data, list) else []
        return [
            UnknownRelation(
                id=str(row.get("Id") or ""),
                name=str(row.get("Name") or ""),
                purchase_relation=row.get("PurchaseRelation") is True,
            )
            for row in rows
            if isinstance(row, dict) and row.get("Id")
        ]

    def upload_blob(self, content: bytes, *, filename: str, content_type: str) -> str:
        """Reserve blob space, upload the file, return its uuid (for ``PurchaseJournalEntry.attachment_ids``)."""
        blob_id = str(uuid.uuid4())
        headers = {
            "Blob-Content-Length": str(len(content)),
            "Blob-Content-Type": content_type,
            "Blob-Content-FileName": filename,
        }
        response = self.http.request("PUT", f"/api/blob/{blob_id}", headers=self._auth(**headers))
        self._raise_for(response, "blob reservation")
        # Files above ChunkSize (5 MB) would need chunks; invoices' PDFs stay far below. [GUESS G-SB-4] chunk protocol.
        boundary = uuid.uuid4().hex
        safe_name = filename.replace('"', "'")
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        upload_headers = self._auth(
            **headers, **{"Blob-Upload-Type": "blob", "Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        response = self.http.request("PUT", f"/api/blob/{blob_id}", headers=upload_headers, content=body)
        self._raise_for(response, "blob upload")
        return blob_id

    def create_purchase_journal_entry(self, entry: PurchaseJournalEntry, *, tracking_id: str) -> JournalEntryResult:
        """Book the purchase invoice. ``tracking_id`` (a uuid saved before the call) makes a repeat harmless:
        SB answers a repeated Tracking-Identifier with the first answer."""
        what = "purchasejournalentry"
        response = self.http.request(
            "POST", "/api/purchasejournalentry", headers=self._auth(**{"Tracking-Identifier": tracking_id}),
            json=entry.as_json(),
        )  # fmt: skip
        self._raise_for(response, what)
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise malformed(what, "not JSON") from exc
        if not isinstance(data, dict) or data.get("result") != "Succeeded":
            raise PermanentError(f"AFAS Small Business did not book the invoice: {data!r:.300}", service=SERVICE)
        invoice = next((i for i in data.get("instances") or [] if i.get("Code") == "Inkoopfactuur"), None)
        if invoice is None:
            raise malformed(what, "no Inkoopfactuur instance")
        return JournalEntryResult(invoice_id=str(invoice.get("Id")), invoice_number=str(invoice.get("Nummer") or ""))
