"""Small helpers for showing documents in the admin."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import ngettext

MAX_SHOWN_BYTES = 200_000


def xml_block(raw: bytes | memoryview | None) -> str:
    """Stored XML as escaped, scrollable text. Never parsed here: it may be hostile."""
    if not raw:
        return "-"
    data = bytes(raw)
    shown = data[:MAX_SHOWN_BYTES].decode("utf-8", errors="replace")
    note = ""
    if len(data) > MAX_SHOWN_BYTES:
        hidden = len(data) - MAX_SHOWN_BYTES
        note = "\n… " + ngettext("%(count)s more byte not shown", "%(count)s more bytes not shown", hidden) % {
            "count": hidden
        }
    return format_html('<pre class="stored-document">{}{}</pre>', shown, note)
