"""Amounts the way the reader's language writes them (€ 1.234,56 in Dutch, € 1,234.56 in English), and eConnect's
statuses in the reader's language."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import formats
from django.utils.translation import get_language, gettext, gettext_lazy

from integrations.econnect.models import OutboxState
from integrations.econnect.statuses import outbox_state

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


@register.filter
def money(amount: Decimal | int | float | None, currency: str = "EUR") -> str:
    """``{{ invoice.payable_amount|money:invoice.currency }}``; an empty amount shows as a dash."""
    if amount is None or amount == "":
        return "–"
    number = formats.number_format(Decimal(str(amount)), decimal_pos=2, use_l10n=True, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency or "EUR")
    return f"{symbol}\u00a0{number}" if symbol else f"{currency}\u00a0{number}"


# eConnect writes its outbox statuses in Dutch; the English page shows them in English with eConnect's own wording.
ECONNECT_STATUS_LABELS = {
    OutboxState.ACCEPTED: gettext_lazy("Ready for processing"),
    OutboxState.IN_PROGRESS: gettext_lazy("In progress"),
    OutboxState.DELIVERED: gettext_lazy("Delivered"),
    OutboxState.FAILED: gettext_lazy("Delivery failed"),
    OutboxState.REJECTED: gettext_lazy("Rejected"),
}


@register.filter
def econnect_status(name: str) -> str:
    """``Afgeleverd`` → ``Delivered (eConnect: “Afgeleverd”)`` in English; in Dutch eConnect's own (Dutch) wording; a
    status the portal does not know is shown as eConnect wrote it."""
    if not name or (get_language() or "").startswith("nl"):
        return name or ""
    label = ECONNECT_STATUS_LABELS.get(outbox_state("", name))
    if label is None or str(label).casefold() == name.strip().casefold():
        return name
    return gettext("%(label)s (eConnect: “%(name)s”)") % {"label": label, "name": name}


@register.filter
def day_month(value, with_weekday: str = "") -> str:
    """``6 Dec`` in English, ``6 dec`` in Dutch (Django's ``M`` would write ``Dec`` in Dutch too); with any argument
    the weekday comes first (``Sun 6 Dec``, ``zo 6 dec``)."""
    if not value:
        return ""
    dutch = (get_language() or "").startswith("nl")
    fmt = "j b" if dutch else "j M"
    return formats.date_format(value, f"D {fmt}" if with_weekday else fmt)
