"""Downloads: a stored document and the files embedded in it (the invoice pages), and CSV files (exports and the
onboarding template), written the way the reader's spreadsheet reads them.

The document is handed over byte for byte as stored (as sent, or exactly as received). An embedded attachment is
decoded from it with the hardened parser. Every download is an attachment (never shown inline in the portal's own
origin), with a file name made safe for every file system and a content type from a short list, else octet-stream.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language

from integrations.peppol.parser import AttachmentUnavailable, attachment_content, parse_document
from integrations.peppol.xml import XmlRejected

# Content types a browser may be told; anything else downloads as bytes.
SAFE_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
}
_UNSAFE_CHARACTERS = re.compile(r"[^\w .()+-]+")


def safe_filename(name: str | None, fallback: str) -> str:
    """``name`` without paths, control or odd characters, at most 100 characters; ``fallback`` when nothing is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_CHARACTERS.sub("_", base).strip(" ._")[:100]
    return cleaned or fallback


def download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def document_download(content: bytes, *, name: str, removed: bool) -> HttpResponse:
    """The stored XML document; a document removed after the retention period is not found."""
    if removed or not content:
        raise Http404("The document was removed after the retention period.")
    # An invoice number may hold slashes (INK/2026/7): part of the name here, not a path.
    filename = safe_filename(f"{name.replace('/', '_').replace(chr(92), '_')}.xml", "document.xml")
    return download(content, filename=filename, content_type="application/xml")


def embedded_attachments(content: bytes) -> list:
    """The attachments the hardened parser finds, numbered as ``attachment_download`` takes them ([] if unreadable)."""
    if not content:
        return []
    try:
        return [a for a in parse_document(content, max_bytes=settings.PEPPOL_MAX_DOCUMENT_BYTES).attachments if a.size]
    except XmlRejected:
        return []


def attachment_download(content: bytes, index: int, *, filename: str | None, mime_code: str | None) -> HttpResponse:
    """Attachment ``index`` of the document, decoded."""
    if not content:
        raise Http404("The document was removed after the retention period.")
    try:
        data = attachment_content(content, index, max_bytes=settings.PEPPOL_MAX_DOCUMENT_BYTES)
    except (AttachmentUnavailable, XmlRejected) as exc:
        raise Http404("No such attachment.") from exc
    content_type = mime_code if mime_code in SAFE_TYPES else "application/octet-stream"
    extension = {"application/pdf": ".pdf"}.get(content_type, "")
    fallback = f"attachment-{index + 1}{extension}"
    return download(data, filename=safe_filename(filename, fallback), content_type=content_type)


class _Echo:
    """A file-like object whose ``write`` hands the line back, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_download(request, rows, filename: str) -> StreamingHttpResponse:
    """Streams the rows (header first) as CSV, so a large environment's export never sits in memory.

    Written the way the reader's spreadsheet reads it: for a Dutch reader ``;`` between the columns and a decimal
    comma (as Dutch Excel expects), else ``,`` and a decimal point; ``?separator=semicolon`` or ``comma`` chooses."""
    separator = request.GET.get("separator", "")
    if separator not in ("semicolon", "comma"):
        separator = "semicolon" if (get_language() or "").startswith("nl") else "comma"
    delimiter, decimal = (";", ",") if separator == "semicolon" else (",", ".")
    writer = csv.writer(_Echo(), delimiter=delimiter)

    def cell(value):
        return format(value, "f").replace(".", decimal) if isinstance(value, Decimal) else value

    def lines():
        yield "\ufeff"  # the byte order mark makes spreadsheet programs read the names as UTF-8
        for row in rows:
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
