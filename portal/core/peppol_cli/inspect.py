"""`manage.py peppol inspect FILE`: what a received UBL invoice or credit note says, or why it is refused.

Exit status: 0 summarised, 1 refused (the reason in English or Dutch), 2 usage error (e.g. the file does not exist).
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from decimal import Decimal
from pathlib import Path

from integrations.peppol.parser import DocumentSummary, Identifier, Party, parse_document
from integrations.peppol.xml import DEFAULT_MAX_BYTES, XmlRejected, too_large

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

_SYNTAX_NAMES = {
    "peppol-bis3": "Peppol BIS Billing 3.0",
    "nlcius": "NLCIUS / SI-UBL 2.0",
    "en16931": "EN 16931",
    "unknown": "unknown specification",
}


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="Summarise a received UBL invoice or credit note; hostile or non-UBL files are refused safely.",
        description=(
            "Read a Peppol BIS 3, NLCIUS or EN 16931 UBL Invoice or CreditNote (optionally in an SBDH envelope) "
            "and print its summary. Exit status 0: summarised; 1: refused; 2: usage error."
        ),
    )
    parser.add_argument("file", help="path of the XML file")
    parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON (amounts as strings)")
    parser.add_argument(
        "--language", choices=("en", "nl"), default="en", help="language of refusals and warnings (default: en)"
    )
    parser.add_argument(
        "--max-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BYTES,
        help=f"refuse larger files (default: {DEFAULT_MAX_BYTES:,})",
    )
    parser.set_defaults(run=run)


def run(options, out, err) -> int:
    path = Path(options["file"])
    language = options.get("language") or "en"
    max_bytes = options.get("max_bytes") or DEFAULT_MAX_BYTES
    try:
        size = path.stat().st_size
        if not path.is_file():
            err.write(f"Not a file: {path}")
            return EXIT_USAGE
        if size > max_bytes:  # refused without reading a possibly enormous file
            raise too_large(size, max_bytes=max_bytes)
        data = path.read_bytes()
    except FileNotFoundError:
        err.write(f"No such file: {path}")
        return EXIT_USAGE
    except XmlRejected as refusal:
        return _refused(refusal, options, language, out, err)
    except OSError as exc:
        err.write(f"Cannot read {path}: {exc.strerror or exc}")
        return EXIT_USAGE
    try:
        summary = parse_document(data, max_bytes=max_bytes)
    except XmlRejected as refusal:
        return _refused(refusal, options, language, out, err)
    if options.get("as_json"):
        out.write(json.dumps(summary.as_json(), indent=2))
    else:
        out.write(_human(summary, language))
    return EXIT_OK


def _refused(refusal: XmlRejected, options, language: str, out, err) -> int:
    if options.get("as_json"):
        out.write(
            json.dumps(
                {
                    "refused": True,
                    "kind": refusal.kind,
                    "message": {"en": refusal.message.en, "nl": refusal.message.nl},
                },
                indent=2,
            )
        )
    label = "Geweigerd" if language == "nl" else "Refused"
    err.write(f"{label} ({refusal.kind}): {refusal.message.in_language(language)}")
    return EXIT_REFUSED


# Human-readable output ---------------------------------------------------------------------------------------------


def _human(summary: DocumentSummary, language: str) -> str:
    kind = "Credit note" if summary.is_credit_note else "Invoice"
    envelope = " in an SBDH envelope" if summary.sbdh_wrapped else ""
    lines = [
        f"{kind} {_show(summary.number)} (type code {_show(summary.type_code)}, "
        f"{_SYNTAX_NAMES[summary.syntax]}){envelope}",
        *_rows(
            ("Customization", summary.customization_id),
            ("Profile", summary.profile_id),
            ("Issue date", summary.issue_date),
            ("Due date", summary.due_date),
            ("Currency", summary.currency),
            ("VAT currency", summary.tax_currency),
            ("Buyer reference", summary.buyer_reference),
            ("Order reference", summary.order_reference),
            ("Billing references", ", ".join(summary.billing_references) or None),
        ),
    ]
    lines += _party("Supplier", summary.supplier)
    lines += _party("Customer", summary.customer)
    totals = summary.totals
    lines.append("Totals")
    lines += _rows(
        ("Line extension", totals.line_extension),
        ("Allowances", totals.allowance_total),
        ("Charges", totals.charge_total),
        ("Tax exclusive", totals.tax_exclusive),
        ("VAT", totals.vat_total),
        (f"VAT in {summary.tax_currency} (BT-111)", totals.vat_total_in_tax_currency),
        ("Tax inclusive", totals.tax_inclusive),
        ("Prepaid", totals.prepaid),
        ("Rounding", totals.payable_rounding),
        ("Payable", totals.payable),
        indent=2,
    )
    lines.append("VAT breakdown" + ("" if summary.vat_breakdown else ": none"))
    for vat in summary.vat_breakdown:
        rate = f"{_show(vat.rate)}%" if vat.rate is not None else "-"
        exemption = (
            f"  exempt: {_show(vat.exemption_reason_code or vat.exemption_reason)}"
            if (vat.exemption_reason_code or vat.exemption_reason)
            else ""
        )
        lines.append(
            f"  {_show(vat.category)} {rate}  taxable {_show(vat.taxable_amount)}  VAT {_show(vat.tax_amount)}{exemption}"
        )
    lines.append("Payment means" + ("" if summary.payment_means else ": none"))
    for means in summary.payment_means:
        lines.append(
            f"  code {_show(means.code)}  account {_show(means.account_id)}  payment id {_show(means.payment_id)}"
            + (f"  due {means.due_date.isoformat()}" if means.due_date else "")
        )
    lines.append("Attachments" + ("" if summary.attachments else ": none"))
    for attachment in summary.attachments:
        if attachment.embedded:
            where = f"{attachment.size:,} bytes, sha256 {attachment.sha256}"
        elif attachment.external_uri:
            where = f"external: {_show(attachment.external_uri)}"
        else:
            where = "content unreadable"
        lines.append(
            f"  [{attachment.index}] {_show(attachment.filename or attachment.document_id)} "
            f"({_show(attachment.mime_code)}) {where}"
        )
    if summary.warnings:
        lines.append("Waarschuwingen" if language == "nl" else "Warnings")
        lines += [f"  - {warning.in_language(language)}" for warning in summary.warnings]
    return "\n".join(lines)


def _party(label: str, party: Party | None) -> list[str]:
    if party is None:
        return [f"{label}: none"]
    country = f" ({_show(party.country)})" if party.country else ""
    return [
        f"{label}: {_show(party.display_name)}{country}",
        *_rows(
            ("Registration name", party.registration_name if party.registration_name != party.name else None),
            ("Endpoint", _ids((party.endpoint_id,) if party.endpoint_id else ()) or _empty_endpoint(party)),
            ("Party ids", _ids(party.identifications)),
            ("Legal ids", _ids(party.legal_ids)),
            ("VAT ids", ", ".join(party.vat_ids) or None),
            ("Tax ids", _ids(party.tax_registration_ids)),
            indent=2,
        ),
    ]


def _empty_endpoint(party: Party) -> str | None:
    if party.empty_endpoint_scheme is None:
        return None
    return f"{_show(party.empty_endpoint_scheme)}: (empty)"


def _ids(identifiers: tuple[Identifier, ...]) -> str | None:
    return ", ".join(str(i) for i in identifiers) or None


def _rows(*rows: tuple[str, object], indent: int = 0) -> list[str]:
    """Aligned "label  value" lines; rows without a value are left out."""
    shown = [(label, value) for label, value in rows if value is not None]
    width = max((len(label) for label, _ in shown), default=0)
    return [f"{' ' * indent}{label.ljust(width)}  {_show(value)}" for label, value in shown]


def _show(value: object) -> str:
    """A value for the terminal: "-" for none; control characters from the document shown escaped, never executed."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "".join(
        repr(char)[1:-1] if unicodedata.category(char) in ("Cc", "Cf") and char != " " else char for char in text
    )
