from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from integrations.http import PermanentError, RemoteError
from portal.contacts import services as contact_services
from portal.core.public_address import public_address_problem
from portal.incoming_invoices.models import IncomingInvoice
from portal.organisations import routes
from portal.organisations.afas_setup import afas_check_setup, afas_setup_last, afas_setup_shown
from portal.organisations.checklist import environment_checklist
from portal.organisations.connection_test import connection_test_last, environment_test_connection
from portal.organisations.models import Environment
from portal.organisations.own_identifiers import IdentifierRefused, own_identifier_add, own_identifier_remove
from portal.organisations.routes import registration_message
from portal.organisations.selectors import environments_for_firm
from portal.organisations.services import (
    SendingRefused,
    SettingsRefused,
    environment_confirm_afas_link_off,
    environment_create,
    environment_set_credentials,
    environment_set_sending,
    environment_update_settings,
    organisation_create,
    sending_blockers,
)
from portal.outgoing_invoices.models import OutgoingInvoice
from portal.outgoing_invoices.round_trip import outgoing_send_test_invoice
from portal.outgoing_invoices.selectors import outbox_for_environment
from portal.web.access import can_act, can_release, firm_member_required, is_firm_admin
from portal.web.forms.environments import (
    CredentialsForm,
    EnvironmentCreateForm,
    EnvironmentSettingsForm,
    OrganisationForm,
    OwnIdentifierForm,
)
from portal.webhooks.afas import afas_hook_address, environment_set_up_afas_webhooks
from portal.webhooks.connect import HooksRefused, environment_connect_webhooks


def _environment(request, pk: int):
    return get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)


def _require_act(request, what: str) -> None:
    if not can_act(request):
        raise PermissionDenied(f"Viewers cannot {what}.")


def _require_firm_admin(request) -> None:
    if not is_firm_admin(request):
        raise PermissionDenied("Only firm admins manage organisations and environments.")


def _latest_test_invoice(environment) -> OutgoingInvoice | None:
    return (
        OutgoingInvoice.objects.filter(environment=environment, is_test=True)
        .select_related("environment")
        .defer("ubl")
        .order_by("-created_at", "-pk")
        .first()
    )


# --- the page --------------------------------------------------------------------------------------------------------


def _setup(request, environment) -> dict:
    """What the setup checklist needs, and what the page shows beside it (the same reads, made once)."""
    identifiers = list(environment.own_identifiers.order_by("pk"))
    test_invoice = _latest_test_invoice(environment)
    sending_problems = [] if environment.sending_enabled else sending_blockers(environment)
    receiving_problems = [] if environment.receiving_enabled else routes.receiving_blockers(environment)
    return {
        "environment": environment,
        "identifiers": identifiers,
        "test_invoice": test_invoice,
        "sending_blockers": sending_problems,
        "receiving_blockers": receiving_problems,
        "checklist": environment_checklist(
            environment,
            identifiers=identifiers,
            latest_test=test_invoice,
            sending_blockers=sending_problems,
            receiving_blockers=receiving_problems,
        ),
        "can_act": can_act(request),
        "can_manage": is_firm_admin(request),
    }


@require_GET
@firm_member_required
def environment_detail(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)
    setup = _setup(request, environment)
    identifiers = setup["identifiers"]
    return render(
        request,
        "web/environment_detail.html",
        {
            **setup,
            "identifier_form": OwnIdentifierForm(
                initial={"identifier": "" if identifiers else f"0106:{environment.organisation.kvk_number}"}
            ),
            "recent_invoices": outbox_for_environment(environment=environment).defer("ubl")[:10],
            "recent_documents": IncomingInvoice.objects.filter(environment=environment)
            .defer("raw_xml")
            .order_by("-created_at", "-pk")[:10],
            "can_release": can_release(request),
            "contacts_syncable": contact_services.contacts_sync_eligible(environment),
            "connection_test": connection_test_last(environment),
            "afas_setup": afas_setup_last(environment),
            "webhook_problem": public_address_problem()
            if environment.uses_psb or environment.afas_edition == Environment.Edition.PROFIT
            else "",
        },
    )


# --- test connection -----------------------------------------------------------------------------------------------


@require_POST
@firm_member_required
def environment_test_connection_view(request, pk: int):
    environment = _environment(request, pk)
    _require_act(request, "test the connection")
    result = environment_test_connection(environment=environment, actor=request.user)
    if request.htmx:  # the result in place, and the setup checklist it moved on (out of band)
        environment.refresh_from_db()  # the test recorded what it learnt (credentials accepted, connectors found)
        return render(
            request,
            "web/_environment_connection.html",
            {**_setup(request, environment), "connection_test": result, "checklist_out_of_band": True},
        )
    for check in result.checks:
        (messages.success if check.ok else messages.error)(request, check.summary)
    return redirect("web:environment_detail", pk=environment.pk)


@require_POST
@firm_member_required
def environment_afas_setup_view(request, pk: int):
    environment = _environment(request, pk)
    _require_act(request, "check the AFAS setup")
    report = afas_check_setup(environment=environment, actor=request.user)
    if request.htmx:  # the findings in place, and the setup checklist they moved on (out of band)
        return render(
            request,
            "web/_environment_afas_setup.html",
            {
                **_setup(request, environment),
                "afas_setup": afas_setup_shown(report.as_data()),
                "checklist_out_of_band": True,
            },
        )
    if report.ok:
        messages.success(request, _("AFAS setup checked: everything the portal reads and writes is there."))
    else:
        messages.error(request, _("AFAS setup checked: something is missing in AFAS; see AFAS setup below."))
    return redirect("web:environment_detail", pk=environment.pk)


@require_POST
@firm_member_required
def environment_confirm_afas_link_view(request, pk: int):
    environment = _environment(request, pk)
    _require_act(request, "confirm AFAS's own eConnect link is off")
    environment_confirm_afas_link_off(environment=environment, actor=request.user)
    messages.success(request, _("Recorded: AFAS's own eConnect link does not receive for this environment."))
    return redirect(reverse("web:environment_detail", args=[environment.pk]) + "#afas-link-heading")


@require_POST
@firm_member_required
def environment_connect_webhooks_view(request, pk: int):
    """eConnect PSB: register the environment's webhook at eConnect (firm admins; updating is harmless)."""
    environment = _environment(request, pk)
    _require_firm_admin(request)
    try:
        environment_connect_webhooks(environment=environment, actor=request.user)
    except HooksRefused as exc:
        messages.error(request, exc.message)
    except RemoteError as exc:
        messages.error(request, _("eConnect did not take the webhook: %(reason)s") % {"reason": exc.message})
    else:
        messages.success(request, _("The eConnect webhooks are connected: received invoices now arrive by webhook."))
    return redirect(reverse("web:environment_detail", args=[environment.pk]) + "#connection-heading")


@require_POST
@firm_member_required
def environment_set_up_afas_webhooks_view(request, pk: int):
    """AFAS Profit dossier webhooks: a new password for the environment's address, shown once (firm admins)."""
    environment = _environment(request, pk)
    _require_firm_admin(request)
    problem = public_address_problem()
    if problem or environment.afas_edition != Environment.Edition.PROFIT:
        messages.error(request, problem or _("Dossier webhooks are an AFAS Profit feature."))
        return redirect(reverse("web:environment_detail", args=[environment.pk]) + "#afas-webhooks-heading")
    password = environment_set_up_afas_webhooks(environment=environment, actor=request.user)
    response = render(
        request,
        "web/afas_webhooks_set_up.html",
        {"environment": environment, "address": afas_hook_address(environment), "password": password},
    )
    response["Cache-Control"] = "no-store"  # the password is shown once and kept by no cache
    return response


# --- test invoice ----------------------------------------------------------------------------------------------------


@require_POST
@firm_member_required
def environment_send_test_invoice(request, pk: int):
    environment = _environment(request, pk)
    _require_act(request, "send test invoices")
    error = None
    try:
        invoice = outgoing_send_test_invoice(environment=environment, actor=request.user)
    except PermanentError as exc:
        error, invoice = exc.message, _latest_test_invoice(environment)
    if request.htmx:
        return render(
            request,
            "web/_environment_test_invoice.html",
            {"environment": environment, "test_invoice": invoice, "test_invoice_error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("Test invoice %(number)s is on its way; its status shows below.") % {"number": invoice.invoice_number},
        )
    return redirect("web:environment_detail", pk=environment.pk)


@require_GET
@firm_member_required
def environment_test_invoice_status(request, pk: int):
    """The test invoice fragment; it polls itself (htmx) while the invoice is on its way or awaited back."""
    environment = _environment(request, pk)
    if not request.htmx:
        return redirect("web:environment_detail", pk=environment.pk)
    return render(request, "web/_environment_test_invoice.html", {**_setup(request, environment),
                                                                    "checklist_out_of_band": True})  # fmt: skip


# --- switches ----------------------------------------------------------------------------------------------------------


def _switch_value(request) -> bool | None:
    return {"on": True, "off": False}.get(request.POST.get("enabled", ""))


@require_POST
@firm_member_required
def environment_set_sending_view(request, pk: int):
    environment = _environment(request, pk)
    _require_act(request, "switch sending on or off")
    enabled = _switch_value(request)
    if enabled is None:
        return HttpResponseBadRequest("enabled must be 'on' or 'off'.")
    try:
        environment_set_sending(environment=environment, enabled=enabled, actor=request.user)
    except SendingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Sending is switched on.") if enabled else _("Sending is switched off."))
    return redirect("web:environment_detail", pk=environment.pk)


@require_POST
@firm_member_required
def environment_set_receiving_view(request, pk: int):
    environment = _environment(request, pk)
    _require_act(request, "switch receiving on or off")
    enabled = _switch_value(request)
    if enabled is None:
        return HttpResponseBadRequest("enabled must be 'on' or 'off'.")
    try:
        routes.environment_set_receiving(environment=environment, enabled=enabled, actor=request.user)
    except routes.ReceivingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Receiving is switched on.") if enabled else _("Receiving is switched off."))
    return redirect("web:environment_detail", pk=environment.pk)


@require_POST
@firm_member_required
def environment_route_check(request, pk: int):
    environment = _environment(request, pk)
    _require_act(request, "start a directory check")
    try:
        checked = routes.own_identifiers_check(environment=environment)
    except RemoteError as exc:
        messages.error(request, _("The Peppol directory could not be asked: %(reason)s") % {"reason": exc.message})
    else:
        if checked:
            messages.success(request, _("The Peppol directory was asked where the own identifiers are registered."))
        else:
            messages.info(request, _("This environment has no own Peppol identifiers to check."))
    return redirect("web:environment_detail", pk=environment.pk)


# --- own Peppol identifiers: firm admins -------------------------------------------------------------------------------


@require_POST
@firm_member_required
def environment_identifier_add(request, pk: int):
    environment = _environment(request, pk)
    _require_firm_admin(request)
    form = OwnIdentifierForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("identifier", []):
            messages.error(request, error)
        return redirect(f"{reverse('web:environment_detail', args=[environment.pk])}#own-identifiers")
    try:
        own = own_identifier_add(environment=environment, text=form.cleaned_data["identifier"], actor=request.user)
    except IdentifierRefused as exc:
        messages.error(request, exc.message)
    else:
        found = own.registration_error_text or registration_message(own).render()
        messages.success(request, _("%(identifier)s is added.") % {"identifier": own.identifier} + " " + found)
    return redirect(f"{reverse('web:environment_detail', args=[environment.pk])}#own-identifiers")


@require_POST
@firm_member_required
def environment_identifier_remove(request, pk: int, identifier_pk: int):
    environment = _environment(request, pk)
    _require_firm_admin(request)
    own = get_object_or_404(environment.own_identifiers.all(), pk=identifier_pk)
    try:
        own_identifier_remove(own=own, actor=request.user)
    except IdentifierRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(identifier)s is removed.") % {"identifier": own.identifier})
    return redirect(f"{reverse('web:environment_detail', args=[environment.pk])}#own-identifiers")


# --- settings: firm admins only ----------------------------------------------------------------------------------------


def _refused_on(form, exc: SettingsRefused) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


SECRET_INPUTS = (
    "afas_token",
    "econnect_app_key",
    "econnect_app_secret",
    "econnect_psb_client_id",
    "econnect_psb_client_secret",
)


@sensitive_post_parameters(*SECRET_INPUTS)
@firm_member_required
def environment_settings(request, pk: int):
    environment = _environment(request, pk)
    _require_firm_admin(request)
    if request.method == "POST":
        form = EnvironmentSettingsForm(request.POST)
        credentials = CredentialsForm(request.POST)
        if form.is_valid() and credentials.is_valid():
            try:
                with transaction.atomic():
                    changed = environment_update_settings(
                        environment=environment, actor=request.user, **form.cleaned_data
                    )
                    changed += environment_set_credentials(
                        environment=environment, actor=request.user, **credentials.changes()
                    )
            except SettingsRefused as exc:
                _refused_on(form, exc)
            else:
                if changed:
                    messages.success(request, _("The settings are saved."))
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect("web:environment_detail", pk=environment.pk)
    else:
        form = EnvironmentSettingsForm(initial=EnvironmentSettingsForm.initial_from(environment))
        credentials = CredentialsForm()
    return render(
        request,
        "web/environment_form.html",
        {"environment": environment, "form": form, "credentials": credentials},
    )


@sensitive_post_parameters(*SECRET_INPUTS)
@firm_member_required
def environment_new(request):
    _require_firm_admin(request)
    organisations = request.firm.organisations.order_by("name")
    if request.method == "POST":
        form = EnvironmentCreateForm(request.POST, organisations=organisations)
        credentials = CredentialsForm(request.POST)
        if form.is_valid() and credentials.is_valid():
            try:
                with transaction.atomic():
                    environment = environment_create(
                        organisation=form.cleaned_data["organisation"], actor=request.user, **form.settings()
                    )
                    environment_set_credentials(environment=environment, actor=request.user, **credentials.changes())
            except SettingsRefused as exc:
                _refused_on(form, exc)
            else:
                messages.success(request, _("The environment is set up. Test its connection next."))
                return redirect("web:environment_detail", pk=environment.pk)
    else:
        chosen = request.GET.get("organisation", "")
        initial = {"organisation": chosen} if chosen.isdigit() and organisations.filter(pk=chosen).exists() else {}
        form = EnvironmentCreateForm(organisations=organisations, initial=initial)
        credentials = CredentialsForm()
    return render(request, "web/environment_form.html", {"form": form, "credentials": credentials})


@firm_member_required
def organisation_new(request):
    _require_firm_admin(request)
    if request.method == "POST":
        form = OrganisationForm(request.POST)
        if form.is_valid():
            try:
                organisation = organisation_create(firm=request.firm, actor=request.user, **form.cleaned_data)
            except SettingsRefused as exc:
                _refused_on(form, exc)
            else:
                added = _("%(name)s is added. Set up its AFAS environment next.") % {"name": organisation.name}
                messages.success(request, added)
                return redirect(f"{reverse('web:environment_new')}?organisation={organisation.pk}")
    else:
        form = OrganisationForm()
    return render(request, "web/environment_form.html", {"form": form, "adding_organisation": True})


urlpatterns = [
    path("environments/new/", environment_new, name="environment_new"),
    path("organisations/new/", organisation_new, name="organisation_new"),
    path("environments/<int:pk>/", environment_detail, name="environment_detail"),
    path("environments/<int:pk>/settings/", environment_settings, name="environment_settings"),
    path(
        "environments/<int:pk>/test-connection/", environment_test_connection_view, name="environment_test_connection"
    ),
    path("environments/<int:pk>/test-invoice/", environment_send_test_invoice, name="environment_send_test_invoice"),
    path(
        "environments/<int:pk>/test-invoice/status/",
        environment_test_invoice_status,
        name="environment_test_invoice_status",
    ),
    path("environments/<int:pk>/afas-setup/", environment_afas_setup_view, name="environment_afas_setup"),
    path("environments/<int:pk>/afas-link/", environment_confirm_afas_link_view, name="environment_confirm_afas_link"),
    path("environments/<int:pk>/webhooks/", environment_connect_webhooks_view, name="environment_connect_webhooks"),
    path(
        "environments/<int:pk>/afas-webhooks/",
        environment_set_up_afas_webhooks_view,
        name="environment_set_up_afas_webhooks",
    ),  # fmt: skip
    path("environments/<int:pk>/sending/", environment_set_sending_view, name="environment_set_sending"),
    path("environments/<int:pk>/receiving/", environment_set_receiving_view, name="environment_set_receiving"),
    path("environments/<int:pk>/route-check/", environment_route_check, name="environment_route_check"),
    path("environments/<int:pk>/identifiers/", environment_identifier_add, name="environment_identifier_add"),
    path(
        "environments/<int:pk>/identifiers/<int:identifier_pk>/remove/",
        environment_identifier_remove,
        name="environment_identifier_remove",
    ),
]
