"""Reading values out of UBL elements: text, attributes, decimals and dates as UBL writes them, without ever
trusting the input (``reading.UblReader`` builds on these)."""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from lxml import etree

from integrations.peppol import namespaces as ns

# An xsd:decimal, ASCII digits only (Decimal() would also take "1e5", "NaN", "Infinity", "1_000" and Arabic digits).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# No invoice amount or percentage needs more; longer strings are refused before Decimal sees them.
MAX_DECIMAL_CHARS = 40
# An xsd:date; Peppol forbids the time zone, but it is harmless and ignored here.
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?")
# Values from the document quoted in warnings are cut to this length.
_QUOTE_LIMIT = 60


def findall(parent: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if parent is None else parent.findall(path, ns.XPATH_NS)


def first(parent: etree._Element | None, path: str) -> etree._Element | None:
    return None if parent is None else parent.find(path, ns.XPATH_NS)


def element_text(element: etree._Element | None) -> str | None:
    """The element's own text (comments and processing instructions inside are skipped), stripped; "" is None."""
    if element is None:
        return None
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element if not isinstance(child.tag, str))
    text = "".join(parts).strip()
    return text or None


def attribute(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = (element.get(name) or "").strip()
    return value or None


def currency_of(parent: etree._Element) -> str | None:
    return attribute(first(parent, "cbc:TaxAmount"), "currencyID")


def decode_base64(text: str) -> bytes | None:
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def attachment_references(document: etree._Element) -> Iterator[etree._Element]:
    """The cac:AdditionalDocumentReference elements that carry an attachment, in document order."""
    for reference in findall(document, "cac:AdditionalDocumentReference"):
        if first(reference, "cac:Attachment") is not None:
            yield reference


def decimal_or_none(raw: str) -> Decimal | None:
    """A UBL decimal (no exponent, at most MAX_DECIMAL_CHARS characters), or None for anything else."""
    if len(raw) <= MAX_DECIMAL_CHARS and _DECIMAL.fullmatch(raw):
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            pass
    return None


def date_or_none(raw: str) -> datetime.date | None:
    """A UBL date (YYYY-MM-DD, optionally with a zone), or None for anything else."""
    match = _DATE.fullmatch(raw)
    if match:
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    return None


def describe_location(parent: etree._Element | None, path: str) -> str:
    """A readable location such as "LegalMonetaryTotal/PayableAmount" for messages."""
    steps = "/".join(step.split(":", 1)[-1] for step in path.split("/"))
    if parent is None:
        return steps
    parent_name = etree.QName(parent).localname if isinstance(parent.tag, str) else "?"
    if parent_name in ("Invoice", "CreditNote"):
        return steps
    return f"{parent_name}/{steps}"


def quote(raw: str) -> str:
    shown = raw if len(raw) <= _QUOTE_LIMIT else f"{raw[:_QUOTE_LIMIT]}… ({len(raw):,} characters)"
    return repr(shown)


def unique(items) -> tuple:
    """Items without repeats, in first-seen order, Nones dropped."""
    return tuple(dict.fromkeys(item for item in items if item is not None))
