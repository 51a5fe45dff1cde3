"""The firm admin's team page: members, invitations, roles, access. Other roles get 403."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.accounts import services
from portal.accounts.selectors import team_changes_for_firm, team_for_firm
from portal.accounts.services import AccountError, PasswordLink
from portal.web.access import firm_admin_required
from portal.web.forms.team import InviteForm, RoleForm
from portal.web.views import account


def _team_page(request, *, invite_form: InviteForm | None = None, status: int = 200):
    return render(
        request,
        "web/team.html",
        {
            "members": team_for_firm(firm=request.firm),
            "changes": team_changes_for_firm(firm=request.firm),
            "invite_form": invite_form or InviteForm(),
            "role_form": RoleForm(),
        },
        status=status,
    )


def _member(request, pk: int):
    return get_object_or_404(team_for_firm(firm=request.firm), pk=pk)


def _site_url(request) -> str:
    return request.build_absolute_uri("/")


def _show_link(request, link: PasswordLink, *, invited: bool):
    # Rendered, not redirected: the link is shown this once and stored nowhere but in the user's token.
    return render(request, "web/team_password_link.html", {"link": link, "invited": invited})


@require_GET
@firm_admin_required
def team(request):
    return _team_page(request)


@never_cache
@require_POST
@firm_admin_required
def team_invite(request):
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _team_page(request, invite_form=form, status=400)
    try:
        link = services.member_invite(
            actor=request.user, firm=request.firm, site_url=_site_url(request), **form.cleaned_data
        )
    except AccountError as exc:
        form.add_error("username" if isinstance(exc, services.UsernameTaken) else None, exc.message)
        return _team_page(request, invite_form=form, status=400)
    return _show_link(request, link, invited=True)


@never_cache
@require_POST
@firm_admin_required
def team_member_password_link(request, pk: int):
    membership = _member(request, pk)
    try:
        link = services.member_password_link_issue(
            actor=request.user, membership=membership, site_url=_site_url(request)
        )
    except AccountError as exc:
        messages.error(request, exc.message)
        return redirect("web:team")
    return _show_link(request, link, invited=False)


@require_POST
@firm_admin_required
def team_member_role(request, pk: int):
    membership = _member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
        return redirect("web:team")
    try:
        services.member_change_role(actor=request.user, membership=membership, role=form.cleaned_data["role"])
    except AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(user)s is now %(role)s.")
            % {"user": membership.user.get_username(), "role": membership.get_role_display()},
        )
    return redirect("web:team")


def _set_active(request, pk: int, *, active: bool):
    membership = _member(request, pk)
    try:
        services.member_set_active(actor=request.user, membership=membership, active=active)
    except AccountError as exc:
        messages.error(request, exc.message)
    else:
        name = membership.user.get_username()
        if active:
            messages.success(request, _("%(user)s can log in again.") % {"user": name})
        else:
            messages.success(request, _("%(user)s is deactivated and can no longer log in.") % {"user": name})
    return redirect("web:team")


@require_POST
@firm_admin_required
def team_member_deactivate(request, pk: int):
    return _set_active(request, pk, active=False)


@require_POST
@firm_admin_required
def team_member_reactivate(request, pk: int):
    return _set_active(request, pk, active=True)


@require_POST
@firm_admin_required
def team_member_two_factor_reset(request, pk: int):
    membership = _member(request, pk)
    try:
        services.member_two_factor_reset(actor=request.user, membership=membership)
    except AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Two-factor authentication of %(user)s is reset: they log in with their password alone until they set it up again."
            )
            % {"user": membership.user.get_username()},
        )
    return redirect("web:team")


urlpatterns = [
    path("team/", team, name="team"),
    path("team/invite/", team_invite, name="team_invite"),
    path("team/members/<int:pk>/role/", team_member_role, name="team_member_role"),
    path("team/members/<int:pk>/deactivate/", team_member_deactivate, name="team_member_deactivate"),
    path("team/members/<int:pk>/reactivate/", team_member_reactivate, name="team_member_reactivate"),
    path("team/members/<int:pk>/password-link/", team_member_password_link, name="team_member_password_link"),
    path("team/members/<int:pk>/two-factor-reset/", team_member_two_factor_reset, name="team_member_two_factor_reset"),
    # The user's own account page lives beside the team (portal/web/urls.py composes one list per module).
    *account.urlpatterns,
]
