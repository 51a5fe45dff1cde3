"""The dashboard's presentation: the 30-day chart as geometry for a server-rendered SVG (no JavaScript), and the rows
with their links."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format, time_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.organisations.dashboard import ChartDay, DashboardRow
from portal.organisations.models import EnvironmentType

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 16, 44
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
X_LABEL_EVERY = 5  # days; the last day is always labelled


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    day: date


@dataclass(frozen=True)
class Series:
    key: str
    label: str | Promise
    css_class: str  # colour and fill or outline (dashboard.css): never colour alone
    bars: list[Bar]  # one per day, side by side with the other series' bars of that day
    total: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: int | date


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int  # x of the plot's right edge
    top: int
    bottom: int  # y of the plot's bottom edge (the x axis)
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    series: list[Series]
    days: Sequence[ChartDay]

    @property
    def first_day(self) -> date:
        return self.days[0].day

    @property
    def last_day(self) -> date:
        return self.days[-1].day


def nice_step(largest: int, ticks: int = 4) -> int:
    """A round step (1, 2, 5 times a power of ten) so that ``ticks`` steps reach at least ``largest``."""
    rough = max(largest, 1) / ticks
    magnitude = 1
    while magnitude * 10 <= rough:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= rough:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


SERIES = (("sent", _("Sent"), "series-sent"), ("received", _("Received"), "series-received"),
          ("failed", _("Failed"), "series-failed"))  # fmt: skip
GROUP_SHARE = 0.8  # of a day's width, the rest is the gap between days


def _slot(count: int) -> float:
    return PLOT_WIDTH / max(count, 1)


def _x(index: int, count: int) -> float:
    """The middle of day ``index``'s group of bars."""
    return LEFT + _slot(count) * (index + 0.5)


def _y(value: int, top_value: int) -> float:
    return TOP + PLOT_HEIGHT * (1 - value / top_value)


def chart_for(days: Sequence[ChartDay]) -> Chart:
    """Grouped bars: per day one bar per series side by side, so that sent and received never hide each other."""
    largest = max((max(day.sent, day.received, day.failed) for day in days), default=0)
    step = nice_step(largest)
    top_value = step * max(1, -(-largest // step))  # the y axis ends on a whole step at or above the largest value
    count = len(days)
    slot = _slot(count)
    width = slot * GROUP_SHARE / len(SERIES)

    def series(position: int, key: str, label: str | Promise, css_class: str) -> Series:
        bars = []
        for index, day in enumerate(days):
            value = getattr(day, key)
            x = LEFT + slot * index + slot * (1 - GROUP_SHARE) / 2 + width * position
            y = _y(value, top_value)
            bars.append(Bar(round(x, 1), round(y, 1), round(width, 1), round(TOP + PLOT_HEIGHT - y, 1), value, day.day))
        return Series(key, label, css_class, bars, sum(bar.value for bar in bars))

    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=TOP + PLOT_HEIGHT,
        y_ticks=[Tick(round(_y(v, top_value), 1), v) for v in range(0, top_value + 1, step)],
        x_ticks=[
            Tick(round(_x(i, count), 1), day.day) for i, day in enumerate(days) if (count - 1 - i) % X_LABEL_EVERY == 0
        ],
        series=[series(position, *spec) for position, spec in enumerate(SERIES)],
        days=days,
    )


# --- rows ----------------------------------------------------------------------------------------------------------

_MARKER = 987654321987


def _url_maker(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for many pks at the cost of one reverse: hundreds of rows each link thrice."""
    pattern = reverse(name, args=[_MARKER])
    prefix, _, suffix = pattern.partition(str(_MARKER))
    return lambda pk: f"{prefix}{pk}{suffix}"


class Counts:
    """Integer attributes of ``source`` as text in the reader's notation: ``{{ item.counts.sent_month }}``.

    Localising an integer in a template costs about ten times rendering a string; hundreds of rows of a dozen figures
    made that most of the page's time. Below 1000 no notation differs, so only larger numbers are localised.
    """

    __slots__ = ("_source",)

    def __init__(self, source: object):
        self._source = source

    def __getattr__(self, name: str) -> str:
        value = getattr(self._source, name)
        return str(value) if 0 <= value < 1000 else number_format(value, force_grouping=True)


@dataclass(frozen=True)
class RowView:
    """A dashboard row with its links and its environment's name, made once per row instead of in the template."""

    row: DashboardRow
    pk: str  # the environment's id as text: an integer would be localised (1.234) in a query string
    organisation_url: str
    environment_url: str
    contacts_url: str
    findings_url: str  # the environment's open reconciliation findings
    environment_label: str
    afas_success: str  # when AFAS last answered: a time today, else a date; empty when never
    econnect_success: str

    @property
    def counts(self) -> Counts:
        return Counts(self.row.figures)

    @property
    def readiness_counts(self) -> Counts:
        return Counts(self.row.readiness)


def _when(moment: datetime | None, today: date) -> str:
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return time_format(local, "TIME_FORMAT") if local.date() == today else date_format(local, "SHORT_DATE_FORMAT")


def row_views(rows: Sequence[DashboardRow]) -> list[RowView]:
    today = timezone.localdate()
    organisation_url = _url_maker("web:organisation_detail")
    environment_url = _url_maker("web:environment_detail")
    contacts_url = _url_maker("web:environment_contacts")
    findings_url = reverse("web:reconciliation_findings") + "?environment="
    type_labels = {value: str(label) for value, label in EnvironmentType.choices}
    return [
        RowView(
            row=row,
            pk=str(row.environment.pk),
            organisation_url=organisation_url(row.environment.organisation_id),
            environment_url=environment_url(row.environment.pk),
            contacts_url=contacts_url(row.environment.pk),
            findings_url=f"{findings_url}{row.environment.pk}",
            environment_label=f"{type_labels.get(row.environment.afas_environment_type, '')} "
            f"({row.environment.afas_participant_number})",
            afas_success=_when(row.environment.afas_last_success_at, today),
            econnect_success=_when(row.environment.econnect_last_success_at, today),
        )
        for row in rows
    ]
