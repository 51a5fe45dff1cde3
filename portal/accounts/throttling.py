"""Login throttling: failed password and code attempts are counted in the database, shared by every web worker.

After ``limit`` failures within ``LOGIN_FAILURE_WINDOW_SECONDS``, attempts are refused until
``LOGIN_LOCKOUT_SECONDS`` have passed since the last failure. A refused attempt is not counted (so the lockout ends)
and is refused before the password is checked (so a locked-out attacker learns nothing). The same answer is given
whether or not the username exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from portal.accounts.models import LoginFailure, User


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the last X-Forwarded-For entry (the one the trusted proxy added)."""
    if settings.LOGIN_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
        if entries:
            return entries[-1]
    return request.META.get("REMOTE_ADDR") or None


def _normalise(username: str) -> str:
    return username.strip().lower()[:150]


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _lockout() -> timedelta:
    return timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def _locked(failures: QuerySet[LoginFailure], *, limit: int, now: datetime) -> bool:
    """Locked when the last ``limit`` failures fall within one window and the newest is within the lockout.

    Reads at most ``limit`` rows through an index, however many failures there are.
    """
    if limit <= 0:
        return False
    recent = list(
        failures.filter(created_at__gte=now - _window() - _lockout())
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return False
    newest, oldest = recent[0], recent[-1]
    return newest - oldest <= _window() and now - newest < _lockout()


def login_is_locked(*, username: str, ip_address: str | None, now: datetime | None = None) -> bool:
    """Whether password attempts for this username, or from this address, are refused for now."""
    now = now or timezone.now()
    passwords = LoginFailure.objects.filter(kind=LoginFailure.Kind.PASSWORD)
    if _locked(passwords.filter(username=_normalise(username)), limit=settings.LOGIN_FAILURE_LIMIT, now=now):
        return True
    return ip_address is not None and _locked(
        passwords.filter(ip_address=ip_address), limit=settings.LOGIN_FAILURE_LIMIT_PER_IP, now=now
    )


def code_is_locked(*, user: User, now: datetime | None = None) -> bool:
    """Whether two-factor code attempts of this user are refused for now."""
    failures = LoginFailure.objects.filter(kind=LoginFailure.Kind.CODE, username=_normalise(user.get_username()))
    return _locked(failures, limit=settings.OTP_FAILURE_LIMIT, now=now or timezone.now())


def login_failure_record(*, kind: str, username: str, ip_address: str | None) -> LoginFailure:
    return LoginFailure.objects.create(kind=kind, username=_normalise(username), ip_address=ip_address)


def login_failures_clear(*, kind: str, username: str) -> None:
    """After a success: the user's own count starts again (the address count stays), and old rows go."""
    LoginFailure.objects.filter(kind=kind, username=_normalise(username)).delete()
    horizon = timezone.now() - 2 * (_window() + _lockout())
    LoginFailure.objects.filter(created_at__lt=horizon).delete()
