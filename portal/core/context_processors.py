"""Template context every page needs."""

from __future__ import annotations

import time

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from portal.core.peppol import active_rules_pack

# Reading the pack's VERSIONS files on every page would be wasteful; a pack installed meanwhile shows within a minute.
_RULES_CACHE_SECONDS = 60.0
_cache: dict[tuple, tuple[float, bool]] = {}


def _rules_missing() -> bool:
    now = time.monotonic()
    key = (settings.PEPPOL_RULES_DIR, str(settings.PEPPOL_DATA_DIR))
    cached = _cache.get(key)
    if cached is None or now - cached[0] > _RULES_CACHE_SECONDS:
        cached = (now, not active_rules_pack().usable)
        _cache[key] = cached
    return cached[1]


def peppol_rules(request):
    """``peppol_rules_missing``: no official rules pack is active, so invoices are checked for structure only (the
    banner for staff and firm admins). Evaluated only on pages that show the banner."""
    return {"peppol_rules_missing": SimpleLazyObject(lambda: _rules_missing())}
