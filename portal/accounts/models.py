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


class AppendOnlyError(RuntimeError):
    pass


class MembershipChangeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The team audit log is append-only: entries cannot be updated.")

    def delete(self):
        raise AppendOnlyError("The team audit log is append-only: entries cannot be deleted.")


class MembershipChange(models.Model):
    """Who changed what about a firm's team, and when. Append-only."""

    class Action(models.TextChoices):
        INVITED = "invited", _("Invited")
        PASSWORD_LINK_ISSUED = "password_link_issued", _("Set-password link issued")
        ROLE_CHANGED = "role_changed", _("Role changed")
        DEACTIVATED = "deactivated", _("Deactivated")
        REACTIVATED = "reactivated", _("Reactivated")
        TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-factor authentication turned on")
        TWO_FACTOR_DISABLED = "two_factor_disabled", _("Two-factor authentication turned off")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor authentication reset")

    created_at = models.DateTimeField(auto_now_add=True)
    firm = models.ForeignKey("organisations.Firm", on_delete=models.PROTECT, related_name="membership_changes")
    # The names are kept so the log survives a user being deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="The actor's username at the time.")
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject_name = models.CharField(max_length=150, help_text="The subject's username at the time.")
    action = models.CharField(max_length=30, choices=Action.choices)
    from_role = models.CharField(max_length=20, blank=True, choices=MembershipRole.choices)
    to_role = models.CharField(max_length=20, blank=True, choices=MembershipRole.choices)

    objects = MembershipChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["firm", "-created_at"], name="membership_change_firm_recent")]

    def __str__(self) -> str:
        return f"{self.actor_name}: {self.get_action_display()} {self.subject_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("The team audit log is append-only: entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The team audit log is append-only: entries cannot be deleted.")


class LoginFailure(models.Model):
    """A failed password or code attempt, kept in the database so every web worker sees the same count."""

    class Kind(models.TextChoices):
        PASSWORD = "password", _("Password")
        CODE = "code", _("Two-factor code")

    created_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # As typed (lower-cased), whether or not such a user exists.
    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "username", "-created_at"], name="login_failure_by_username"),
            models.Index(fields=["kind", "ip_address", "-created_at"], name="login_failure_by_ip"),
            models.Index(fields=["created_at"], name="login_failure_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username} {self.ip_address or ''}"
