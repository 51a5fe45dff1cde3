"""Team management (firm admins) and two-factor authentication. Every change is written to the team audit log."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import throttling
from portal.accounts.models import LoginFailure, Membership, MembershipChange, MembershipRole, User

logger = logging.getLogger(__name__)


class AccountError(Exception):
    """A refused account action; ``message`` says why, in words for the person who tried."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TeamChangeRefused(AccountError):
    pass


class UsernameTaken(TeamChangeRefused):
    pass


class TwoFactorError(AccountError):
    pass


class CodeLocked(TwoFactorError):
    pass


class CodeWrong(TwoFactorError):
    pass


@dataclass(frozen=True)
class PasswordLink:
    """A one-time link with which a member sets their password; shown once to the firm admin."""

    membership: Membership
    url: str
    mailed: bool


def _audit(
    *, actor: User | None, membership: Membership, action: str, from_role: str = "", to_role: str = ""
) -> MembershipChange:
    return MembershipChange.objects.create(
        firm_id=membership.firm_id,
        actor=actor,
        actor_name=actor.get_username() if actor else "support",
        subject=membership.user,
        subject_name=membership.user.get_username(),
        action=action,
        from_role=from_role,
        to_role=to_role,
    )


def _check_actor(*, actor: User | None, membership: Membership) -> None:
    """The actor is an active firm admin of the member's firm and not the member. ``None`` is support staff."""
    if actor is None:
        return
    own = Membership.objects.filter(user=actor, firm_id=membership.firm_id, role=MembershipRole.FIRM_ADMIN).first()
    if own is None or not actor.is_active:
        raise TeamChangeRefused(_("Only a firm admin of this firm can change its team."))
    if own.pk == membership.pk:
        raise TeamChangeRefused(
            _("You cannot change your own role or access. Ask another firm admin of your firm to do it.")
        )


def _check_firm_keeps_an_admin(*, firm_id: int) -> None:
    """Called inside the transaction after a change: a firm is never left without an active firm admin."""
    admins = Membership.objects.select_for_update().filter(
        firm_id=firm_id, role=MembershipRole.FIRM_ADMIN, user__is_active=True
    )
    if not admins.exists():
        raise TeamChangeRefused(
            _("This would leave the firm without an active firm admin. Make another member firm admin first.")
        )


def _password_link(*, user: User, site_url: str) -> str:
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return site_url.rstrip("/") + path


def _mail_password_link(*, membership: Membership, url: str) -> bool:
    user = membership.user
    if not user.email:
        return False
    context = {"user": user, "firm": membership.firm, "url": url}
    try:
        send_mail(
            subject=_("Set your password for the Peppol bridge of %(firm)s") % {"firm": membership.firm.name},
            message=render_to_string("registration/set_password_email.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    except OSError:  # smtplib.SMTPException is an OSError
        # The link itself is never logged: it lets whoever holds it set the password.
        logger.warning("The set-password mail to user %s could not be sent.", user.pk, exc_info=True)
        return False
    return True


def member_invite(
    *,
    actor: User | None,
    firm,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str,
    site_url: str,
) -> PasswordLink:
    """Create a user in the firm with no password yet, and a one-time link with which they set one."""
    if role not in MembershipRole.values:
        raise TeamChangeRefused(_("Choose a valid role."))
    if actor is not None:
        own = Membership.objects.filter(user=actor, firm=firm, role=MembershipRole.FIRM_ADMIN).first()
        if own is None:
            raise TeamChangeRefused(_("Only a firm admin of this firm can change its team."))
    username = username.strip()
    taken = _("The username %(username)s is already taken. Usernames are unique across all firms: choose another.")
    if User.objects.filter(username__iexact=username).exists():
        raise UsernameTaken(taken % {"username": username})
    try:
        with transaction.atomic():
            user = User(username=username, email=email.strip(), first_name=first_name, last_name=last_name)
            user.set_unusable_password()
            user.save()
            membership = Membership.objects.create(user=user, firm=firm, role=role)
            _audit(actor=actor, membership=membership, action=MembershipChange.Action.INVITED, to_role=role)
    except IntegrityError as exc:  # someone took the name between the check and the insert
        raise UsernameTaken(taken % {"username": username}) from exc
    url = _password_link(user=user, site_url=site_url)
    return PasswordLink(membership=membership, url=url, mailed=_mail_password_link(membership=membership, url=url))


def member_password_link_issue(*, actor: User | None, membership: Membership, site_url: str) -> PasswordLink:
    """A new set-password link for a member (lost or expired invitation, forgotten password)."""
    _check_actor(actor=actor, membership=membership)
    if not membership.user.is_active:
        raise TeamChangeRefused(_("Reactivate the member first."))
    _audit(actor=actor, membership=membership, action=MembershipChange.Action.PASSWORD_LINK_ISSUED)
    url = _password_link(user=membership.user, site_url=site_url)
    return PasswordLink(membership=membership, url=url, mailed=_mail_password_link(membership=membership, url=url))


def member_change_role(*, actor: User | None, membership: Membership, role: str) -> Membership:
    if role not in MembershipRole.values:
        raise TeamChangeRefused(_("Choose a valid role."))
    _check_actor(actor=actor, membership=membership)
    if membership.role == role:
        return membership
    with transaction.atomic():
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        _check_firm_keeps_an_admin(firm_id=membership.firm_id)
        _audit(
            actor=actor,
            membership=membership,
            action=MembershipChange.Action.ROLE_CHANGED,
            from_role=previous,
            to_role=role,
        )
    return membership


def member_set_active(*, actor: User | None, membership: Membership, active: bool) -> Membership:
    """Deactivate (the member can no longer log in; open sessions end at their next request) or reactivate."""
    _check_actor(actor=actor, membership=membership)
    user = membership.user
    if user.is_active == active:
        return membership
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        _check_firm_keeps_an_admin(firm_id=membership.firm_id)
        action = MembershipChange.Action.REACTIVATED if active else MembershipChange.Action.DEACTIVATED
        _audit(actor=actor, membership=membership, action=action, from_role=membership.role)
    return membership


def member_two_factor_reset(*, actor: User | None, membership: Membership) -> None:
    """For a member who lost their authenticator: they log in with their password alone until they set it up again."""
    _check_actor(actor=actor, membership=membership)
    with transaction.atomic():
        deleted, _counts = TOTPDevice.objects.filter(user=membership.user).delete()
        if deleted:
            _audit(actor=actor, membership=membership, action=MembershipChange.Action.TWO_FACTOR_RESET)


# --- two-factor authentication (the user's own) --------------------------------------------------------------------


def two_factor_enabled(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_pending_device(*, user: User) -> TOTPDevice | None:
    """The device being set up: not active until confirmed with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def two_factor_start(*, user: User) -> TOTPDevice:
    """A new secret for the user's authenticator app; two-factor is on once a code from it is confirmed."""
    if two_factor_enabled(user=user):
        raise TwoFactorError(_("Two-factor authentication is already on."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def code_verify(*, user: User, device: TOTPDevice, token: str, ip_address: str | None = None) -> None:
    """Check a code from ``device``; wrong codes are counted and, after too many, refused for a while."""
    locked = _("Too many wrong codes. Wait a few minutes and try again.")
    if throttling.code_is_locked(user=user):
        raise CodeLocked(locked)
    allowed, _data = device.verify_is_allowed()
    if not allowed:  # django-otp's own back-off between attempts (1, 2, 4, ... seconds)
        raise CodeLocked(_("Wait a few seconds before you try another code."))
    token = "".join(token.split())
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        verified = token.isdigit() and device.verify_token(token)
    if not verified:
        throttling.login_failure_record(
            kind=LoginFailure.Kind.CODE, username=user.get_username(), ip_address=ip_address
        )
        if throttling.code_is_locked(user=user):
            raise CodeLocked(locked)
        raise CodeWrong(_("That code is not correct. Enter the current code from your authenticator app."))
    throttling.login_failures_clear(kind=LoginFailure.Kind.CODE, username=user.get_username())


def login_code_verify(*, user: User, token: str, ip_address: str | None = None) -> TOTPDevice:
    """The second login step: returns the device that accepted the code (to mark the session as verified)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        raise TwoFactorError(_("Two-factor authentication is not on for this account."))
    code_verify(user=user, device=device, token=token, ip_address=ip_address)
    return device


def two_factor_confirm(*, user: User, token: str, ip_address: str | None = None) -> TOTPDevice:
    """Turn two-factor on: the code proves the authenticator app holds the secret."""
    device = two_factor_pending_device(user=user)
    if device is None:
        raise TwoFactorError(_("Start setting up two-factor authentication first."))
    code_verify(user=user, device=device, token=token, ip_address=ip_address)
    with transaction.atomic():
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.confirmed = True
        membership = Membership.objects.filter(user=user).select_related("user").first()
        if membership is not None:
            _audit(actor=user, membership=membership, action=MembershipChange.Action.TWO_FACTOR_ENABLED)
    return device


def two_factor_disable(*, user: User, token: str, ip_address: str | None = None) -> None:
    """Turn two-factor off; a current code is required, so a session left open cannot do it alone."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        raise TwoFactorError(_("Two-factor authentication is not on for this account."))
    code_verify(user=user, device=device, token=token, ip_address=ip_address)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        membership = Membership.objects.filter(user=user).select_related("user").first()
        if membership is not None:
            _audit(actor=user, membership=membership, action=MembershipChange.Action.TWO_FACTOR_DISABLED)
