from __future__ import annotations

from portal.accounts.models import Membership, User


def membership_for_user(*, user: User) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("firm").filter(user=user).first()
