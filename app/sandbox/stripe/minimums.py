"""Stripe's minimum and maximum charge amount per presentment currency, in minor units.

From Stripe's "Supported currencies" page (docs.stripe.com/currencies, section "Minimum and
maximum charge amounts"). A currency not in the table must come to at least 0.50 USD; the
sandbox has no exchange rates, so it uses 50 minor units for those. The maximum is technical:
"up to twelve digits for IDR … and up to eight digits for all other currencies".
"""

from __future__ import annotations

MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip
DEFAULT_MINIMUM = 50
MAXIMUM_CHARGE: dict[str, int] = {"idr": 999_999_999_999}
DEFAULT_MAXIMUM = 99_999_999  # 999,999.99 in a two-decimal currency, ¥99,999,999
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                "vnd", "vuv", "xaf", "xof", "xpf"}  # fmt: skip


def minimum_charge(currency: str) -> int:
    return MINIMUM_CHARGE.get(currency.lower(), DEFAULT_MINIMUM)


def maximum_charge(currency: str) -> int:
    return MAXIMUM_CHARGE.get(currency.lower(), DEFAULT_MAXIMUM)


def shown(amount: int, currency: str) -> str:
    """`0.50 eur`, `50 jpy`: how Stripe's amount_too_small message writes an amount."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return f"{amount} {code}"
    return f"{amount / 100:.2f} {code}"
