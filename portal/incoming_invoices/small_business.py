"""Delivery of received invoices into AFAS Small Business: the portal books the purchase journal entry itself.

AFAS SB cannot break down VAT from a UBL file, so the portal makes one journal line per VAT breakdown of the UBL
(``cac:TaxSubtotal``) with SB's VAT type, and attaches the original UBL (and its PDF) unchanged. The lines add up
exactly to the UBL: each rate line carries the subtotal's taxable amount and VAT as written; whatever the document's
totals differ from the sum of the subtotals (a payable rounding, a cent of rounding in a sloppy UBL) goes on a line
of its own that says so. What SB cannot express is refused before anything is sent (``VatNotMappable``).

The Tracking-Identifier is derived from the invoice, so a retry after a lost answer books nothing twice: SB answers a
repeated identifier with its first answer. A person's "deliver again" (after checking SB) starts a new identifier.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from integrations.afas.small_business import (
    JournalEntryResult,
    JournalLine,
    PurchaseJournalEntry,
    UnsupportedVat,
    VatCalculation,
    VatType,
    journal_lines_from_vat_breakdown,
)
from integrations.peppol.parser import AttachmentUnavailable, DocumentSummary, attachment_content, parse_document
from integrations.peppol.xml import XmlRejected
from portal.core.choices import ErrorKind
from portal.events.messages import Msg
from portal.events.models import EventKind
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import clients
from portal.organisations.models import Environment

CENT = Decimal("0.01")
# A valid UBL adds up exactly (BR-CO-13, BR-CO-14, BR-CO-15); beyond a few cents it is not rounding but a wrong
# document, and a person should look at it instead of the portal booking the difference away.
ROUNDING_TOLERANCE = Decimal("0.05")
BOOKED_BY = "btw-uitsplitsing door Peppol bridge uit de UBL"
TRACKING_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "peppol-bridge/incoming-invoices/small-business")
_UNSAFE_FILENAME = re.compile(r"[^\w.\- ]+")


class NotBookable(Exception):
    """The invoice cannot be booked in AFAS Small Business as it stands; nothing was sent."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SettingsMissing(NotBookable):
    """The environment lacks SB settings: a person fills them in, then delivers again."""

    def __init__(self, missing: Sequence[str]):
        self.missing = tuple(missing)
        super().__init__(
            "The AFAS Small Business settings of this environment are incomplete: missing "
            + ", ".join(self.missing)
            + ". Fill them in, then deliver again."
        )


class VatNotMappable(NotBookable):
    """The UBL's VAT (or totals) cannot be expressed as SB journal lines: a person books it by hand."""


@dataclass(frozen=True)
class SmallBusinessBooking:
    """The journal lines of one invoice, and what the portal had to add to make them add up (said in words)."""

    lines: tuple[JournalLine, ...]
    adjustments: tuple[str, ...]
    total: Decimal  # what the lines add up to: the UBL's tax-inclusive amount plus its payable rounding


@dataclass(frozen=True)
class SmallBusinessDelivery:
    result: JournalEntryResult
    booking: SmallBusinessBooking
    tracking_id: str
    with_pdf: bool

    def event_data(self) -> dict:
        return {
            "tracking_identifier": self.tracking_id,
            "sb_invoice_id": self.result.invoice_id,
            "sb_invoice_number": self.result.invoice_number,
            "total": str(self.booking.total),
            "lines": [
                {
                    "description": line.description,
                    "vat_type": line.vat_type.value,
                    "vat_calculation": line.vat_calculation.value,
                    "amount_excluding_vat": str(line.amount_excluding_vat),
                    "amount_vat": str(line.amount_vat),
                }
                for line in self.booking.lines
            ],
            "adjustments": list(self.booking.adjustments),
        }


def small_business_missing_settings(environment: Environment) -> list[str]:
    required = (
        ("AFAS token (the SB app token)", environment.afas_token),
        ("AFAS SB domain", environment.afas_sb_domain),
        ("AFAS SB customer environment", environment.afas_sb_environment),
        ("AFAS SB administration id", environment.afas_sb_administration_id),
        ("AFAS SB ledger account id", environment.afas_sb_ledger_account_id),
        ("AFAS SB relation id", environment.afas_sb_relation_id),
    )
    return [name for name, value in required if not value]


def small_business_booking(
    summary: DocumentSummary, *, ledger_account_id: str, label: str = ""
) -> SmallBusinessBooking:
    """The journal lines of a parsed UBL: one per VAT breakdown, plus explicit rounding lines where needed.

    Raises ``VatNotMappable`` for what SB cannot express or for totals that do not add up within rounding.
    """
    totals = summary.totals
    rate_lines = _bookable_rate_lines(summary, ledger_account_id)
    # A credit note's amounts are positive in UBL; in the purchase journal they reduce the costs. [GUESS G-SB-6] SB wants
    # a credit note as an entry with negative amounts.
    sign = Decimal(-1) if summary.is_credit_note else Decimal(1)
    prefix = f"{label}: " if label else ""
    lines, adjustments = _lines_in_cents(summary, rate_lines, sign, prefix)

    vat_sum = sum((line.amount_vat for line in lines), Decimal(0))
    vat_total = sign * _cents(totals.vat_total)
    vat_difference = vat_total - vat_sum
    if vat_difference:
        _within_rounding(vat_difference, f"The VAT per rate adds up to {vat_sum}, the UBL's VAT total is {vat_total}")
        carrier = _vat_bearing_line(lines)
        if carrier is None:
            raise VatNotMappable(
                f"The UBL's VAT total {vat_total} differs from its VAT per rate ({vat_sum}), and no line carries VAT."
            )
        explanation = (
            f"VAT rounding {vat_difference:+}: the UBL's VAT total is {vat_total}, its rates add up to {vat_sum}"
        )
        adjustments.append(explanation)
        lines.append(
            JournalLine(
                ledger_account_id=ledger_account_id,
                amount_excluding_vat=Decimal("0.00"),
                amount_vat=vat_difference,
                vat_type=carrier.vat_type,
                description=f"{prefix}btw-afrondingsverschil {vat_difference:+} (btw-totaal UBL {vat_total}, "
                f"som per tarief {vat_sum}; door Peppol bridge)",
            )
        )

    taxable_sum = sum((line.amount_excluding_vat for line in lines), Decimal(0))
    tax_exclusive = sign * _cents(totals.tax_exclusive)
    tax_inclusive = sign * _cents(totals.tax_inclusive)
    payable_rounding = sign * _cents(totals.payable_rounding or Decimal(0))
    parts = []
    if difference := tax_exclusive - taxable_sum:
        _within_rounding(
            difference, f"The taxable amounts per rate add up to {taxable_sum}, the UBL says {tax_exclusive}"
        )
        parts.append(f"total without VAT {tax_exclusive}, rates add up to {taxable_sum}: {difference:+}")
    if difference := tax_inclusive - (tax_exclusive + vat_total):
        _within_rounding(difference, f"The UBL's total with VAT {tax_inclusive} is not its total without VAT plus VAT")
        parts.append(f"total with VAT {tax_inclusive} is not {tax_exclusive} + {vat_total}: {difference:+}")
    if payable_rounding:
        parts.append(f"payable rounding in the UBL: {payable_rounding:+}")
    total = tax_inclusive + payable_rounding
    rounding = total - taxable_sum - vat_total
    if rounding:
        adjustments.append(f"Rounding {rounding:+} on a line of its own (" + "; ".join(parts) + ")")
        lines.append(
            JournalLine(
                ledger_account_id=ledger_account_id,
                amount_excluding_vat=rounding,
                amount_vat=Decimal("0.00"),
                vat_type=VatType.ZERO,
                description=f"{prefix}afrondingsverschil {rounding:+} (" + "; ".join(parts) + "; door Peppol bridge)",
            )
        )
    booked = sum((line.amount_excluding_vat + line.amount_vat for line in lines), Decimal(0))
    if booked != total:  # cannot happen by construction; never book an entry that does not add up
        raise VatNotMappable(f"The journal lines add up to {booked}, the invoice to {total}.")
    return SmallBusinessBooking(lines=tuple(lines), adjustments=tuple(adjustments), total=total)


def _bookable_rate_lines(summary: DocumentSummary, ledger_account_id: str) -> list[JournalLine]:
    """One journal line per VAT rate, or ``VatNotMappable`` for what SB cannot book."""
    if summary.currency and summary.currency.upper() != "EUR":
        in_euros = summary.totals.vat_total_in_tax_currency
        vat = (
            f" Its VAT in euros (BT-111, for the VAT return) is EUR {in_euros}."
            if in_euros is not None and (summary.tax_currency or "").upper() == "EUR"
            else " It gives no VAT in euros (BT-111): ask the supplier for it."
        )
        raise VatNotMappable(
            f"The invoice is in {summary.currency}; AFAS Small Business books in euros. Book it by hand.{vat}"
        )
    if not summary.vat_breakdown:
        raise VatNotMappable("The UBL has no VAT breakdown (cac:TaxSubtotal) to book per VAT rate.")
    totals = summary.totals
    for name, value in (
        ("total without VAT (TaxExclusiveAmount)", totals.tax_exclusive),
        ("VAT total (TaxTotal/TaxAmount)", totals.vat_total),
        ("total with VAT (TaxInclusiveAmount)", totals.tax_inclusive),
    ):
        if value is None:
            raise VatNotMappable(f"The UBL has no {name}.")
    for item in summary.vat_breakdown:
        if item.taxable_amount is None or item.tax_amount is None:
            raise VatNotMappable(f"The VAT breakdown for category {item.category or '?'} has no taxable amount or VAT.")
    try:
        return list(journal_lines_from_vat_breakdown(summary.vat_breakdown, ledger_account_id=ledger_account_id))
    except UnsupportedVat as exc:
        raise VatNotMappable(f"{exc}. Book it by hand.") from exc


def _lines_in_cents(
    summary: DocumentSummary, rate_lines: list[JournalLine], sign: Decimal, prefix: str
) -> tuple[list[JournalLine], list[str]]:
    """The rate lines in cents, signed and described; what was rounded is said in the adjustments."""
    lines: list[JournalLine] = []
    adjustments: list[str] = []
    for item, line in zip(summary.vat_breakdown, rate_lines, strict=True):
        taxable, tax = _cents(line.amount_excluding_vat), _cents(line.amount_vat)
        if (taxable, tax) != (line.amount_excluding_vat, line.amount_vat):
            adjustments.append(
                f"{line.description}: UBL amounts {line.amount_excluding_vat} and {line.amount_vat} rounded to cents"
            )
        reason = f", {item.exemption_reason}" if item.exemption_reason else ""
        lines.append(
            dataclasses.replace(
                line,
                amount_excluding_vat=sign * taxable,
                amount_vat=sign * tax,
                description=f"{prefix}{line.description}{reason} ({BOOKED_BY})",
            )
        )
    return lines, adjustments


@dataclass(frozen=True)
class SmallBusinessOutcome:
    """Where a claimed (DELIVERING) invoice goes after the SB booking; the incoming service makes the transition."""

    to_status: str
    message: Msg
    fields: dict
    data: dict | None = None


def small_business_deliver(*, invoice: IncomingInvoice) -> SmallBusinessOutcome:
    """The SB strategy of ``services.incoming_deliver``: DELIVERED (with the booking), HELD when its VAT cannot be
    booked in SB, FAILED without SB settings. A ``RemoteError`` from SB is raised for the service to retry."""
    Status = IncomingInvoice.Status
    try:
        delivery = incoming_book_in_small_business(invoice=invoice)
    except VatNotMappable as exc:
        return SmallBusinessOutcome(
            Status.HELD,
            Msg("incoming.sb_held", detail=exc.message),
            {
                "hold_reason": IncomingInvoice.HoldReason.VAT_NOT_MAPPABLE,
                "last_error_kind": ErrorKind.INVALID_DOCUMENT,
                "last_error_message": exc.message,
            },
        )
    except NotBookable as exc:
        return SmallBusinessOutcome(
            Status.FAILED,
            Msg("incoming.sb_not_delivered", detail=exc.message),
            {"last_error_kind": ErrorKind.PERMANENT, "last_error_message": exc.message},
        )
    booking, reference = delivery.booking, delivery.result.invoice_number or delivery.result.invoice_id
    return SmallBusinessOutcome(
        Status.DELIVERED,
        Msg(
            "incoming.sb_booked_with_pdf" if delivery.with_pdf else "incoming.sb_booked",
            reference=reference,
            lines=len(booking.lines),
            total=booking.total,
            adjustments="".join(f"; {note}" for note in booking.adjustments),
        ),
        {
            "afas_reference": reference[:100],
            "delivered_at": timezone.now(),
            "next_attempt_at": timezone.now(),
            "last_error_kind": "",
            "last_error_code": "",
            "last_error_message": "",
        },
        data=delivery.event_data(),
    )


def incoming_book_in_small_business(*, invoice: IncomingInvoice) -> SmallBusinessDelivery:
    """Book a received invoice in AFAS Small Business: journal entry per VAT rate, with the UBL (and PDF) attached.

    Raises ``SettingsMissing`` or ``VatNotMappable`` before anything is sent, ``RemoteError`` from SB.
    """
    environment = invoice.environment
    missing = small_business_missing_settings(environment)
    if missing:
        raise SettingsMissing(missing)
    raw = bytes(invoice.raw_xml)
    try:
        summary = parse_document(raw, max_bytes=settings.PEPPOL_MAX_DOCUMENT_BYTES)
    except XmlRejected as exc:
        raise VatNotMappable(f"The UBL cannot be read again: {exc.message.en}") from exc
    if not summary.number or summary.issue_date is None:
        raise VatNotMappable("The UBL has no invoice number or issue date, which AFAS Small Business requires.")
    booking = small_business_booking(
        summary, ledger_account_id=str(environment.afas_sb_ledger_account_id), label=summary.number[:40]
    )
    pdf = _embedded_pdf(summary, raw)
    tracking_id = small_business_tracking_id(invoice)
    name = _safe_filename(summary.number) or invoice.econnect_document_id

    with clients.afas_small_business_client_for(environment) as sb:
        attachment_ids = [sb.upload_blob(raw, filename=f"{name}.xml"[:100], content_type="application/xml")]
        if pdf:
            filename, content = pdf
            attachment_ids.append(sb.upload_blob(content, filename=filename[:100], content_type="application/pdf"))
        entry = PurchaseJournalEntry(
            administration_id=str(environment.afas_sb_administration_id),
            invoice_number=summary.number[:100],
            relation_id=str(environment.afas_sb_relation_id),
            relation_type=environment.afas_sb_relation_type,
            invoice_date=summary.issue_date,
            # SB requires a due date; an invoice without one is due on its date rather than on a guessed term.
            due_date=summary.due_date or summary.issue_date,
            lines=booking.lines,
            reference=(invoice.supplier_name or "")[:100],
            attachment_ids=tuple(attachment_ids),
        )
        result = sb.create_purchase_journal_entry(entry, tracking_id=tracking_id)
    return SmallBusinessDelivery(result=result, booking=booking, tracking_id=tracking_id, with_pdf=pdf is not None)


def small_business_tracking_id(invoice: IncomingInvoice) -> str:
    """Stable across automatic retries (a repeat returns SB's first answer); new after a person's "deliver again",
    who has checked SB and wants it booked anew."""
    redeliveries = invoice.events.filter(kind=EventKind.DELIVER_AGAIN).count()
    return str(uuid.uuid5(TRACKING_NAMESPACE, f"{invoice.pk}/{invoice.econnect_document_id}/{redeliveries}"))


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _within_rounding(difference: Decimal, what: str) -> None:
    if abs(difference) > ROUNDING_TOLERANCE:
        raise VatNotMappable(f"{what}: a difference of {difference:+}, more than rounding. Book it by hand.")


def _vat_bearing_line(lines: Sequence[JournalLine]) -> JournalLine | None:
    candidates = [line for line in lines if line.vat_calculation is VatCalculation.NORMAL and line.amount_vat]
    return max(candidates, key=lambda line: abs(line.amount_vat), default=None)


def _embedded_pdf(summary: DocumentSummary, raw: bytes) -> tuple[str, bytes] | None:
    for attachment in summary.attachments:
        if attachment.mime_code == "application/pdf" and attachment.embedded:
            try:
                content = attachment_content(raw, attachment.index, max_bytes=settings.PEPPOL_MAX_DOCUMENT_BYTES)
            except (AttachmentUnavailable, XmlRejected):
                return None
            filename = _safe_filename(attachment.filename or "") or f"{_safe_filename(summary.number or '')}.pdf"
            return filename, content
    return None


def _safe_filename(name: str) -> str:
    return _UNSAFE_FILENAME.sub("_", name).strip(" ._")
