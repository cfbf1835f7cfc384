"""Piccolo tables for restaurants and menu items (schema lives in migrations/)."""

from piccolo.columns import (
    JSONB,
    Array,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


def all_fulfillment_modes() -> list[str]:
    """A new restaurant's modes: every one (app.restaurants.fulfillment.MODES, in its order)."""
    return ["pickup", "delivery", "dine_in"]


class Restaurant(Table):
    id = Serial(primary_key=True)
    slug = Varchar(length=64, unique=True)
    name = Varchar(length=120)
    currency = Varchar(length=3)  # ISO 4217, lower case as Stripe writes it
    timezone = Varchar(length=64, default="UTC")
    accepting_orders = Boolean(default=True)
    capture_mode = Varchar(length=16, default="automatic")  # or "manual": capture on accept
    default_prep_minutes = Integer(default=15)
    auto_reject_minutes = Integer(default=10)  # 0 disables auto-reject
    phone = Varchar(length=40, default="")
    email = Varchar(length=254, default="")
    address = Varchar(length=300, default="")
    last_ticket_number = Integer(default=0)
    created_at = Timestamptz()
    # The kitchen's own controls (app/kitchen/floor.py): no new orders until this time, and
    # minutes added to every prep estimate while the kitchen is slammed.
    paused_until = Timestamptz(null=True, default=None)
    busy_minutes = Integer(default=0)
    # VAT and tips (app/orders/pricing.py): whether menu prices include tax ("included") or
    # tax is added at checkout ("added"); the rate of items without their own (hundredths of
    # a percent: 700 = 7 %); whether the checkout offers a tip; the legal details a receipt
    # names (the VAT ID or tax number in `tax_id`).
    tax_mode = Varchar(length=8, default="included")
    default_tax_rate = Integer(default=0)
    tips_enabled = Boolean(default=True)
    # The language diners read when neither a switch nor their browser names one we speak
    # (app/infra/i18n.py): "en" or "de".
    default_language = Varchar(length=8, default="en")
    legal_name = Varchar(length=200, default="")
    legal_address = Varchar(length=300, default="")
    tax_id = Varchar(length=40, default="")
    # Opening hours and scheduled orders (app/restaurants/hours.py): weekly intervals
    # `[[weekday, opens, closes], …]` in minutes on the local clock (empty: always open); how
    # many orders one 15-minute slot takes (0: no limit); how many days ahead diners may
    # schedule (0: ASAP only).
    weekly_hours = JSONB(default="[]")
    slot_capacity = Integer(default=0)
    schedule_days = Integer(default=7)
    # The fulfilment modes diners may choose (app/restaurants/fulfillment.py): any of "pickup",
    # "delivery", "dine_in", in that order, at least one (a CHECK in the migration).
    fulfillment_modes = Array(base_column=Varchar(length=16), default=all_fulfillment_modes)
    # Going live (app/restaurants/launch.py): when the owner went live from the setup
    # checklist (None: still being set up, unlisted and taking no orders, never accepting:
    # a CHECK); whether the hours form and the VAT settings were saved on purpose, and whether
    # the owner said they run the kitchen screen themselves. A row made without them is live
    # (the demo seed, tests); the admin's new restaurant is not.
    live_since = Timestamptz(null=True, default=TimestamptzNow())
    hours_confirmed = Boolean(default=True)
    tax_confirmed = Boolean(default=True)
    kitchen_confirmed = Boolean(default=True)


class MenuItem(Table):
    id = Serial(primary_key=True)
    restaurant = ForeignKey(references=Restaurant)
    category = Varchar(length=80)
    name = Varchar(length=120)
    description = Varchar(length=500, default="")
    price_amount = Integer()  # minor units of the restaurant's currency
    available = Boolean(default=True)  # False: sold out ("86"), shown greyed out
    hidden = Boolean(default=False)  # off the menu, kept for later (a seasonal dish)
    position = Integer(default=0)
    tax_rate = Integer(null=True, default=None)  # VAT, hundredths of a percent; None: default
    # The menu editor (#16 item 2): `category` names a MenuCategory row of the restaurant
    # (a foreign key on both columns: a rename cascades); allergen codes of
    # app.restaurants.allergens; the photo, if any.
    allergens = Array(base_column=Varchar(length=16), default=list)
    photo_id = Integer(null=True, default=None)


class MenuCategory(Table):
    """A menu section, ordered by `position` (a trigger makes the row an item names)."""

    id = Serial(primary_key=True)
    restaurant = ForeignKey(references=Restaurant)
    name = Varchar(length=80)
    position = Integer(default=0)


class MenuPhoto(Table):
    """A menu item's photo as served: re-encoded by app.restaurants.photos (no metadata)."""

    id = Serial(primary_key=True)
    restaurant = ForeignKey(references=Restaurant)
    content = Bytea()
    content_type = Varchar(length=32)
    width = Integer()
    height = Integer()
    created_at = Timestamptz()


class ModifierGroup(Table):
    """Choices on one menu item ("Size", "Extras"): between min and max options of it."""

    id = Serial(primary_key=True)
    menu_item = ForeignKey(references=MenuItem)
    name = Varchar(length=40)
    required = Boolean(default=False)
    min_choices = Integer(default=0)
    max_choices = Integer(default=1)
    position = Integer(default=0)


class ModifierOption(Table):
    """One choice of a group; its price delta (minor units, 0 or more) adds to the item's,
    its allergens to the dish's."""

    id = Serial(primary_key=True)
    modifier_group = ForeignKey(references=ModifierGroup)
    name = Varchar(length=40)
    price_delta = Integer(default=0)
    available = Boolean(default=True)
    position = Integer(default=0)
    # Allergen codes (app.restaurants.allergens) the option adds to its dish ("Pesto": nuts).
    allergens = Array(base_column=Varchar(length=16), default=list)


class RestaurantClosure(Table):
    """An exceptional closure: whole days on the restaurant's clock, both ends included."""

    id = Serial(primary_key=True)
    restaurant = ForeignKey(references=Restaurant)
    starts_on = Date()
    ends_on = Date()
    reason = Varchar(length=120, default="")
    created_at = Timestamptz()
