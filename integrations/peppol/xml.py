"""The one way XML from outside is read: hostile until proven otherwise.

No entity resolution, no DTD, no network, a size limit, a depth limit. Every refusal is an ``XmlRejected`` with a kind
and a bilingual message, never a crash.

Reading happens in two passes over the same bytes:

1. The prolog (everything before the root element) is read with a parser that stops at the first ``<!DOCTYPE`` or at
   the root element's start tag. A DOCTYPE is refused *there*, before libxml2 has looked at its internal or external
   subset: even with ``load_dtd=False`` libxml2 still opens a ``SYSTEM`` external subset or an external parameter
   entity from the local file system while it parses the DTD, so checking ``docinfo.doctype`` afterwards is too late.
2. Only a document without a DTD is parsed into a tree. Without a DTD there are no entities to expand, so libxml2's
   "huge" mode (which lifts the 10 MB limit on one text node: large embedded PDF attachments are legal in UBL) cannot
   be abused; the size is bounded by ``max_bytes`` and the depth by libxml2's limit of 2048 levels.
"""

from __future__ import annotations

import codecs

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.i18n import Text

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# Enough for the XML declaration, comments and processing instructions before the root element of any real document.
_PROLOG_CHUNK = 64 * 1024

# libxml2 error codes that a push parser reports only at the end although they are not caused by the end: undefined
# entities (reported by lxml as "no element found"), undefined namespace prefixes, invalid namespace names.
_DEFERRED_ERROR_CODES = frozenset({1, 26, 27, 99, 200, 201, 203, 204})
# XML_ERR_DOCUMENT_EMPTY: no root element at all ("Start tag expected"), e.g. plain text; not a cut-off document.
_NO_ROOT_ELEMENT = 4


class XmlRejected(ValueError):
    """The input cannot be read safely as a UBL document. ``kind`` says why, ``message`` says it to people."""

    KINDS = ("empty", "too_large", "not_xml", "truncated", "too_deep", "dtd_forbidden", "not_ubl")

    def __init__(self, kind: str, message: Text):
        assert kind in self.KINDS, kind
        super().__init__(message.en)
        self.kind = kind
        self.message = message


def too_large(size: int, *, max_bytes: int) -> XmlRejected:
    """The refusal of an input of ``size`` bytes; for callers that check a file's size before reading it."""
    return XmlRejected(
        "too_large",
        Text(
            f"The file is {size:,} bytes; the limit is {max_bytes:,} bytes.",
            f"Het bestand is {size:,} bytes; de grens is {max_bytes:,} bytes.",
        ),
    )


# UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _is_blank(data: bytes) -> bool:
    """Nothing but whitespace, also behind a byte order mark (checked for small inputs only: blank files are small)."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            if len(data) > 64 * 1024:
                return False
            try:
                return not data.decode(encoding).lstrip("\ufeff").strip()
            except UnicodeDecodeError:
                return False
    return not data.strip()


def _hardened_parser(*, target: object | None = None) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,  # safe only because a DTD is refused before this parser sees the document, see above
        collect_ids=False,
        target=target,
    )


class _PrologEnd(Exception):
    """Raised from the prolog parser's target to stop libxml2 at once."""

    def __init__(self, *, doctype: bool):
        super().__init__("doctype" if doctype else "root")
        self.doctype = doctype


class _PrologTarget:
    """Parser target that stops at a DOCTYPE (before its subsets are read) or at the root element's start tag."""

    def doctype(self, name, public_id, system_url) -> None:
        raise _PrologEnd(doctype=True)

    def start(self, tag, attrib, nsmap=None) -> None:
        raise _PrologEnd(doctype=False)

    def end(self, tag) -> None:
        pass

    def data(self, data) -> None:
        pass

    def comment(self, text) -> None:
        pass

    def pi(self, target, data=None) -> None:
        pass

    def close(self) -> None:
        return None


def _dtd_forbidden() -> XmlRejected:
    return XmlRejected(
        "dtd_forbidden",
        Text(
            "The XML declares a DTD (<!DOCTYPE>); UBL documents never do, so it is refused for safety.",
            "De XML bevat een DTD (<!DOCTYPE>); UBL-documenten hebben die nooit, dus wordt hij veiligheidshalve geweigerd.",
        ),
    )


def _syntax_error(exc: etree.XMLSyntaxError, *, at_end: bool) -> XmlRejected:
    """Map a libxml2 error to a kind. ``at_end``: the error only showed when the parser was told the input had ended."""
    detail = str(exc)
    if "Excessive depth" in detail:
        return XmlRejected(
            "too_deep",
            Text(
                f"The XML is nested too deeply to be an invoice: {detail}",
                f"De XML is te diep genest voor een factuur: {detail}",
            ),
        )
    if at_end and "Document is empty" in detail:
        return XmlRejected("empty", Text("The file holds no XML element.", "Het bestand bevat geen XML-element."))
    if at_end and exc.code not in _DEFERRED_ERROR_CODES and exc.code != _NO_ROOT_ELEMENT:
        return XmlRejected(
            "truncated",
            Text(
                f"The XML ends too early (truncated file): {detail}",
                f"De XML houdt te vroeg op (afgekapt bestand): {detail}",
            ),
        )
    return XmlRejected("not_xml", Text(f"This is not well-formed XML: {detail}", f"Dit is geen geldige XML: {detail}"))


def _unreadable(exc: Exception) -> XmlRejected:
    return XmlRejected("not_xml", Text(f"This is not readable XML: {exc}", f"Dit is geen leesbare XML: {exc}"))


def _refuse_doctype(data: bytes) -> None:
    """Read only the prolog; refuse a DOCTYPE before libxml2 reads its subsets, and anything that is no XML at all."""
    parser = _hardened_parser(target=_PrologTarget())
    at_end = False
    try:
        for offset in range(0, len(data), _PROLOG_CHUNK):
            parser.feed(data[offset : offset + _PROLOG_CHUNK])
        at_end = True
        parser.close()
    except _PrologEnd as end:
        if end.doctype:
            raise _dtd_forbidden() from None
        return
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, at_end=at_end) from None
    except (ValueError, LookupError, etree.LxmlError) as exc:  # e.g. an unsupported encoding declaration
        raise _unreadable(exc) from None
    # Not reached in practice: libxml2 reports a missing root element as an error at close().
    raise XmlRejected("empty", Text("The file holds no XML element.", "Het bestand bevat geen XML-element."))


def _parse_tree(data: bytes) -> etree._Element:
    """Parse a document known to have no DTD. A push parser tells errors in the data from an input that ends early."""
    parser = _hardened_parser()
    try:
        parser.feed(data)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc, at_end=False) from None
    except (ValueError, LookupError, etree.LxmlError) as exc:
        raise _unreadable(exc) from None
    try:
        return parser.close()
    except etree.XMLSyntaxError as exc:
        if exc.code in _DEFERRED_ERROR_CODES:
            # The push parser's message for these is poor ("no element found"); the one-shot parser names the cause.
            try:
                etree.fromstring(data, _hardened_parser())
            except etree.XMLSyntaxError as detailed:
                raise _syntax_error(detailed, at_end=False) from None
        raise _syntax_error(exc, at_end=True) from None
    except (ValueError, LookupError, etree.LxmlError) as exc:
        raise _unreadable(exc) from None


def parse_untrusted_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse bytes from outside. The declared encoding (UTF-8, UTF-16 with BOM, ISO-8859-1, ...) is honoured."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"XML must be given as bytes, not {type(data).__name__}")
    data = bytes(data)
    if _is_blank(data):
        raise XmlRejected("empty", Text("The file is empty.", "Het bestand is leeg."))
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes=max_bytes)
    _refuse_doctype(data)
    tree = _parse_tree(data).getroottree()
    if tree.docinfo.doctype:  # cannot happen after _refuse_doctype; kept so a regression there stays harmless
        raise _dtd_forbidden()
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
            f"The root element is {_shorten(root.tag)}, not a UBL 2.1 Invoice or CreditNote.",
            f"Het hoofdelement is {_shorten(root.tag)}, geen UBL 2.1 Invoice of CreditNote.",
        ),
    )


def _shorten(text: str, limit: int = 200) -> str:
    """Names from the document go into messages; a hostile one may be megabytes long."""
    return text if len(text) <= limit else f"{text[:limit]}…"
