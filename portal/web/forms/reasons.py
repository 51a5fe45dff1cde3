"""The reason people give for an action (kept in the timeline): bounded on the server, and asked for where needed."""

from __future__ import annotations

from django.contrib import messages

from portal.core.validators import checked_reason


def posted_reason(request, *, missing: str | None) -> str | None:
    """The POSTed reason, stripped; None (with the problem shown as a message) when it is too long, or empty while
    ``missing`` (the message that asks for it) is given."""
    try:
        return checked_reason(request.POST.get("reason", ""), required=missing)
    except ValueError as exc:
        messages.error(request, str(exc))
        return None
