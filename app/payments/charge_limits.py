"""Stripe's minimum charge per presentment currency (minor units), from "Supported
currencies" (docs.stripe.com/currencies, "Minimum and maximum charge amounts"). Intake refuses
an order below it: Stripe would refuse its payment link (`amount_too_small`). Currencies not
listed must come to 0.50 USD; without exchange rates we ask for 50 minor units."""

from __future__ import annotations

MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
DEFAULT_MINIMUM = 50


def minimum_charge(currency: str) -> int:
    return MINIMUM_CHARGE.get(currency.lower(), DEFAULT_MINIMUM)
