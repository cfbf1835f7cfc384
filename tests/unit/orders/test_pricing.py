"""VAT and tip arithmetic (app/orders/pricing.py): integer minor units, VAT per rate on the
rate's total, rounded half up, shared out to the lines so that they add up exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.orders import pricing
from app.orders.pricing import TaxMode


def test_prices_including_vat_split_per_rate_as_a_german_receipt_does() -> None:
    # 2 x pizza 11.00 at 7 %, a lemonade 4.50 at 19 %, prices include VAT.
    lines = pricing.price_lines([2200, 450], [700, 1900], TaxMode.INCLUDED)
    totals = pricing.totals_of(lines, TaxMode.INCLUDED)
    assert [(r.rate, r.net, r.tax, r.gross) for r in totals.rates] == [
        (700, 2056, 144, 2200),  # 2200 x 7/107 = 143.93
        (1900, 378, 72, 450),  # 450 x 19/119 = 71.85
    ]
    assert (totals.net, totals.tax, totals.gross, totals.total) == (2434, 216, 2650, 2650)
    assert totals.subtotal == 2650


def test_vat_is_rounded_once_per_rate_not_once_per_line() -> None:
    # Five 0.10 items at 19 %: per line 10 x 19/119 = 1.597 rounds to 2 (10 in all); on the
    # rate's total 50 x 19/119 = 7.98 rounds to 8. The receipt says 8; the lines share 8.
    lines = pricing.price_lines([10] * 5, [1900] * 5, TaxMode.INCLUDED)
    assert sum(line.tax for line in lines) == 8
    assert [line.tax for line in lines] == [2, 2, 2, 1, 1]  # ties: earlier lines first
    assert all(line.net + line.tax == line.gross == 10 for line in lines)


def test_tax_added_at_checkout_is_computed_on_the_net_and_rounded_half_up() -> None:
    # 0.50 at 7 % is 3.5 cents of tax: half up makes 4.
    [line] = pricing.price_lines([50], [700], TaxMode.ADDED)
    assert (line.net, line.tax, line.gross) == (50, 4, 54)
    lines = pricing.price_lines([1000, 1000, 333], [700, 1900, 700], TaxMode.ADDED)
    totals = pricing.totals_of(lines, TaxMode.ADDED, tip=100)
    assert [(r.rate, r.net, r.tax) for r in totals.rates] == [(700, 1333, 93), (1900, 1000, 190)]
    assert totals.gross == 2333 + 283 and totals.total == 2333 + 283 + 100
    assert totals.subtotal == 2333  # what the menu prices add up to (a tip's base)


def test_a_zero_rate_and_free_items_carry_no_tax() -> None:
    lines = pricing.price_lines([0, 500, 0], [1900, 0, 700], TaxMode.INCLUDED)
    assert [(line.net, line.tax, line.gross) for line in lines] == [(0, 0, 0), (500, 0, 500),
                                                                      (0, 0, 0)]
    assert pricing.totals_of(lines, TaxMode.INCLUDED).taxed_rates[0].tax == 0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        pricing.price_lines([100], [10_001], TaxMode.INCLUDED)
    with pytest.raises(ValueError):
        pricing.price_lines([-1], [700], TaxMode.INCLUDED)
    with pytest.raises(ValueError):
        pricing.price_lines([100], [700, 1900], TaxMode.INCLUDED)
    with pytest.raises(ValueError):
        pricing.price_lines([100], [700], "sideways")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000_000), st.sampled_from([0, 550, 700, 1900,
                                                                      2000, 2500, 1925])),
                min_size=1, max_size=50),
       st.sampled_from([TaxMode.INCLUDED, TaxMode.ADDED]))
def test_lines_always_add_up_to_the_rates_tax(lines: list[tuple[int, int]], mode: str) -> None:
    amounts, rates = [a for a, _ in lines], [r for _, r in lines]
    priced = pricing.price_lines(amounts, rates, mode)
    for line, amount in zip(priced, amounts, strict=True):
        assert line.net + line.tax == line.gross and line.tax >= 0 and line.net >= 0
        assert (line.gross if mode == TaxMode.INCLUDED else line.net) == amount
    for rate in set(rates):
        base = sum(a for a, r in lines if r == rate)
        exact = Fraction(base * rate, (10_000 + rate) if mode == TaxMode.INCLUDED else 10_000)
        tax = sum(line.tax for line in priced if line.rate == rate)
        assert tax == pricing.rate_tax(base, rate, mode)
        assert abs(tax - exact) <= Fraction(1, 2)  # rounded, and half up on a tie
        if exact.denominator == 2:
            assert tax == exact + Fraction(1, 2)
        for line in priced:  # each share within one unit of its exact proportion
            if line.rate == rate and base:
                amount = line.gross if mode == TaxMode.INCLUDED else line.net
                assert abs(line.tax - Fraction(tax * amount, base)) < 1


def test_tip_percentages_are_of_the_menu_prices_rounded_half_up() -> None:
    assert pricing.tip_amount(subtotal=2650, percent=10) == 265
    assert pricing.tip_amount(subtotal=2650, percent=15) == 398  # 397.5
    assert pricing.tip_amount(subtotal=2650, percent=0) == 0
    assert pricing.tip_amount(subtotal=2650) == 0
    assert pricing.tip_amount(subtotal=2650, amount=300) == 300


@pytest.mark.parametrize(("choice", "message"), [
    ({"amount": 2651}, "at most the price of the food"),
    ({"percent": 101}, "between 0 and 100"),
    ({"amount": -1}, "negative"),
    ({"percent": 10, "amount": 5}, "not both"),
])
def test_tips_out_of_bounds_are_refused(choice: dict[str, int], message: str) -> None:
    with pytest.raises(pricing.TipInvalid, match=message):
        pricing.tip_amount(subtotal=2650, **choice)


def test_tips_are_capped() -> None:
    assert pricing.tip_amount(subtotal=1_000_000, amount=pricing.TIP_CAP) == pricing.TIP_CAP
    with pytest.raises(pricing.TipInvalid, match="more than we can take"):
        pricing.tip_amount(subtotal=1_000_000, percent=5)  # 500.00 > 250.00


@pytest.mark.parametrize(("text", "rate"), [("7", 700), ("19", 1900), ("5,5", 550),
                                            ("19.25 %", 1925), ("0", 0), ("100", 10_000)])
def test_rates_as_people_write_them(text: str, rate: int) -> None:
    assert pricing.parse_rate(text) == rate
    assert pricing.parse_rate(pricing.format_rate(rate)) == rate


@pytest.mark.parametrize("text", ["", "abc", "-1", "7.123", "101", "nan", "inf"])
def test_bad_rates_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(ValueError):
        pricing.parse_rate(text)


def test_rates_format_without_trailing_zeros() -> None:
    assert [pricing.format_rate(rate) for rate in (700, 1900, 550, 1925, 0)] == [
        "7", "19", "5.5", "19.25", "0"]
