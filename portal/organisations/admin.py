from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from integrations.http import RemoteError
from portal.accounts.models import Membership
from portal.core.admin_actions import ReasonActionForm, action_reason
from portal.core.validators import MAX_CREDENTIAL_LENGTH
from portal.events.admin import EnvironmentEventInline
from portal.organisations import routes
from portal.organisations.models import (
    CREDENTIAL_FIELDS,
    Environment,
    Firm,
    Organisation,
    OwnPeppolIdentifier,
    SyncCursor,
)
from portal.organisations.services import environment_set_credentials


class MembershipInline(admin.TabularInline):
    model = Membership
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Firm)
class FirmAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kvk_number", "firm", "created_at")
    list_filter = ("firm",)
    search_fields = ("name", "kvk_number", "firm__name")
    list_select_related = ("firm",)
    autocomplete_fields = ("firm",)


class OwnPeppolIdentifierInline(admin.TabularInline):
    model = OwnPeppolIdentifier
    fields = ("scheme", "value", "receive_active", "registration", "registration_checked_at", "route_override_reason")
    # Receiving is switched with the environment's actions, which check the route first.
    readonly_fields = ("receive_active", "registration", "registration_checked_at", "route_override_reason")
    extra = 0


@admin.register(OwnPeppolIdentifier)
class OwnPeppolIdentifierAdmin(admin.ModelAdmin):
    """Where support deliberately overrides a route conflict, with the reason (audited)."""

    list_display = ("identifier", "environment", "receive_active", "registration", "registration_checked_at",
                    "overridden_display")  # fmt: skip
    list_filter = ("registration", "receive_active")
    search_fields = ("value", "environment__organisation__name", "environment__afas_participant_number")
    list_select_related = ("environment__organisation",)
    readonly_fields = ("environment", "scheme", "value", "receive_active", "registration", "registration_endpoint",
                       "registration_checked_at", "registration_error", "route_override_by", "route_override_at",
                       "route_override_reason", "created_at")  # fmt: skip
    action_form = ReasonActionForm
    actions = ["override_route_conflict", "withdraw_override", "check_directory"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Override", boolean=True)
    def overridden_display(self, obj):
        return obj.overridden

    @admin.action(description="Allow receiving via eConnect despite another registration (needs a reason)",
                  permissions=["change"])  # fmt: skip
    def override_route_conflict(self, request, queryset):
        reason = action_reason(self, request)
        if reason is None:
            return
        done = sum(routes.own_identifier_override_route(own=own, actor=request.user, reason=reason) for own in queryset)
        self.message_user(request, f"{done} identifier(s) overridden; receiving may now be switched on.")

    @admin.action(description="Withdraw the override", permissions=["change"])
    def withdraw_override(self, request, queryset):
        done = sum(routes.own_identifier_clear_override(own=own, actor=request.user) for own in queryset)
        self.message_user(request, f"{done} override(s) withdrawn.")

    @admin.action(description="Check in the Peppol directory now", permissions=["change"])
    def check_directory(self, request, queryset):
        for environment in Environment.objects.filter(own_identifiers__in=queryset).distinct():
            try:
                routes.own_identifiers_check(environment=environment)
            except RemoteError as exc:
                self.message_user(request, f"{environment}: {exc.message}", messages.ERROR)
        self.message_user(request, "Checked; the registrations are shown in the list.")


class SyncCursorInline(admin.TabularInline):
    model = SyncCursor
    fields = ("stream", "position", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


SECRET_INPUTS = (
    "new_afas_token",
    "new_econnect_app_key",
    "new_econnect_app_secret",
    "new_econnect_psb_client_id",
    "new_econnect_psb_client_secret",
)


def _secret_input(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=MAX_CREDENTIAL_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: leave empty to keep the stored value.",
    )


class EnvironmentAdminForm(forms.ModelForm):
    new_afas_token = _secret_input("Set new AFAS token")
    new_econnect_app_key = _secret_input("Set new eConnect App Key")
    new_econnect_app_secret = _secret_input("Set new eConnect Secret")
    clear_afas_token = forms.BooleanField(label="Remove the stored AFAS token", required=False)
    clear_econnect_keys = forms.BooleanField(label="Remove the stored eConnect keys", required=False)
    new_econnect_psb_client_id = _secret_input("Set new eConnect PSB client id")
    new_econnect_psb_client_secret = _secret_input("Set new eConnect PSB client secret")
    clear_econnect_psb_keys = forms.BooleanField(label="Remove the stored eConnect PSB credentials", required=False)

    class Meta:
        model = Environment
        fields = (
            "organisation",
            "afas_participant_number",
            "afas_environment_type",
            "afas_edition",
            "sending_enabled",
            "poll_interval_seconds",
            "afas_sb_domain",
            "afas_sb_environment",
            "afas_sb_administration_id",
            "afas_sb_ledger_account_id",
            "afas_sb_relation_id",
            "afas_sb_relation_type",
            "afas_sales_invoice_subject_type",
            "econnect_group_id",
            "econnect_transport",
            "econnect_psb_party_id",
            "econnect_psb_send_acknowledgement",
            "econnect_psb_remove_after_delivery",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["econnect_transport"].required = False  # absent: the platform, as before PSB existed

    def clean_econnect_transport(self) -> str:
        return self.cleaned_data.get("econnect_transport") or Environment.EConnectTransport.PLATFORM

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("clear_afas_token") and cleaned.get("new_afas_token"):
            self.add_error("clear_afas_token", "Either set a new AFAS token or remove it, not both.")
        if cleaned.get("clear_econnect_keys") and (
            cleaned.get("new_econnect_app_key") or cleaned.get("new_econnect_app_secret")
        ):
            self.add_error("clear_econnect_keys", "Either set new eConnect keys or remove them, not both.")
        if cleaned.get("clear_econnect_psb_keys") and (
            cleaned.get("new_econnect_psb_client_id") or cleaned.get("new_econnect_psb_client_secret")
        ):
            self.add_error("clear_econnect_psb_keys", "Either set new PSB credentials or remove them, not both.")
        return cleaned

    @sensitive_variables("data", "changes")
    def credential_changes(self) -> dict[str, str]:
        """The service's arguments: only what the user asked to change."""
        data = self.cleaned_data
        changes = {name: data[f"new_{name}"] for name in CREDENTIAL_FIELDS if data.get(f"new_{name}")}
        if data.get("clear_afas_token"):
            changes["afas_token"] = ""
        if data.get("clear_econnect_keys"):
            changes.update(econnect_app_key="", econnect_app_secret="")
        if data.get("clear_econnect_psb_keys"):
            changes.update(econnect_psb_client_id="", econnect_psb_client_secret="")
        return changes


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    form = EnvironmentAdminForm
    list_display = (
        "__str__",
        "organisation_link",
        "afas_environment_type",
        "afas_edition",
        "sending_enabled",
        "receiving_enabled",
        "credentials_summary",
    )
    list_filter = (
        "afas_environment_type",
        "afas_edition",
        "sending_enabled",
        "receiving_enabled",
        "organisation__firm",
    )
    search_fields = (
        "afas_participant_number",
        "organisation__name",
        "organisation__kvk_number",
        "own_identifiers__value",
    )
    list_select_related = ("organisation__firm",)
    autocomplete_fields = ("organisation",)
    readonly_fields = ("credentials_summary", "receiving_enabled", "contacts_synced_at", "contacts_sync_error",
                       "route_checked_at", "afas_setup_checked_at", "afas_setup_missing",
                       "afas_own_econnect_link_off_at", "econnect_hooks_connected_at", "created_at", "updated_at")  # fmt: skip
    fieldsets = (
        (None, {"fields": ("organisation", "afas_participant_number", "afas_environment_type", "afas_edition")}),
        (
            "AFAS and eConnect setup",
            {
                "fields": (
                    "afas_sales_invoice_subject_type",
                    "econnect_transport",
                    "econnect_group_id",
                    "econnect_psb_party_id",
                    "econnect_psb_send_acknowledgement",
                    "econnect_psb_remove_after_delivery",
                    "econnect_hooks_connected_at",
                    "afas_setup_checked_at",
                    "afas_setup_missing",
                    "afas_own_econnect_link_off_at",
                )
            },
        ),
        (
            "AFAS Small Business",
            {
                "fields": (
                    "afas_sb_domain",
                    "afas_sb_environment",
                    "afas_sb_administration_id",
                    "afas_sb_ledger_account_id",
                    "afas_sb_relation_id",
                    "afas_sb_relation_type",
                ),
                "classes": ("collapse",),
            },
        ),
        ("Processing", {"fields": ("sending_enabled", "receiving_enabled", "poll_interval_seconds")}),
        ("Contacts and route", {"fields": ("contacts_synced_at", "contacts_sync_error", "route_checked_at")}),
        (
            "Credentials (write-only)",
            {
                "fields": (
                    "credentials_summary",
                    "new_afas_token",
                    "clear_afas_token",
                    "new_econnect_app_key",
                    "new_econnect_app_secret",
                    "clear_econnect_keys",
                    "new_econnect_psb_client_id",
                    "new_econnect_psb_client_secret",
                    "clear_econnect_psb_keys",
                )
            },
        ),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [OwnPeppolIdentifierInline, SyncCursorInline, EnvironmentEventInline]
    actions = ["send_test_invoice", "switch_receiving_on", "switch_receiving_off", "sync_contacts"]

    @admin.action(description="Switch receiving on (after checking the route)", permissions=["change"])
    def switch_receiving_on(self, request, queryset):
        for environment in queryset:
            try:
                routes.environment_set_receiving(environment=environment, enabled=True, actor=request.user)
            except routes.ReceivingRefused as exc:
                self.message_user(request, f"{environment}: receiving stays off. {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{environment}: receiving is on.", messages.SUCCESS)

    @admin.action(description="Switch receiving off", permissions=["change"])
    def switch_receiving_off(self, request, queryset):
        for environment in queryset:
            routes.environment_set_receiving(environment=environment, enabled=False, actor=request.user)
        self.message_user(request, f"Receiving is off for {queryset.count()} environment(s).")

    @admin.action(description="Read all debtors and creditors from AFAS now", permissions=["change"])
    def sync_contacts(self, request, queryset):
        from portal.contacts import tasks

        for environment in queryset:
            tasks.sync.delay(environment.pk, True)
        self.message_user(request, f"Contacts sync queued for {queryset.count()} environment(s).")

    @admin.action(description="Send a test invoice (from the organisation to itself)", permissions=["change"])
    def send_test_invoice(self, request, queryset):
        from integrations.http import PermanentError
        from portal.outgoing_invoices.round_trip import outgoing_send_test_invoice

        for environment in queryset:
            try:
                invoice = outgoing_send_test_invoice(environment=environment, actor=request.user)
            except PermanentError as exc:
                self.message_user(request, f"{environment}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request, f"{environment}: test invoice {invoice.invoice_number} is on its way.", messages.SUCCESS
            )

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*CREDENTIAL_FIELDS)

    @method_decorator(sensitive_post_parameters(*SECRET_INPUTS))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    @sensitive_variables("changes")
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changes = form.credential_changes()
        if changes:
            environment_set_credentials(environment=obj, actor=request.user, **changes)

    @admin.display(description="Organisation", ordering="organisation__name")
    def organisation_link(self, obj):
        url = reverse("admin:organisations_organisation_change", args=[obj.organisation_id])
        return format_html('<a href="{}">{}</a>', url, obj.organisation.name)

    @admin.display(description="Credentials")
    def credentials_summary(self, obj):
        if obj is None or obj.pk is None:
            return "not set"

        def state(set_at):
            return f"set on {date_format(timezone.localtime(set_at), 'DATETIME_FORMAT')}" if set_at else "not set"

        summary = f"AFAS token: {state(obj.afas_token_set_at)}; eConnect keys: {state(obj.econnect_keys_set_at)}"
        return f"{summary}; eConnect PSB credentials: {state(obj.econnect_psb_keys_set_at)}"
