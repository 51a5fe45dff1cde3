from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from integrations.http import RemoteError
from portal.contacts import lookups
from portal.contacts import selectors as contact_selectors
from portal.contacts import services as contact_services
from portal.contacts import tasks as contact_tasks
from portal.contacts.models import Contact, ContactJob, ContactRoute
from portal.organisations.models import CREDENTIAL_FIELDS, Environment
from portal.organisations.selectors import environments_for_firm
from portal.web.access import can_act, firm_member_required
from portal.web.downloads import csv_download

# --- contacts and their Peppol readiness ---------------------------------------------------------------------------

CONTACTS_PER_PAGE = 50
# The filters of the contacts page that a row action sends back, so the list comes back as it was.
CONTACT_FILTERS = ("outcome", "route", "q", "inactive", "page")


def _contacts_syncable(environment: Environment) -> bool:
    return contact_services.contacts_sync_eligible(environment)


def _firm_customers(request):
    # Not select_related: the write-back loads the environment with its AFAS token itself.
    return Contact.objects.filter(environment__organisation__firm=request.firm, kind=Contact.Kind.DEBTOR)


def _firm_jobs(request):
    return (
        ContactJob.objects.filter(environment__organisation__firm=request.firm)
        .select_related("environment__organisation", "requested_by")
        .defer(*(f"environment__{name}" for name in CREDENTIAL_FIELDS))
    )


def _contacts_url(environment_id: int, filters: str = "") -> str:
    """The contacts page with only the known filters of ``filters`` (a query string from the form) kept."""
    given = QueryDict(filters[:2000])  # a query string of a few known filters: anything longer is not one
    kept = {name: given[name][:100] for name in CONTACT_FILTERS if given.get(name)}
    url = reverse("web:environment_contacts", args=[environment_id])
    return f"{url}?{urlencode(kept)}" if kept else url


@require_GET
@firm_member_required
def environment_contacts(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)
    outcome = request.GET.get("outcome", "")
    route = request.GET.get("route", "")
    search = request.GET.get("q", "").strip()
    include_inactive = request.GET.get("inactive") == "1"
    customers = contact_selectors.contacts_page(
        environment=environment, outcome=outcome, route=route, search=search, include_inactive=include_inactive
    )
    page = Paginator(customers, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    readiness = contact_selectors.readiness_by_environment([environment.pk])[environment.pk]
    period_start, period_end = contact_selectors.report_period()
    return render(
        request,
        "web/environment_contacts.html",
        {
            "environment": environment,
            "page": page,
            "readiness": readiness,
            "outcome_counts": [
                (value, label, readiness.by_outcome.get(value, 0)) for value, label in Contact.LookupOutcome.choices
            ],
            "period_start": period_start,
            "period_end": period_end,
            "jobs": list(contact_selectors.latest_jobs(environment=environment).values()),
            "outcome_choices": Contact.LookupOutcome.choices,
            "route_choices": ContactRoute.choices,
            "filters": {"outcome": outcome, "route": route, "q": search, "inactive": include_inactive},
            "filters_query": request.GET.urlencode(),
            "job_kinds": ContactJob.Kind,
            "can_act": can_act(request),
            "contacts_syncable": _contacts_syncable(environment),
        },
    )


@require_GET
@firm_member_required
def environment_contacts_csv(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)
    filename = f"contacts-{environment.afas_participant_number}-{environment.afas_environment_type}.csv"
    return csv_download(request, contact_selectors.contacts_csv_rows(environment=environment), filename)


@require_POST
@firm_member_required
def environment_contacts_sync(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot start reading contacts from AFAS.")
    if not _contacts_syncable(environment):
        messages.error(request, _("Contacts are read from AFAS Profit environments with an AFAS token only."))
    else:
        contact_tasks.sync.delay(environment.pk, True)
        messages.success(
            request, _("Reading all contacts from AFAS has started; reload this page in a minute to see them.")
        )
    return redirect("web:environment_contacts", pk=environment.pk)


@require_POST
@firm_member_required
def environment_contact_job_start(request, pk: int):
    environment = get_object_or_404(environments_for_firm(firm=request.firm), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot start bulk jobs.")
    kind = request.POST.get("kind", "")
    if kind not in ContactJob.Kind.values:
        return HttpResponseBadRequest(_("Unknown kind of job."))
    try:
        job = lookups.contact_job_start(environment=environment, kind=kind, actor=request.user)
    except lookups.JobAlreadyRunning as exc:
        messages.info(request, _("This job is already running; its progress shows below."))
        return redirect("web:contact_job_detail", pk=exc.job.pk)
    except lookups.JobRefused as exc:
        messages.error(request, exc.message)
        return redirect("web:environment_contacts", pk=environment.pk)
    messages.success(
        request,
        ngettext("Started for %(total)s customer.", "Started for %(total)s customers.", job.total)
        % {"total": job.total},
    )
    return redirect("web:contact_job_detail", pk=job.pk)


@require_GET
@firm_member_required
def contact_job_detail(request, pk: int):
    job = get_object_or_404(_firm_jobs(request), pk=pk)
    return render(request, "web/contact_job_detail.html", {"job": job, "can_act": can_act(request), "detail": True})


@require_GET
@firm_member_required
def contact_job_progress(request, pk: int):
    """The polled fragment of a job's progress (job page: ``?detail=1``; contacts page: the compact one). It stops
    polling by leaving out its trigger once the job is over. Without htmx the job's page is the answer."""
    job = get_object_or_404(_firm_jobs(request), pk=pk)
    if not request.htmx:
        return redirect("web:contact_job_detail", pk=job.pk)
    return render(
        request,
        "web/_job_progress.html",
        {"job": job, "detail": request.GET.get("detail") == "1", "polled": True},
    )


@require_POST
@firm_member_required
def contact_job_cancel(request, pk: int):
    job = get_object_or_404(_firm_jobs(request), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot cancel bulk jobs.")
    if lookups.contact_job_cancel(job=job, actor=request.user):
        messages.success(request, _("Cancelled. What was done so far stays done."))
    else:
        messages.info(request, _("This job had already stopped."))
    return redirect("web:contact_job_detail", pk=job.pk)


@require_POST
@firm_member_required
def contact_confirm(request, pk: int):
    contact = get_object_or_404(_firm_customers(request), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot write identifiers to AFAS.")
    try:
        written = lookups.contact_confirm_identifier(contact=contact, actor=request.user, attempts=1)
    except lookups.ContactNotConfirmable as exc:
        messages.error(request, exc.message)
    except RemoteError as exc:
        messages.error(
            request,
            _("%(contact)s: the identifier could not be written to AFAS: %(reason)s")
            % {"contact": contact, "reason": exc.message},
        )
    else:
        messages.success(
            request, _("%(contact)s: %(value)s is written to AFAS.") % {"contact": contact, "value": written}
        )
    return redirect(_contacts_url(contact.environment_id, request.POST.get("filters", "")))


@require_POST
@firm_member_required
def contact_look_up(request, pk: int):
    contact = get_object_or_404(_firm_customers(request), pk=pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot start a directory lookup.")
    try:
        contact = lookups.contact_look_up_now(contact=contact)
    except RemoteError as exc:
        messages.error(
            request,
            _("%(contact)s: the Peppol directory could not be asked: %(reason)s")
            % {"contact": contact, "reason": exc.message},
        )
    else:
        messages.success(
            request,
            _("%(contact)s: %(outcome)s.") % {"contact": contact, "outcome": contact.get_lookup_outcome_display()},
        )
    return redirect(_contacts_url(contact.environment_id, request.POST.get("filters", "")))


# --- the firm's readiness report -----------------------------------------------------------------------------------


@require_GET
@firm_member_required
def firm_readiness(request):
    report = contact_selectors.readiness_for_firm(firm=request.firm)
    period_start, period_end = contact_selectors.report_period()
    return render(
        request,
        "web/readiness.html",
        {"report": report, "period_start": period_start, "period_end": period_end},
    )


@require_GET
@firm_member_required
def firm_readiness_csv(request):
    return csv_download(request, contact_selectors.firm_csv_rows(firm=request.firm), "peppol-readiness.csv")


urlpatterns = [
    path("readiness/", firm_readiness, name="readiness"),
    path("readiness.csv", firm_readiness_csv, name="readiness_csv"),
    path("environments/<int:pk>/contacts/", environment_contacts, name="environment_contacts"),
    path("environments/<int:pk>/contacts.csv", environment_contacts_csv, name="environment_contacts_csv"),
    path("environments/<int:pk>/contacts/sync/", environment_contacts_sync, name="environment_contacts_sync"),
    path("environments/<int:pk>/contacts/jobs/", environment_contact_job_start, name="contact_job_start"),
    path("contacts/<int:pk>/confirm/", contact_confirm, name="contact_confirm"),
    path("contacts/<int:pk>/look-up/", contact_look_up, name="contact_look_up"),
    path("contact-jobs/<int:pk>/", contact_job_detail, name="contact_job_detail"),
    path("contact-jobs/<int:pk>/progress/", contact_job_progress, name="contact_job_progress"),
    path("contact-jobs/<int:pk>/cancel/", contact_job_cancel, name="contact_job_cancel"),
]
