"""Which language a diner reads: a switch beats the browser, the browser beats the
restaurant's default, English is the last resort; money, numbers and dates follow the
language through Babel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from babel import localedata

from app.infra import i18n
from app.infra.i18n import Preference, choose, from_accept_language
from app.orders import pricing
from app.templating import (
    day_at,
    day_clock,
    day_label,
    email_environment,
    format_deadline,
    format_money,
    format_number,
    local_clock,
    scheduled_text,
)


@pytest.mark.parametrize(("header", "expected"), [
    ("de-DE,de;q=0.9,en;q=0.8", "de"),
    ("en-US,en;q=0.9,de;q=0.8", "en"),
    ("fr-FR,de;q=0.5", "de"),          # French is not spoken here: the next one is
    ("fr-FR,fr;q=0.9", None),          # nothing we speak: the restaurant decides
    ("en;q=0.2,de;q=0.7", "de"),       # q-values, not order, rank
    ("de-AT", "de"),
    ("*", None),
    ("", None),
    ("de;q=0", None),                  # q=0 means "not this one"
    ("de;q=nonsense", None),
])
def test_accept_language_is_negotiated(header: str, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_switch_then_browser_then_restaurant_then_english() -> None:
    assert choose(Preference(switch="de", accepted="en"), "en") == "de"
    assert choose(Preference(switch=None, accepted="en"), "de") == "en"
    assert choose(Preference(switch=None, accepted=None), "de") == "de"
    assert choose(Preference(), None) == "en"
    assert choose(Preference(), "fr") == "en"  # a default we do not speak is no default


def test_a_language_is_used_only_inside_its_block() -> None:
    assert i18n.current() == "en"
    with i18n.use("de"):
        assert i18n.gettext("Total") == "Gesamt"
    assert i18n.current() == "en" and i18n.gettext("Total") == "Total"
    with i18n.use("xx"):  # unknown: English
        assert i18n.gettext("Total") == "Total"


def test_money_in_english_and_german() -> None:
    assert format_money(1250, "eur") == "€12.50"
    assert format_money(123456, "eur") == "€1,234.56"
    assert format_money(1250, "usd") == "$12.50"
    assert format_money(1250, "jpy") == "¥1,250"  # zero-decimal: minor units are yen
    with i18n.use("de"):
        assert format_money(1250, "eur") == "12,50\xa0€"  # no-break space before the sign
        assert format_money(123456, "eur") == "1.234,56\xa0€"
        assert format_money(1250, "usd") == "12,50\xa0$"
        assert format_number(1234.5) == "1.234,5"
        assert format_number("5.5") == "5,5"  # a VAT rate's label
    assert format_number(1234.5) == "1,234.5"
    assert format_number("5.5") == "5.5"


def test_times_and_dates_on_the_restaurants_clock_per_language() -> None:
    moment = datetime(2026, 12, 2, 17, 5, tzinfo=UTC)
    assert local_clock(moment, "Europe/Berlin") == "18:05"
    assert format_deadline(moment, "Europe/Berlin") == "18:05 on 2 Dec 2026 (CET)"
    with i18n.use("de"):
        assert local_clock(moment, "Europe/Berlin") == "18:05"
        assert format_deadline(moment, "Europe/Berlin") == "18:05 Uhr am 2. Dez. 2026 (CET)"


def test_a_day_reads_the_same_in_the_day_select_emails_and_the_status_page() -> None:
    """The checkout's day select said "Sat 5 Dec", the emails and status page "Sat 05 Dec"."""
    slot = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)  # 12:00 in Berlin, a Saturday
    today = date(2026, 12, 1)
    assert day_label(slot.date(), today) == "Sat 5 Dec"
    assert scheduled_text(slot, "pickup", "Europe/Berlin") == "Pickup at 12:00 on Sat 5 Dec (CET)"
    assert day_clock(slot, "Europe/Berlin", now=datetime(2026, 12, 1, tzinfo=UTC)) == \
        "Sat 5 Dec 12:00"
    with i18n.use("de"):
        assert day_label(slot.date(), today) == "Sa. 5. Dez."
        assert scheduled_text(slot, "pickup", "Europe/Berlin") == \
            "Abholung um 12:00 Uhr am Sa. 5. Dez. (CET)"


def test_today_and_tomorrow_inside_a_sentence_are_lower_case() -> None:
    """A booked order's subject: "booked for tomorrow 12:00", German "vorgemerkt für morgen"
    (it read "für Morgen"); a label standing alone keeps its capital."""
    today = date(2026, 12, 1)
    tomorrow = today + timedelta(days=1)
    assert day_label(tomorrow, today) == "Tomorrow"
    assert day_label(tomorrow, today, in_sentence=True) == "tomorrow"
    assert day_label(today, today, in_sentence=True) == "today"
    with i18n.use("de"):
        assert day_label(tomorrow, today) == "Morgen"
        assert day_label(tomorrow, today, in_sentence=True) == "morgen"
        assert day_label(today, today, in_sentence=True) == "heute"


def test_a_moment_inside_a_sentence_reads_as_one() -> None:
    """The kitchen's orders for later: "pickup tomorrow at 13:00 (on the board tomorrow at
    12:40)", not "pickup at tomorrow 13:00" (outside try)."""
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 1 Dec, 10:00 in Berlin
    today, tomorrow = now.replace(hour=12), now.replace(hour=12) + timedelta(days=1)
    later = now.replace(hour=11) + timedelta(days=4)
    assert day_at(today, "Europe/Berlin", now) == "at 13:00"
    assert day_at(tomorrow, "Europe/Berlin", now) == "tomorrow at 13:00"
    assert day_at(later, "Europe/Berlin", now) == "on Sat 5 Dec at 12:00"
    with i18n.use("de"):
        assert day_at(today, "Europe/Berlin", now) == "um 13:00 Uhr"
        assert day_at(tomorrow, "Europe/Berlin", now) == "morgen um 13:00 Uhr"
        assert day_at(later, "Europe/Berlin", now) == "am Sa. 5. Dez. um 12:00 Uhr"


def test_the_breakdown_and_vat_table_in_german() -> None:
    """VAT rates are numbers too ("5,5 %"), while the markup keeps the rate as data."""
    lines = pricing.price_lines([1000, 300], [550, 1900], "included")
    totals = pricing.totals_of(lines, "included", tip=100)
    env = email_environment()
    with i18n.use("de"):
        text = env.get_template("price_breakdown.txt").render(totals=totals, currency="eur")
        table = env.get_template("vat_table.html").render(totals=totals, currency="eur",
                                                          table_class="t")
    assert "MwSt. 5,5 %: 0,52\xa0€" in text and "Trinkgeld (ohne MwSt.): 1,00\xa0€" in text
    assert "Gesamt: 14,00\xa0€" in text
    assert '<tr data-vat-rate="5.5"><td>5,5 %</td>' in table and "MwSt.-Satz" in table


def test_warm_up_loads_every_supported_language_before_the_first_price() -> None:
    """A process warms Babel at start: the first paid order's ticket otherwise read the
    locale data (unpickled and merged) in the middle of its fan-out."""
    localedata.clear_caches()
    i18n._locale.cache_clear()
    i18n.warm_up()
    assert set(i18n.SUPPORTED) <= set(localedata._cache)
