"""Idle timeout: a session unused for SESSION_IDLE_SECONDS ends (on top of SESSION_COOKIE_AGE and browser close)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

LAST_ACTIVITY_KEY = "portal_last_activity"
# The session is written at most this often for activity alone, not on every request.
TOUCH_EVERY_SECONDS = 60


def session_mark_active(request, *, now: float | None = None) -> None:
    request.session[LAST_ACTIVITY_KEY] = int(now if now is not None else time.time())


def session_idle_check(request, *, now: float | None = None):
    """Ends an idle session: returns the redirect to the login page, or ``None`` when the session may continue.

    htmx polling (GET requests that htmx makes by itself) does not count as activity, so a page left open with a
    live status does not keep the session alive.
    """
    if getattr(request, "_portal_idle_checked", False) or not hasattr(request, "session"):
        return None
    if not request.user.is_authenticated:
        return None
    request._portal_idle_checked = True
    now = now if now is not None else time.time()
    last = request.session.get(LAST_ACTIVITY_KEY)
    if isinstance(last, int | float) and now - last > settings.SESSION_IDLE_SECONDS:
        path = request.get_full_path()
        logout(request)
        messages.info(
            request, _("Your session ended after a period of inactivity. Please log in again."), fail_silently=True
        )
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(redirect_to_login(request.headers.get("HX-Current-URL", path)).url)
        return redirect_to_login(path)
    polling = getattr(request, "htmx", False) and request.method == "GET"
    if last is None or (not polling and now - last >= TOUCH_EVERY_SECONDS):
        session_mark_active(request, now=now)
    return None


class SessionIdleTimeoutMiddleware:
    """Applies the idle timeout to every page (portal pages apply it through ``firm_member_required`` too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return session_idle_check(request) or self.get_response(request)
