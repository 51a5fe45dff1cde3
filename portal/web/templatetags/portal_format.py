"""Amounts the way the reader's language writes them: € 1.234,56 in Dutch, € 1,234.56 in English."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import formats

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
