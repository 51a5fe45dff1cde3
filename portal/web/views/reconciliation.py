"""The nightly reconciliation's findings: what eConnect, the portal and AFAS disagree on, and the one action that
fixes each (or dismisses it), with the last runs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from portal.reconciliation import selectors
from portal.reconciliation.fixes import FindingNotFixable, finding_dismiss, finding_fix
from portal.reconciliation.models import ReconciliationFinding
from portal.web.access import can_act, firm_member_required
from portal.web.forms.reasons import posted_reason

Kind = ReconciliationFinding.Kind
FindingStatus = ReconciliationFinding.Status
MAX_SHOWN = 200

# What the fix of each kind does, on its button.
FIX_LABELS = {
    Kind.MISSING_IN_AFAS: gettext_lazy("Deliver to AFAS again"),
    Kind.UNSEEN_INBOX: gettext_lazy("Import into the portal"),
    Kind.UNSEEN_OUTBOX: gettext_lazy("Record in the portal"),
    Kind.OUTGOING_STATUS: gettext_lazy("Adopt eConnect's status"),
    Kind.INCOMING_STATUS: gettext_lazy("Mark as processed at eConnect again"),
}


def _environment_filter(request) -> int | None:
    value = request.GET.get("environment", "")
    return int(value) if value.isdigit() else None


@require_GET
@firm_member_required
def reconciliation_findings(request):
    environment_id = _environment_filter(request)
    show_closed = request.GET.get("closed") == "1"
    findings = selectors.findings_for_firm(
        firm=request.firm, environment_id=environment_id, status=None if show_closed else FindingStatus.OPEN
    )
    if show_closed:
        findings = findings.exclude(status=FindingStatus.OPEN)
    shown = list(findings[: MAX_SHOWN + 1])
    for finding in shown:
        finding.fix_label = FIX_LABELS.get(finding.kind, _("Fix"))
    environments = [
        (environment.pk, f"{environment.organisation.name} · {environment.get_afas_environment_type_display()} "
         f"({environment.afas_participant_number})")
        for environment in selectors.environments_for_firm(firm=request.firm)
    ]  # fmt: skip
    return render(
        request,
        "web/reconciliation.html",
        {
            "findings": shown[:MAX_SHOWN],
            "more": len(shown) > MAX_SHOWN,
            "show_closed": show_closed,
            "environments": environments,
            "environment_selected": environment_id,
            "runs": selectors.latest_runs_for_firm(firm=request.firm),
            "can_act": can_act(request),
            "next": request.get_full_path(),
        },
    )


def _finding_for(request, pk: int) -> ReconciliationFinding:
    return get_object_or_404(
        ReconciliationFinding.objects.select_related("environment", "outgoing_invoice", "incoming_invoice"),
        pk=pk,
        environment__organisation__firm=request.firm,
    )


def _back(request):
    target = request.POST.get("next", "")
    list_url = reverse("web:reconciliation_findings")
    if target.startswith(list_url):  # only back to this page, never elsewhere
        return redirect(target)
    return redirect(list_url)


def _act(request, pk: int, action: str):
    finding = _finding_for(request, pk)
    if not can_act(request):
        raise PermissionDenied("Viewers cannot fix or dismiss reconciliation findings.")
    reason = posted_reason(request, missing=_("Give the reason: it is kept in the timeline."))
    if reason is None:
        return _back(request)
    if action == "fix":
        try:
            finding_fix(finding=finding, actor=request.user, reason=reason)
        except FindingNotFixable as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The finding is fixed."))
    elif finding_dismiss(finding=finding, actor=request.user, reason=reason):
        messages.success(request, _("The finding is dismissed."))
    else:
        messages.error(request, _("This finding is no longer open."))
    return _back(request)


@require_POST
@firm_member_required
def reconciliation_fix(request, pk: int):
    return _act(request, pk, "fix")


@require_POST
@firm_member_required
def reconciliation_dismiss(request, pk: int):
    return _act(request, pk, "dismiss")


urlpatterns = [
    path("reconciliation/", reconciliation_findings, name="reconciliation_findings"),
    path("reconciliation/findings/<int:pk>/fix/", reconciliation_fix, name="reconciliation_fix"),
    path("reconciliation/findings/<int:pk>/dismiss/", reconciliation_dismiss, name="reconciliation_dismiss"),
]
