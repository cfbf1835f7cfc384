"""Wire shapes of the order API: what `POST /api/orders` accepts and what it answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from app.infra.json_body import NO_NUL, NO_OVERRIDE, ONE_LINE
from app.orders.models import OrderStatus
from app.restaurants.schemas import Money

MAX_LINES = 50
Quantity = Annotated[int, Meta(ge=1, le=99, description="1 to 99")]
MAX_ID = 2**31 - 1  # menu item ids are Postgres `integer` (serial)
ShortText = Annotated[str, Meta(max_length=200, pattern=NO_OVERRIDE)]
# An allergy the diner flags (e.g. "peanuts, sesame"): the kitchen shows it as a badge no
# other note uses. Empty means none.
Allergy = Annotated[str, Meta(max_length=200, pattern=NO_OVERRIDE,
                              description="allergies to flag to the kitchen, e.g. 'peanuts'")]


MAX_MODIFIERS = 10  # options on one line (app/restaurants/modifiers.py bounds the menu too)


class OrderItemIn(msgspec.Struct, forbid_unknown_fields=False):
    menu_item_id: Annotated[int, Meta(ge=1, le=MAX_ID)]
    quantity: Quantity
    notes: ShortText = ""
    allergy: Allergy = ""
    # The options chosen from the item's modifier groups (ids from the menu API); the server
    # checks them against the groups and prices them.
    # Any integer decodes (the OpenAPI schema cannot bound a list's items): an id that is not
    # one of the dish's options is intake's field error `items[N].modifiers`.
    modifiers: Annotated[list[int], Meta(max_length=MAX_MODIFIERS)] = msgspec.field(
        default_factory=list)


class CustomerIn(msgspec.Struct):
    name: Annotated[str, Meta(min_length=1, max_length=120, pattern=ONE_LINE)]
    email: Annotated[str, Meta(min_length=3, max_length=254, pattern=NO_NUL)]
    phone: Annotated[str, Meta(max_length=40, pattern=ONE_LINE)] = ""


class TipIn(msgspec.Struct):
    """A voluntary tip (no VAT): `{"percent": 10}` of the goods as the menu prices them, or
    `{"amount": 250}` in minor units; at most 100 % of the goods and 250.00. One of the two."""

    # gt=-1, not ge=0: Litestar's OpenAPI generation drops a bound of 0 (it is falsy).
    percent: Annotated[int, Meta(gt=-1, le=100, description="0 to 100")] | None = None
    amount: Annotated[int, Meta(gt=-1, le=10_000_000, description="minor units")] | None = None


class OrderIn(msgspec.Struct):
    """A customer's order. Prices are never accepted from the client: the menu decides."""

    restaurant: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
    items: Annotated[list[OrderItemIn], Meta(min_length=1, max_length=MAX_LINES)]
    customer: CustomerIn
    fulfillment: Literal["pickup", "delivery", "dine_in"]
    notes: Annotated[str, Meta(max_length=500, pattern=NO_OVERRIDE)] = ""
    delivery_address: Annotated[str, Meta(max_length=300, pattern=NO_OVERRIDE)] = ""
    table: Annotated[str, Meta(max_length=40, pattern=NO_OVERRIDE)] = ""
    allergy: Allergy = ""
    tip: TipIn | None = None
    # The language of the order's emails; the restaurant's default when left out.
    language: Literal["en", "de"] | None = None
    # A scheduled order: the slot's start, ISO 8601 with its offset, on the restaurant's
    # 15-minute grid inside its hours (app/restaurants/hours.py). Absent or null: as soon as
    # possible, which only an open restaurant takes.
    scheduled_for: Annotated[datetime, Meta(
        description="pickup/delivery slot, ISO 8601 with offset; null: as soon as possible")
    ] | None = None


class TaxRateOut(msgspec.Struct):
    """One VAT rate of an order: its lines' net, tax and gross, summed."""

    rate: str  # percent as written, e.g. "7", "19", "5.5"
    net: Money
    tax: Money
    gross: Money


class TotalsOut(msgspec.Struct):
    """The order's money: goods net + VAT = gross, then the tip; `total` is what is charged.
    `prices_include_tax`: the menu's prices are gross (EU) or net, tax added (US)."""

    prices_include_tax: bool
    net: Money
    tax: Money
    gross: Money
    taxes: list[TaxRateOut]
    tip: Money
    total: Money


class OrderCreatedOut(msgspec.Struct):
    id: str
    status: OrderStatus
    payment_url: str | None
    expires_at: str | None
    status_url: str
    total: Money
    message: str = ""
    totals: TotalsOut | None = None
    scheduled_for: str | None = None


class ModifierOut(msgspec.Struct):
    """An option chosen on a line, as it was when the order was placed."""

    group: str
    name: str
    price_delta: Money  # included in the line's unit_price
    option_id: int | None = None


class OrderLineOut(msgspec.Struct):
    menu_item_id: int | None
    name: str
    quantity: int
    unit_price: Money
    notes: str
    allergy: str = ""
    tax_rate: str = "0"  # VAT percent, e.g. "7"
    net: Money | None = None
    tax: Money | None = None
    gross: Money | None = None
    modifiers: list[ModifierOut] = msgspec.field(default_factory=list)


class OrderOut(msgspec.Struct):
    id: str
    status: OrderStatus  # every status the order can have, listed in the OpenAPI schema
    restaurant: str
    total: Money
    items: list[OrderLineOut]
    fulfillment: str
    payment_url: str | None
    expires_at: str | None
    status_url: str
    ticket_number: int | None = None
    prep_minutes: int | None = None
    promised_at: str | None = None
    reject_reason: str = ""
    allergy: str = ""
    totals: TotalsOut | None = None
    scheduled_for: str | None = None  # the slot (ISO 8601, UTC); null: as soon as possible
    # What was refunded so far (minor units, the order's currency; 0 when nothing): a partial
    # refund leaves the status as it was, so this is where a client reads it.
    refunded_amount: int = 0
