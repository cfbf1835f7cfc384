"""Prices as owners (and diners, for a tip) type them: plain decimals only."""

from __future__ import annotations

import pytest

from app.restaurants.editing import parse_price


@pytest.mark.parametrize(("raw", "minor"), [("11.50", 1150), ("11", 1100), ("6,5", 650),
                                             ("€6.50", 650), (" 0 ", 0), (".5", 50),
                                             ("7.", 700), ("4.50€", 450), ("4,50 €", 450),
                                             ("4,50\u00a0€", 450), ("£ 3", 300)])
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


@pytest.mark.parametrize(("raw", "currency", "minor"), [
    ("1500", "huf", 150000), ("1500.50", "huf", 150050),  # two decimals in Stripe's API
    ("1500", "isk", 150000), ("1500", "xof", 1500), ("1500", "ugx", 1500)])
def test_amounts_are_what_stripe_reads_for_the_currency(raw: str, currency: str,
                                                        minor: int) -> None:
    """Stripe reads HUF and ISK with two decimals (1,500 Ft is 150000): taken as zero-decimal,
    a 1,500 Ft dish was charged 15 Ft."""
    assert parse_price(raw, currency) == minor


def test_isk_takes_whole_kronur_only() -> None:
    """Stripe's ISK amounts keep 00 as their decimals."""
    with pytest.raises(ValueError, match="No decimals"):
        parse_price("1500.50", "isk")


def test_our_zero_decimal_currencies_are_stripes() -> None:
    """The sandbox models Stripe's list (app/sandbox/stripe/minimums.py); ours must agree."""
    from app.sandbox.stripe.minimums import ZERO_DECIMAL as STRIPES
    from app.templating import ZERO_DECIMAL, format_money

    assert set(ZERO_DECIMAL) == STRIPES
    assert "1,500" in format_money(150000, "huf") and "1,500" in format_money(1500, "jpy")


def test_a_tip_in_isk_is_whole_kronur() -> None:
    """Stripe refuses ISK amounts whose decimals are not 00: a 15 % tip on 1,550 kr is 233 kr,
    not 232.50; a tip typed with decimals is refused."""
    from app.orders import pricing

    step = pricing.charge_step("ISK")
    assert pricing.tip_amount(subtotal=155000, percent=15, step=step) == 23300
    assert pricing.tip_amount(subtotal=155000, percent=15) == 23250  # two-decimal currencies
    with pytest.raises(pricing.TipInvalid, match="whole amount"):
        pricing.tip_amount(subtotal=155000, amount=23250, step=step)
