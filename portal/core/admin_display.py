"""Small helpers for showing documents in the admin."""

from __future__ import annotations

from django.utils.html import format_html

MAX_SHOWN_BYTES = 200_000


def xml_block(raw: bytes | memoryview | None) -> str:
    """Stored XML as escaped, scrollable text. Never parsed here: it may be hostile."""
    if not raw:
        return "-"
    data = bytes(raw)
    shown = data[:MAX_SHOWN_BYTES].decode("utf-8", errors="replace")
    note = f"\n… {len(data) - MAX_SHOWN_BYTES} more bytes not shown" if len(data) > MAX_SHOWN_BYTES else ""
    return format_html('<pre style="max-height:30rem;overflow:auto;white-space:pre-wrap">{}{}</pre>', shown, note)
