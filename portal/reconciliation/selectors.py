"""Reads of reconciliation runs and findings, scoped the way the pages and the dashboard need them."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from portal.organisations.models import Environment, Firm
from portal.reconciliation.models import ReconciliationFinding, ReconciliationRun

OPEN = ReconciliationFinding.Status.OPEN


def open_findings_count() -> Coalesce:
    """The environment's open findings, as an annotation of an Environment queryset: the dashboard adds it to the
    query that loads its environments, so the number of queries stays the same however many there are. Each count
    reads the small partial index ``reconciliation_open_idx``."""
    counts = (
        ReconciliationFinding.objects.filter(environment=OuterRef("pk"), status=OPEN)
        .order_by()
        .values("environment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def findings_for_firm(*, firm: Firm, environment_id: int | None = None, status: str | None = OPEN) -> QuerySet:
    findings = ReconciliationFinding.objects.filter(environment__organisation__firm=firm)
    if environment_id is not None:
        findings = findings.filter(environment_id=environment_id)
    if status:
        findings = findings.filter(status=status)
    return findings.select_related("environment__organisation", "outgoing_invoice", "incoming_invoice").order_by(
        "-first_seen_at", "-pk"
    )


def latest_runs_for_firm(*, firm: Firm, limit: int = 20) -> QuerySet:
    return (
        ReconciliationRun.objects.filter(environment__organisation__firm=firm)
        .select_related("environment__organisation")
        .order_by("-started_at", "-pk")[:limit]
    )


def environments_for_firm(*, firm: Firm) -> QuerySet:
    return (
        Environment.objects.filter(organisation__firm=firm)
        .select_related("organisation")
        .only("pk", "afas_participant_number", "afas_environment_type", "organisation__name")
    )
