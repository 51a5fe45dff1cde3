"""The firm's dashboard: per environment what was sent and received, what needs action, and connection health.

A fixed number of grouped queries however many environments, each bounded by a date range (today, this month, the
last 30 days) or by a state few invoices are in (needs attention, stale, failed, held), and each answered from an
index made for it (see the ``indexes`` of ``OutgoingInvoice`` and ``IncomingInvoice``):

- sent: ``outgoing_sent_idx`` (environment, submitted_at) INCLUDE (status), partial on submitted_at IS NOT NULL;
- failed or rejected (all still so: few rows): ``outgoing_failed_idx``, partial on those states;
- needs attention and stale: ``outgoing_env_status_idx`` (environment, status);
- received: ``incoming_received_idx`` (environment, created_at) INCLUDE (status, flag, verdict, hold reason);
- incoming failed (all still so): ``incoming_failed_idx``; held, by reason: ``incoming_held_idx``;
- the chart: the same indexes per day, and ``incoming_inbox_idx`` (environment, -created_at) for received.

The month (up to 31 days) and the chart (30 days) are bounded separately, each by its own start; what waits for a
person (failed, needs attention, stale, held) is counted whatever its age, from partial indexes that hold only those
few rows. Never a count over an environment's whole invoice table. Days are days in Europe/Amsterdam.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from portal.contacts.selectors import Readiness, readiness_by_environment
from portal.incoming_invoices.models import IN_AFAS_STATUSES, HoldReason, IncomingInvoice, IncomingStatus
from portal.incoming_invoices.selectors import disagrees_with_econnect_q
from portal.organisations.checklist import Checklist, environment_checklist
from portal.organisations.models import Environment, EnvironmentType, Firm, Organisation, OwnPeppolIdentifier
from portal.outgoing_invoices.models import OutgoingInvoice, OutgoingStatus
from portal.reconciliation.selectors import open_findings_count

DASHBOARD_TIME_ZONE = ZoneInfo("Europe/Amsterdam")
CHART_DAYS = 30

OUTGOING_FAILED = (OutgoingStatus.FAILED, OutgoingStatus.REJECTED)
INCOMING_IN_AFAS = IN_AFAS_STATUSES
ENVIRONMENT_TYPE_ORDER = {value: position for position, value in enumerate(EnvironmentType.values)}
# What a row shows of its environment: never the credentials, and hundreds of rows load faster without the rest.
ROW_FIELDS = (
    "organisation__name",
    "afas_participant_number",
    "afas_environment_type",
    "afas_edition",
    "sending_enabled",
    "receiving_enabled",
    "afas_last_success_at",
    "afas_failing_since",
    "afas_failure",
    "econnect_last_success_at",
    "econnect_failing_since",
    "econnect_failure",
    # the setup checklist
    "afas_sb_domain",
    "afas_token_set_at",
    "econnect_keys_set_at",
    "econnect_transport",
    "econnect_psb_keys_set_at",
    "econnect_psb_party_id",
    "afas_setup_checked_at",
    "afas_setup_missing",
    "afas_own_econnect_link_off_at",
    "test_round_trip_at",
)


@dataclass(frozen=True)
class Period:
    """Today, this month and the chart's 30 days, as Amsterdam days and as the instants they start."""

    today: date
    today_start: datetime
    month_start: datetime
    chart_start: datetime

    @property
    def chart_days(self) -> list[date]:
        return [self.today - timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=DASHBOARD_TIME_ZONE)


def dashboard_period(now: datetime | None = None) -> Period:
    today = timezone.localtime(now or timezone.now(), DASHBOARD_TIME_ZONE).date()
    return Period(
        today=today,
        today_start=_day_start(today),
        month_start=_day_start(today.replace(day=1)),
        chart_start=_day_start(today - timedelta(days=CHART_DAYS - 1)),
    )


@dataclass
class EnvironmentFigures:
    """One environment's figures. "month" is the calendar month so far; states without a period are current."""

    sent_today: int = 0
    sent_month: int = 0
    delivered_month: int = 0  # of the invoices sent this month
    failed: int = 0  # failed or rejected and still so, whenever it happened: each needs a person
    rejected: int = 0  # of which rejected by the recipient
    needs_attention: int = 0
    stale: int = 0
    received_today: int = 0
    received_month: int = 0
    delivered_to_afas_month: int = 0  # of the documents received this month: in AFAS (acknowledged or not)
    incoming_failed: int = 0  # could not be delivered and still so, whenever it happened
    held_duplicates: int = 0
    held_other: int = 0  # held for another reason (unreadable, unsafe, VAT, interrupted delivery, disputed flag)
    disagreements_month: int = 0  # received this month where eConnect's flag and the portal disagree (information)
    open_findings: int = 0  # open findings of the nightly reconciliation (eConnect, portal and AFAS disagree)

    @property
    def failed_only(self) -> int:
        return self.failed - self.rejected

    @property
    def action_count(self) -> int:
        """What waits for a person, each linked to the list of exactly those documents. It drops as soon as one is
        resolved. Disagreements with eConnect's flag are information: the portal's verdict decided."""
        return (
            self.failed
            + self.needs_attention
            + self.stale
            + self.incoming_failed
            + self.held_duplicates
            + self.held_other
            + self.open_findings
        )


def _ids(scope: QuerySet[Environment]) -> QuerySet:
    """The environments as a subquery: one parameter however many there are, and PostgreSQL then scans each
    environment's index range in turn (a nested loop of index-only scans)."""
    return scope.order_by().values("pk")


def _count(filter: Q | None = None) -> Count:
    """COUNT of the environment column (never NULL): unlike COUNT(*) it takes a FILTER, and it is in every index the
    dashboard reads, so the counts stay index-only."""
    return Count("environment_id", filter=filter)


def _per_environment(queryset: QuerySet, **counts: Count) -> QuerySet:
    """One row per environment with the given counts: few rows to read, however many states or days there are."""
    return queryset.values("environment_id").annotate(**counts).order_by()


def figures_by_environment(
    scope: QuerySet[Environment], *, period: Period | None = None
) -> defaultdict[int, EnvironmentFigures]:
    """The figures of the environments in ``scope``: six grouped queries however many environments."""
    ids = _ids(scope)
    period = period or dashboard_period()
    figures: defaultdict[int, EnvironmentFigures] = defaultdict(EnvironmentFigures)
    today = period.today_start

    sent = _per_environment(
        OutgoingInvoice.objects.filter(
            environment_id__in=ids, submitted_at__isnull=False, submitted_at__gte=period.month_start
        ),
        sent_month=_count(),
        sent_today=_count(filter=Q(submitted_at__gte=today)),
        delivered_month=_count(filter=Q(status=OutgoingStatus.DELIVERED)),
    )
    failed = _per_environment(
        OutgoingInvoice.objects.filter(environment_id__in=ids, status__in=OUTGOING_FAILED),
        failed=_count(),
        rejected=_count(filter=Q(status=OutgoingStatus.REJECTED)),
    )
    waiting = _per_environment(
        OutgoingInvoice.objects.filter(
            environment_id__in=ids, status__in=(OutgoingStatus.NEEDS_ATTENTION, OutgoingStatus.STALE)
        ),
        needs_attention=_count(filter=Q(status=OutgoingStatus.NEEDS_ATTENTION)),
        stale=_count(filter=Q(status=OutgoingStatus.STALE)),
    )
    received = _per_environment(
        IncomingInvoice.objects.filter(environment_id__in=ids, created_at__gte=period.month_start),
        received_month=_count(),
        received_today=_count(filter=Q(created_at__gte=today)),
        delivered_to_afas_month=_count(filter=Q(status__in=INCOMING_IN_AFAS)),
        disagreements_month=_count(filter=disagrees_with_econnect_q()),
    )
    incoming_failed = _per_environment(
        IncomingInvoice.objects.filter(environment_id__in=ids, status=IncomingStatus.FAILED),
        incoming_failed=_count(),
    )
    held = _per_environment(
        IncomingInvoice.objects.filter(environment_id__in=ids, status=IncomingStatus.HELD),
        held_duplicates=_count(filter=Q(hold_reason=HoldReason.DUPLICATE)),
        held_other=_count(filter=~Q(hold_reason=HoldReason.DUPLICATE)),
    )
    for queryset in (sent, failed, waiting, received, incoming_failed, held):
        for counts in queryset:
            row = figures[counts.pop("environment_id")]
            for name, value in counts.items():
                setattr(row, name, value)
    return figures


@dataclass(frozen=True)
class ChartDay:
    day: date
    sent: int = 0
    received: int = 0
    failed: int = 0  # outgoing failed or rejected, and incoming failed, that day (still in that state)


def _per_day(queryset: QuerySet, field_name: str, period: Period) -> dict[date, int]:
    rows = (
        queryset.filter(**{f"{field_name}__gte": period.chart_start})
        .annotate(day=TruncDate(field_name, tzinfo=DASHBOARD_TIME_ZONE))
        .values_list("day")
        .annotate(n=_count())
        .order_by()
    )
    return dict(rows)


def daily_activity(scope: QuerySet[Environment], *, period: Period | None = None) -> list[ChartDay]:
    """Sent, received and failed per day over the last 30 days in the environments of ``scope``: four grouped
    queries."""
    ids = _ids(scope)
    period = period or dashboard_period()
    sent = _per_day(
        OutgoingInvoice.objects.filter(environment_id__in=ids, submitted_at__isnull=False), "submitted_at", period
    )
    received = _per_day(IncomingInvoice.objects.filter(environment_id__in=ids), "created_at", period)
    failed_out = _per_day(
        OutgoingInvoice.objects.filter(environment_id__in=ids, status__in=OUTGOING_FAILED), "status_changed_at", period
    )
    failed_in = _per_day(
        IncomingInvoice.objects.filter(environment_id__in=ids, status=IncomingStatus.FAILED),
        "status_changed_at",
        period,
    )
    return [
        ChartDay(
            day,
            sent=sent.get(day, 0),
            received=received.get(day, 0),
            failed=failed_out.get(day, 0) + failed_in.get(day, 0),
        )
        for day in period.chart_days
    ]


# --- rows ----------------------------------------------------------------------------------------------------------


@dataclass
class DashboardRow:
    environment: Environment
    figures: EnvironmentFigures
    readiness: Readiness
    setup: Checklist

    @property
    def organisation(self) -> Organisation:
        return self.environment.organisation

    @property
    def credentials_failing(self) -> bool:
        return self.environment.credentials_failing

    @property
    def needs_action(self) -> bool:
        return self.credentials_failing or self.figures.action_count > 0 or self.setup.failed

    def sort_key(self) -> tuple:
        environment = self.environment
        return (
            not self.needs_action,
            not self.credentials_failing,
            environment.organisation.name.casefold(),
            environment.organisation.pk,
            ENVIRONMENT_TYPE_ORDER.get(environment.afas_environment_type, 99),
            environment.afas_participant_number,
        )


@dataclass
class ActionSummary:
    """What needs action across the firm, for the top of the dashboard."""

    failing_credentials: list[DashboardRow] = field(default_factory=list)
    setup_unfinished: list[DashboardRow] = field(default_factory=list)
    failed: int = 0
    rejected: int = 0
    needs_attention: int = 0
    stale: int = 0
    incoming_failed: int = 0
    held_duplicates: int = 0
    held_other: int = 0
    disagreements: int = 0
    findings: int = 0  # open reconciliation findings

    @property
    def held(self) -> int:
        return self.held_duplicates + self.held_other

    @property
    def anything(self) -> bool:
        return bool(
            self.failing_credentials
            or self.failed
            or self.rejected
            or self.needs_attention
            or self.stale
            or self.incoming_failed
            or self.held
            or self.findings
        )


def action_summary(rows: Sequence[DashboardRow]) -> ActionSummary:
    summary = ActionSummary()
    for row in rows:
        f = row.figures
        if row.credentials_failing:
            summary.failing_credentials.append(row)
        if not row.setup.complete:
            summary.setup_unfinished.append(row)
        summary.failed += f.failed_only
        summary.rejected += f.rejected
        summary.needs_attention += f.needs_attention
        summary.stale += f.stale
        summary.incoming_failed += f.incoming_failed
        summary.held_duplicates += f.held_duplicates
        summary.held_other += f.held_other
        summary.disagreements += f.disagreements_month
        summary.findings += f.open_findings
    return summary


def own_identifiers_by_environment(environment_ids: Sequence[int]) -> dict[int, list[OwnPeppolIdentifier]]:
    """The own identifiers of many environments in one query (an organisation has a handful)."""
    found: dict[int, list[OwnPeppolIdentifier]] = defaultdict(list)
    rows = OwnPeppolIdentifier.objects.filter(environment_id__in=environment_ids).order_by("environment_id", "pk")
    for own in rows.only("environment_id", "scheme", "value", "registration", "route_override_at"):
        found[own.environment_id].append(own)
    return found


def dashboard_rows(scope: QuerySet[Environment], *, period: Period | None = None) -> list[DashboardRow]:
    """The figures of the environments in ``scope``, those needing action first. Nine queries however many.

    The open reconciliation findings are counted in the query that loads the environments (a subquery per row on the
    partial index ``reconciliation_open_idx``), so they cost no query of their own."""
    period = period or dashboard_period()
    environments = list(
        scope.select_related("organisation").only(*ROW_FIELDS).annotate(open_findings=open_findings_count())
    )
    figures = figures_by_environment(scope, period=period)
    for environment in environments:
        if environment.open_findings:
            figures[environment.pk].open_findings = environment.open_findings
    readiness = readiness_by_environment([environment.pk for environment in environments], with_amounts=False)
    identifiers = own_identifiers_by_environment([environment.pk for environment in environments])
    rows = [
        DashboardRow(
            environment,
            figures[environment.pk],
            readiness[environment.pk],
            environment_checklist(environment, identifiers=identifiers.get(environment.pk, ())),
        )
        for environment in environments
    ]
    rows.sort(key=DashboardRow.sort_key)
    return rows


@dataclass
class Dashboard:
    period: Period
    rows: list[DashboardRow]
    summary: ActionSummary
    days: list[ChartDay]
    organisations_without_environments: list[Organisation]


def dashboard_for_firm(*, firm: Firm, now: datetime | None = None) -> Dashboard:
    """Fourteen queries however many organisations and environments the firm has."""
    period = dashboard_period(now)
    scope = Environment.objects.filter(organisation__firm=firm)
    rows = dashboard_rows(scope, period=period)
    days = daily_activity(scope, period=period)
    without = list(firm.organisations.filter(environments__isnull=True).order_by("name", "pk"))
    return Dashboard(
        period=period,
        rows=rows,
        summary=action_summary(rows),
        days=days,
        organisations_without_environments=without,
    )


def dashboard_for_organisation(*, organisation: Organisation, now: datetime | None = None) -> list[DashboardRow]:
    return dashboard_rows(Environment.objects.filter(organisation=organisation), period=dashboard_period(now))
