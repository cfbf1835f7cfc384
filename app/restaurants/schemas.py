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
    prices_include_tax: bool = True  # menu prices are gross (EU); else VAT is added at checkout
    tips: list[int] = msgspec.field(default_factory=list)  # tip percentages offered; [] none
    # Opening hours (app/restaurants/opening.py): whether an order for as soon as possible is
    # taken now, what the menu says otherwise ("Opens today at 17:30."), how many days ahead
    # orders may be scheduled, and the first slots that may be chosen now (ISO 8601, UTC).
    open_now: bool = True
    notice: str = ""
    schedule_days: int = 0
    next_slots: list[str] = msgspec.field(default_factory=list)
    # The fulfilment modes it takes, the values `POST /api/orders` accepts in `fulfillment`
    # ("pickup", "delivery", "dine_in"; at least one): any other is refused (4xx naming
    # `fulfillment`).
    fulfillment_modes: list[str] = msgspec.field(
        default_factory=lambda: ["pickup", "delivery", "dine_in"])


class ModifierOptionOut(msgspec.Struct):
    id: int  # what `POST /api/orders` items list in `modifiers`
    name: str
    price_delta: Money  # added to the item's price (0 or more)
    available: bool
    # The EU allergens it adds to the dish's (codes, as the item's `allergens`)
    allergens: list[str] = msgspec.field(default_factory=list)


class ModifierGroupOut(msgspec.Struct):
    id: int
    name: str
    required: bool
    min_choices: int  # choose at least this many options of the group …
    max_choices: int  # … and at most this many (1: one of them)
    options: list[ModifierOptionOut]


class MenuItemOut(msgspec.Struct):
    id: int
    name: str
    category: str
    description: str
    price: Money
    available: bool
    tax_rate: str = "0"  # VAT percent, e.g. "7" or "19"
    # The 14 EU allergens it contains (codes: "gluten", "milk", …; app/restaurants/allergens.py)
    allergens: list[str] = msgspec.field(default_factory=list)
    groups: list[ModifierGroupOut] = msgspec.field(default_factory=list)
    photo_url: str | None = None


class MenuOut(msgspec.Struct):
    restaurant: RestaurantOut
    items: list[MenuItemOut]
