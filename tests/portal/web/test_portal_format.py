from decimal import Decimal

import pytest
from django.utils import translation

from portal.web.templatetags.portal_format import money


@pytest.mark.parametrize("language, expected", [("nl", "€\u00a01.234.567,50"), ("en", "€\u00a01,234,567.50")])
def test_amounts_are_written_the_way_the_language_writes_them(language, expected):
    with translation.override(language):
        assert money(Decimal("1234567.5"), "EUR") == expected


def test_an_unknown_currency_shows_its_code_and_no_amount_shows_a_dash():
    with translation.override("nl"):
        assert money(Decimal("3"), "SEK") == "SEK\u00a03,00"
        assert money(None) == "–"


def test_econnect_statuses_are_english_in_english_with_econnects_own_wording_beside_them():
    from django.utils import translation

    from portal.web.templatetags.portal_format import econnect_status

    with translation.override("en"):
        assert econnect_status("Afgeleverd") == "Delivered (eConnect: “Afgeleverd”)"
        assert econnect_status("Afgekeurd") == "Rejected (eConnect: “Afgekeurd”)"
        assert econnect_status("Iets nieuws") == "Iets nieuws"  # unknown: as eConnect wrote it
    with translation.override("nl"):
        assert econnect_status("Afgeleverd") == "Afgeleverd"


def test_short_dates_have_the_readers_month_names():
    import datetime

    from django.utils import translation

    from portal.web.templatetags.portal_format import day_month

    day = datetime.date(2026, 12, 6)
    with translation.override("en"):
        assert (day_month(day), day_month(day, "weekday")) == ("6 Dec", "Sun 6 Dec")
    with translation.override("nl"):
        assert (day_month(day), day_month(day, "weekday")) == ("6 dec", "zo 6 dec")
