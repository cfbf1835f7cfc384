"""Stripe's minimum and maximum charge per presentment currency (minor units), from "Supported
currencies" (docs.stripe.com/currencies, "Minimum and maximum charge amounts"). Intake refuses
an order below the minimum or above the maximum: Stripe would refuse its payment link for good
(`amount_too_small`, `amount_too_large`). Currencies not listed must come to 0.50 USD; without
exchange rates we ask for 50 minor units. The sandbox holds the same tables
(app/sandbox/stripe/minimums.py; tests/unit/payments/test_snapshot.py keeps them equal)."""

from __future__ import annotations

from babel.numbers import get_currency_precision

from app.templating import ZERO_DECIMAL

MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
DEFAULT_MINIMUM = 50


def minimum_charge(currency: str) -> int:
    return MINIMUM_CHARGE.get(currency.lower(), DEFAULT_MINIMUM)


# "The amount value supports up to twelve digits for IDR (…999999999999 for a charge of
# 9,999,999,999.99 IDR), and up to eight digits for all other currencies (…99999999 for a
# charge of 999,999.99 USD)": zero-decimal ones too (¥99,999,999).
MAXIMUM_CHARGE: dict[str, int] = {"idr": 999_999_999_999}
DEFAULT_MAXIMUM = 99_999_999
# A paid order's amounts are Postgres `integer` columns (app/orders/tables.py): a payment
# above this would be taken by Stripe but never recorded by the webhook (nor rebuilt).
LARGEST_STORED = 2**31 - 1


def maximum_charge(currency: str) -> int:
    """The largest amount Stripe charges in `currency` (minor units)."""
    return MAXIMUM_CHARGE.get(currency.lower(), DEFAULT_MAXIMUM)


def largest_order(currency: str) -> int:
    """The largest total intake takes: what Stripe charges and a paid order can hold, down to
    a whole unit where prices are shown without decimals (`format_money`: HUF, ISK, IDR), so
    the limit a diner reads is the one applied (999,999.99 Ft would read "1,000,000 Ft")."""
    code = currency.lower()
    shown = 0 if code in ZERO_DECIMAL else 2 - min(2, get_currency_precision(code.upper()))
    step = 10 ** shown
    return min(maximum_charge(code), LARGEST_STORED) // step * step
