"""The reason people give for an action (kept in the timeline): required, and bounded on the server."""

from __future__ import annotations

from django.contrib import messages

from portal.core.validators import reason_too_long


def posted_reason(request, *, missing: str) -> str | None:
    """The POSTed reason, stripped; None (with the problem shown as a message) when it is empty or too long."""
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, missing)
        return None
    problem = reason_too_long(reason)
    if problem:
        messages.error(request, problem)
        return None
    return reason
