"""The portal's own public address (``PORTAL_PUBLIC_URL``), where outside services such as eConnect PSB post to."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _


def public_address_problem() -> str:
    """Why eConnect cannot reach this portal ('' when it can): it needs a public HTTPS address."""
    base = settings.PORTAL_PUBLIC_URL.strip()
    if base.startswith("https://") or (settings.DEBUG and base.startswith("http://")):
        return ""
    return _(
        "This portal has no public HTTPS address (PORTAL_PUBLIC_URL), so eConnect PSB cannot deliver webhooks to it. "
        "Receive with the eConnect platform (connection keys) instead."
    )
