"""Wire shapes of the menu API (msgspec structs, documented in the OpenAPI schema)."""

from __future__ import annotations

import msgspec


class Money(msgspec.Struct):
    amount: int  # minor units (cents)
    currency: str  # ISO 4217, lower case


class RestaurantOut(msgspec.Struct):
    slug: str
    name: str
    currency: str
    accepting_orders: bool
    default_prep_minutes: int


class MenuItemOut(msgspec.Struct):
    id: int
    name: str
    category: str
    description: str
    price: Money
    available: bool


class MenuOut(msgspec.Struct):
    restaurant: RestaurantOut
    items: list[MenuItemOut]
