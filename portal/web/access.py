"""Every accountant page is scoped to the user's firm: other firms' objects are 404, not 403."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from portal.accounts.selectors import membership_for_user


def firm_member_required(view):
    """Sets ``request.membership`` and ``request.firm``; users without a firm are told why they cannot continue."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        membership = membership_for_user(user=request.user)
        if membership is None:
            if request.user.is_staff:
                return redirect("admin:index")
            return render(request, "web/no_firm.html", status=403)
        request.membership = membership
        request.firm = membership.firm
        return view(request, *args, **kwargs)

    return wrapper


ACTING_ROLES = ("accountant", "firm_admin")


def can_act(request) -> bool:
    """Viewers read; accountants and firm admins act (retry, test, switches)."""
    return request.membership.role in ACTING_ROLES


def can_release(request) -> bool:
    """Releasing a held duplicate ("mark as original") is for firm admins."""
    return request.membership.role == "firm_admin"
