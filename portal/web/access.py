"""Every accountant page is scoped to the user's firm: other firms' objects are 404, not 403."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from portal.accounts.selectors import membership_for_user
from portal.accounts.services import two_factor_enabled
from portal.accounts.sessions import session_idle_check


def _to(request, url: str):
    """A redirect that also works for htmx fragment requests (the whole page goes, not the fragment)."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _next_path(request) -> str:
    if getattr(request, "htmx", False) and request.headers.get("HX-Current-URL"):
        return request.headers["HX-Current-URL"]
    return request.get_full_path()


def needs_second_factor(request) -> bool:
    """Logged in with the password, but the account has two-factor on and this session has not given a code."""
    user = request.user
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return False
    return two_factor_enabled(user=user)


def firm_member_required(view):
    """Sets ``request.membership`` and ``request.firm``; users without a firm are told why they cannot continue.

    Anonymous users go to the login page, idle sessions end, and a session of an account with two-factor on that has
    not given its code yet goes to the code step.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _to(request, redirect_to_login(_next_path(request)).url)
        expired = session_idle_check(request)
        if expired is not None:
            return expired
        if needs_second_factor(request):
            return _to(request, f"{reverse('login_code')}?{urlencode({'next': _next_path(request)})}")
        membership = membership_for_user(user=request.user)
        if membership is None:
            if request.user.is_staff:
                return redirect("admin:index")
            return render(request, "web/no_firm.html", status=403)
        request.membership = membership
        request.firm = membership.firm
        return view(request, *args, **kwargs)

    return wrapper


def firm_admin_required(view):
    """For firm admins only (team management); other members get 403. Implies ``firm_member_required``."""

    @firm_member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_firm_admin(request):
            raise PermissionDenied("Only firm admins can do this.")
        return view(request, *args, **kwargs)

    return wrapper


ACTING_ROLES = ("accountant", "firm_admin")


def can_act(request) -> bool:
    """Viewers read; accountants and firm admins act (retry, test, switches)."""
    return request.membership.role in ACTING_ROLES


def can_release(request) -> bool:
    """Releasing a held duplicate ("mark as original") is for firm admins."""
    return request.membership.role == "firm_admin"


def is_firm_admin(request) -> bool:
    """Managing the firm's team and environments is for firm admins."""
    return request.membership.role == "firm_admin"
