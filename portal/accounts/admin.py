from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from portal.accounts.models import LoginFailure, Membership, MembershipChange, User


class MembershipInline(admin.StackedInline):
    model = Membership
    autocomplete_fields = ("firm",)
    can_delete = True
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "firm", "role", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_active", "membership__role", "membership__firm")
    list_select_related = ("membership__firm",)
    inlines = [MembershipInline]

    @admin.display(description="Firm", ordering="membership__firm__name")
    def firm(self, obj):
        membership = getattr(obj, "membership", None)
        return membership.firm if membership else "-"

    @admin.display(description="Role")
    def role(self, obj):
        membership = getattr(obj, "membership", None)
        return membership.get_role_display() if membership else "-"


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "firm", "role", "created_at")
    list_filter = ("role", "firm")
    search_fields = ("user__username", "user__email", "firm__name")
    list_select_related = ("user", "firm")
    autocomplete_fields = ("user", "firm")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Logs are written by the portal only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "firm", "actor_name", "action", "subject_name", "from_role", "to_role")
    list_filter = ("action",)
    search_fields = ("actor_name", "subject_name", "firm__name")
    list_select_related = ("firm",)
    raw_id_fields = ("firm", "actor", "subject")
    date_hierarchy = "created_at"


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "username", "ip_address")
    list_filter = ("kind",)
    search_fields = ("username", "ip_address")
    date_hierarchy = "created_at"
