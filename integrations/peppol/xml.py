"""The one way XML from outside is read: hostile until proven otherwise.

No entity resolution, no DTD, no network, a size limit, libxml2's depth limit. Every refusal is an
``XmlRejected`` with a kind and a bilingual message, never a crash.
"""

from __future__ import annotations

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.i18n import Text

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class XmlRejected(ValueError):
    """The input cannot be read safely as a UBL document. ``kind`` says why, ``message`` says it to people."""

    KINDS = ("empty", "too_large", "not_xml", "truncated", "dtd_forbidden", "not_ubl")

    def __init__(self, kind: str, message: Text):
        assert kind in self.KINDS, kind
        super().__init__(message.en)
        self.kind = kind
        self.message = message


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
    )


def parse_untrusted_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse bytes from outside. The declared encoding (UTF-8, UTF-16 with BOM, ISO-8859-1, ...) is honoured."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"XML must be given as bytes, not {type(data).__name__}")
    data = bytes(data)
    if not data.strip():
        raise XmlRejected("empty", Text("The file is empty.", "Het bestand is leeg."))
    if len(data) > max_bytes:
        raise XmlRejected(
            "too_large",
            Text(
                f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes.",
                f"Het bestand is {len(data):,} bytes; de grens is {max_bytes:,} bytes.",
            ),
        )
    try:
        root = etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        detail = str(exc)
        if "Premature end" in detail or "EndTag" in detail or "end of data" in detail:
            raise XmlRejected(
                "truncated",
                Text(
                    f"The XML ends too early (truncated file): {detail}",
                    f"De XML houdt te vroeg op (afgekapt bestand): {detail}",
                ),
            ) from None
        raise XmlRejected(
            "not_xml", Text(f"This is not well-formed XML: {detail}", f"Dit is geen geldige XML: {detail}")
        ) from None
    except ValueError as exc:  # e.g. an unsupported encoding declaration
        raise XmlRejected(
            "not_xml", Text(f"This is not readable XML: {exc}", f"Dit is geen leesbare XML: {exc}")
        ) from None
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise XmlRejected(
            "dtd_forbidden",
            Text(
                "The XML declares a DTD (<!DOCTYPE>); UBL documents never do, so it is refused for safety.",
                "De XML bevat een DTD (<!DOCTYPE>); UBL-documenten hebben die nooit, dus wordt hij veiligheidshalve geweigerd.",
            ),
        )
    return tree


def find_ubl_document(tree: etree._ElementTree) -> tuple[etree._Element, bool]:
    """The Invoice or CreditNote element, unwrapped from an SBDH envelope if there is one; and whether it was wrapped."""
    root = tree.getroot()
    if root.tag in (ns.INVOICE_ROOT, ns.CREDIT_NOTE_ROOT):
        return root, False
    if root.tag == ns.SBDH_ROOT:
        for child in root:
            if child.tag in (ns.INVOICE_ROOT, ns.CREDIT_NOTE_ROOT):
                return child, True
        raise XmlRejected(
            "not_ubl",
            Text(
                "The SBDH envelope holds no UBL Invoice or CreditNote.",
                "De SBDH-envelop bevat geen UBL Invoice of CreditNote.",
            ),
        )
    raise XmlRejected(
        "not_ubl",
        Text(
            f"The root element is {root.tag}, not a UBL 2.1 Invoice or CreditNote.",
            f"Het hoofdelement is {root.tag}, geen UBL 2.1 Invoice of CreditNote.",
        ),
    )
