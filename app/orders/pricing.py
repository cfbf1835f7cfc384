"""Tax and tip arithmetic: pure functions on integer minor units, no floats, no I/O.

Rates are integers in hundredths of a percent (`700` is 7 %, `1900` is 19 %, `550` is 5.5 %),
so every sum and every rounding is exact.

**Rounding rule** (EU practice, e.g. Germany's §14 UStG invoices): VAT is computed once per
rate, on the total of that rate's lines, and rounded half up to the minor unit:

- prices include tax (`included`): a rate's tax = gross x r / (100 % + r), net = gross - tax;
- tax is added at checkout (`added`): a rate's tax = net x r / 100 %, gross = net + tax.

Each line also stores its share of its rate's tax, so a paid order's lines carry their own
net/tax/gross. The shares are the rate's tax split in proportion to the lines' amounts with
the largest-remainder method (floor every share, give the units left over to the largest
remainders, earlier lines first on ties): they always add up to exactly the rate's tax, so a
breakdown summed from stored lines equals the one computed at submission.

**Tips** are voluntary, carry no VAT, and are a percentage of the goods as priced on the menu
(what the cart shows before any tax is added) or an amount in minor units; at most 100 % of
that and at most `TIP_CAP` minor units.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

RATE_SCALE = 100  # rate units per percent: rates are hundredths of a percent
HUNDRED_PERCENT = 100 * RATE_SCALE
MAX_RATE = HUNDRED_PERCENT  # no VAT rate anywhere comes near it; refuses typos like 190
# A rate as written on a receipt: ASCII digits and a decimal point. `Decimal` also reads
# "1e2" (100), "NaN", "Infinity", "1_0" and other scripts' digits: an owner's typo, not a rate.
RATE = re.compile(r"[0-9]{1,12}(?:\.[0-9]*)?|\.[0-9]+")
TIP_PERCENTS = (5, 10, 15)  # what the checkout offers besides "no tip" and a custom amount
MAX_TIP_PERCENT = 100
# The largest tip in minor units: 250.00 in a two-decimal currency (¥25,000 in yen).
TIP_CAP = 25_000


class TaxMode(StrEnum):
    INCLUDED = "included"  # menu prices include tax (EU)
    ADDED = "added"  # tax is added at checkout (US sales tax style)


class TipInvalid(ValueError):
    """A tip the rules refuse; the message is for the diner."""


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator, positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def tax_included_in(gross: int, rate: int) -> int:
    """The tax contained in a tax-included amount: gross x r / (100 % + r), half up."""
    return round_half_up(gross * rate, HUNDRED_PERCENT + rate)


def tax_added_to(net: int, rate: int) -> int:
    """The tax on a net amount: net x r / 100 %, half up."""
    return round_half_up(net * rate, HUNDRED_PERCENT)


def rate_tax(amount: int, rate: int, mode: str) -> int:
    return tax_included_in(amount, rate) if mode == TaxMode.INCLUDED else tax_added_to(
        amount, rate)


def split(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder): the parts add up to
    `total` exactly; ties go to the earlier weight. All weights zero: all parts zero."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    parts = [total * weight // whole for weight in weights]
    left = total - sum(parts)
    by_remainder = sorted(range(len(weights)),
                          key=lambda index: (-(total * weights[index] % whole), index))
    for index in by_remainder[:left]:
        parts[index] += 1
    return parts


@dataclass(frozen=True)
class LineTax:
    rate: int
    net: int
    tax: int
    gross: int


@dataclass(frozen=True)
class RateTotal:
    """One row of a VAT breakdown: every line at `rate`, summed."""

    rate: int
    net: int
    tax: int
    gross: int

    @property
    def label(self) -> str:
        return format_rate(self.rate)


@dataclass(frozen=True)
class Totals:
    """An order's money as every screen, email and the API show it."""

    mode: str
    rates: tuple[RateTotal, ...]
    net: int  # the goods, without tax
    tax: int  # the goods' tax, all rates
    gross: int  # the goods, with tax
    tip: int = 0

    @property
    def total(self) -> int:
        """What the diner pays (and Stripe charges): the goods with tax, and the tip."""
        return self.gross + self.tip

    @property
    def subtotal(self) -> int:
        """The goods as priced on the menu (the base of a tip percentage)."""
        return self.gross if self.mode == TaxMode.INCLUDED else self.net

    @property
    def added(self) -> bool:
        return self.mode == TaxMode.ADDED

    @property
    def taxed_rates(self) -> tuple[RateTotal, ...]:
        """The rates that carry tax (a 0 % rate has nothing to show as VAT)."""
        return tuple(rate for rate in self.rates if rate.rate)


def price_lines(amounts: Sequence[int], rates: Sequence[int], mode: str) -> list[LineTax]:
    """Each line's net, tax and gross. `amounts` are the lines' prices as the menu states
    them (unit price x quantity: gross when `mode` is included, net when added)."""
    if len(amounts) != len(rates):
        raise ValueError("one rate per line")
    if mode not in (TaxMode.INCLUDED, TaxMode.ADDED):
        raise ValueError(f"unknown tax mode {mode!r}")
    for amount, rate in zip(amounts, rates, strict=True):
        if amount < 0 or not 0 <= rate <= MAX_RATE:
            raise ValueError(f"amount {amount} or rate {rate} out of range")
    shares = [0] * len(amounts)
    for rate in sorted(set(rates)):
        members = [index for index, line_rate in enumerate(rates) if line_rate == rate]
        base = sum(amounts[index] for index in members)
        parts = split(rate_tax(base, rate, mode), [amounts[index] for index in members])
        for index, part in zip(members, parts, strict=True):
            shares[index] = part
    if mode == TaxMode.INCLUDED:
        return [LineTax(rate, amount - tax, tax, amount)
                for amount, rate, tax in zip(amounts, rates, shares, strict=True)]
    return [LineTax(rate, amount, tax, amount + tax)
            for amount, rate, tax in zip(amounts, rates, shares, strict=True)]


def totals_of(lines: Iterable[LineTax], mode: str, tip: int = 0) -> Totals:
    """The breakdown of lines already priced (stored lines sum to what submission computed)."""
    by_rate: dict[int, list[int]] = {}
    for line in lines:
        row = by_rate.setdefault(line.rate, [0, 0, 0])
        row[0] += line.net
        row[1] += line.tax
        row[2] += line.gross
    rates = tuple(RateTotal(rate, *by_rate[rate]) for rate in sorted(by_rate))
    return Totals(mode=mode, rates=rates, net=sum(row.net for row in rates),
                  tax=sum(row.tax for row in rates), gross=sum(row.gross for row in rates),
                  tip=tip)


# Currencies Stripe takes with two decimals that must stay 00 (whole units only): an amount
# that is not a multiple of 100 is refused (https://docs.stripe.com/currencies, ISK).
WHOLE_UNITS_ONLY = frozenset({"isk"})


def charge_step(currency: str) -> int:
    """The smallest step, in minor units, of an amount Stripe charges in `currency`."""
    return 100 if currency.lower() in WHOLE_UNITS_ONLY else 1


def percent_tip(subtotal: int, percent: int, step: int = 1) -> int:
    """`percent` of `subtotal`, half up, to a multiple of `step` (the currency's
    `charge_step`): what a percentage tip charges, and what the form shows beside it."""
    return round_half_up(subtotal * percent, 100 * step) * step


def tip_amount(*, subtotal: int, percent: int | None = None, amount: int | None = None,
               cap: int = TIP_CAP, step: int = 1) -> int:
    """The tip for a choice: `percent` of `subtotal` (half up, to a multiple of `step`, the
    currency's `charge_step`) or `amount`; neither is no tip. Raises TipInvalid when it
    breaks a bound."""
    if percent is not None and amount is not None:
        raise TipInvalid("choose a tip percentage or an amount, not both")
    if percent is not None:
        if not 0 <= percent <= MAX_TIP_PERCENT:
            raise TipInvalid(f"a tip percentage must be between 0 and {MAX_TIP_PERCENT}")
        tip = percent_tip(subtotal, percent, step)
    elif amount is not None:
        if amount < 0:
            raise TipInvalid("a tip cannot be negative")
        if amount % step:
            raise TipInvalid("a tip in this currency must be a whole amount, like 300")
        tip = amount
    else:
        return 0
    if tip > subtotal:
        raise TipInvalid("a tip can be at most the price of the food (100 %)")
    if tip > cap:
        raise TipInvalid("that tip is more than we can take online")
    return tip


# -- rates as people write them ------------------------------------------------------------

def format_rate(rate: int) -> str:
    """700 → "7", 550 → "5.5", 1925 → "19.25" (percent, no sign)."""
    whole, hundredths = divmod(rate, RATE_SCALE)
    return str(whole) if not hundredths else f"{whole}.{hundredths:02d}".rstrip("0")


def parse_rate(text: str) -> int:
    """"7", "5,5", "19.25 %" → 700, 550, 1925. Raises ValueError with a message for a form."""
    cleaned = text.strip().rstrip("%").strip().replace(",", ".")
    if not cleaned:
        raise ValueError("Enter a rate such as 7 or 19.")
    if cleaned.startswith("-") and RATE.fullmatch(cleaned[1:]):
        raise ValueError("Enter a rate of 0 or more.")
    if not RATE.fullmatch(cleaned):
        raise ValueError("Enter a rate such as 7 or 19 (a percentage).")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter a rate such as 7 or 19 (a percentage).") from None
    if not value.is_finite() or value < 0:
        raise ValueError("Enter a rate of 0 or more.")
    scaled = value * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError("At most 2 decimal places.")
    if scaled > MAX_RATE:
        raise ValueError("A rate is at most 100 %.")
    return int(scaled)
