"""A UBL document indented for reading, with embedded binary content (base64 PDFs) left out; a document the hardened
reader refuses is shown as its raw text."""

from __future__ import annotations

from lxml import etree

from integrations.peppol import namespaces as ns
from integrations.peppol.xml import DEFAULT_MAX_BYTES, XmlRejected, parse_untrusted_xml

# Longer base64 content is left out of the pretty-printed XML: it is unreadable and may be megabytes.
MAX_BINARY_SHOWN = 200
MAX_PRETTY_CHARS = 2_000_000


def pretty_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_chars: int = MAX_PRETTY_CHARS) -> str:
    """The document indented for reading; long embedded binary content is replaced by a note of its length.

    A document the hardened reader refuses is shown as its raw text (undecodable bytes replaced), so it can still be
    looked at: a bad document is kept and shown, never hidden. The result is plain text: escape it when rendering.
    """
    try:
        tree = parse_untrusted_xml(data, max_bytes=max_bytes)
    except XmlRejected:
        text = bytes(data[: max_chars * 4]).decode("utf-8", errors="replace")
        return _limit(text, max_chars)
    for binary in tree.getroot().iter(f"{{{ns.CBC}}}EmbeddedDocumentBinaryObject"):
        content = "".join((binary.text or "").split())
        if len(content) > MAX_BINARY_SHOWN:
            binary.text = f"[{len(content):,} characters of base64 left out]"
    etree.indent(tree, space="  ")
    return _limit(etree.tostring(tree, encoding="unicode"), max_chars)


def _limit(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else f"{text[:max_chars]}\n… [{len(text) - max_chars:,} more characters]"
