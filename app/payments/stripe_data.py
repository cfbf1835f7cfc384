"""A verified webhook body read the way the stripe SDK's objects are read
(`event.data.object.id`, `session.metadata.to_dict()`, `getattr(obj, "charge", None)`), without
building them: the SDK's `construct_from` turned one Checkout Session event into about 38
StripeObjects, 15 % of the web's CPU for a paid order (py-spy, 30 paid orders/s). A view wraps
a nested object only when it is read; the handlers take either (`Event`, `CheckoutSession`)."""

from __future__ import annotations

from typing import Any, TypeAlias

import stripe


class StripeData:
    """Read-only attribute access over a parsed Stripe JSON object, as a StripeObject gives:
    a missing field raises AttributeError, nested objects and lists of them are views too."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy/pickle probes: not fields
            raise AttributeError(name)
        try:
            return _view(self._values[name])
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key: str) -> Any:
        return _view(self._values[key])

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def get(self, key: str, default: Any = None) -> Any:
        return _view(self._values[key]) if key in self._values else default

    def to_dict(self) -> dict[str, Any]:
        """A plain copy, nested objects included (what StripeObject.to_dict gives)."""
        copied: dict[str, Any] = _plain(self._values)
        return copied

    def __repr__(self) -> str:
        return f"StripeData({self._values.get('object', '?')} {self._values.get('id', '')})"


def _view(value: Any) -> Any:
    if isinstance(value, dict):
        return StripeData(value)
    if isinstance(value, list):
        return [_view(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# What the event handlers accept: the SDK's objects (an event fetched again through the API,
# sessions listed by reconciliation) or a view of a webhook's body.
Event: TypeAlias = stripe.Event | StripeData
CheckoutSession: TypeAlias = stripe.checkout.Session | StripeData
