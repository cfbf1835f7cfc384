"""Prices as owners (and diners, for a tip) type them: plain decimals only."""

from __future__ import annotations

import pytest

from app.restaurants.editing import parse_price


@pytest.mark.parametrize(("raw", "minor"), [("11.50", 1150), ("11", 1100), ("6,5", 650),
                                             ("€6.50", 650), (" 0 ", 0), (".5", 50),
                                             ("7.", 700)])
def test_a_price_as_a_menu_writes_it(raw: str, minor: int) -> None:
    assert parse_price(raw, "eur") == minor


@pytest.mark.parametrize("raw", ["1e3", "1E2", "1_000", "0x10", "NaN", "Infinity", "1 000",
                                 "١٢", "12.5.0", "+5"])
def test_what_decimal_would_read_otherwise_is_refused(raw: str) -> None:
    """Decimal("1e3") is 1000 and int-style underscores pass: a typo became a €1000 dish."""
    with pytest.raises(ValueError, match=r"price like 11\.50"):
        parse_price(raw, "eur")


def test_a_negative_price_says_so() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        parse_price("-1", "eur")


def test_zero_decimal_currencies_take_whole_units() -> None:
    assert parse_price("500", "jpy") == 500
    with pytest.raises(ValueError, match="No decimals"):
        parse_price("5.5", "jpy")
