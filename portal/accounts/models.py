from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """Accountants log in to the portal; support staff (is_staff) use the admin."""


class MembershipRole(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    ACCOUNTANT = "accountant", _("Accountant")
    FIRM_ADMIN = "firm_admin", _("Firm admin")


class Membership(models.Model):
    """Makes a user an accountant of one firm: the user sees that firm's clients only."""

    Role = MembershipRole

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    firm = models.ForeignKey("organisations.Firm", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ACCOUNTANT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=MembershipRole.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.firm} ({self.get_role_display()})"
