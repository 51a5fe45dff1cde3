from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import Membership, MembershipChange, User


def membership_for_user(*, user: User) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("firm").filter(user=user).first()


def team_for_firm(*, firm) -> QuerySet[Membership]:
    """The firm's members with ``two_factor`` (a confirmed authenticator) annotated; active members first."""
    confirmed_device = TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True)
    return (
        Membership.objects.filter(firm=firm)
        .select_related("user", "firm")
        .annotate(two_factor=Exists(confirmed_device))
        .order_by("-user__is_active", "user__username")
    )


def team_changes_for_firm(*, firm, limit: int = 20) -> QuerySet[MembershipChange]:
    return MembershipChange.objects.filter(firm=firm).order_by("-created_at", "-id")[:limit]
