"""Going live: a restaurant the admin creates starts not live (unlisted on the home page, its
menu saying it is not taking orders yet, intake refusing with 409) until an owner goes live
from the overview's setup checklist. Going live needs every step of the checklist done; it
then takes orders (`accepting_orders`, which a CHECK forbids before). A live restaurant's
owner pauses it with `accepting_orders` as before: it stays listed ("Not taking orders")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from app.infra.db import fetch
from app.infra.logging import get_logger
from app.kitchen.floor import MENU_EVENT, announce
from app.orders.pricing import format_rate
from app.piccolo_conf import DB
from app.restaurants.tables import Restaurant

log = get_logger("orderpass.restaurants.launch")

# Said where a form would make a restaurant still being set up take orders (the settings'
# "Accepting orders" box, the admin's form): only going live does that.
NOT_LIVE_YET = ("Not live yet: finish the setup checklist on the overview and go live; "
                "orders open then.")


@dataclass(frozen=True)
class Step:
    """One item of the setup checklist: done or not, what is there or missing, where to fix it
    (`path`, under /manage/{slug})."""

    key: str
    label: str
    done: bool
    detail: str
    path: str


# What the checklist reads besides the restaurant's row: its dishes diners would see, and
# who would run the kitchen screen besides the owners (kitchen and manager accounts, or an
# open invitation to one): the owner's own account used to count, so the step was done
# before any cook existed.
_PEOPLE_AND_DISHES = """
SELECT (SELECT count(*) FROM menu_item WHERE restaurant = $1 AND NOT hidden) AS dishes,
       (SELECT count(*) FROM staff_user WHERE restaurant = $1
          AND role IN ('kitchen', 'manager')) AS staff,
       (SELECT count(*) FROM staff_invitation WHERE restaurant = $1 AND accepted_at IS NULL
          AND revoked_at IS NULL AND expires_at > now()
          AND role IN ('kitchen', 'manager')) AS invited
"""


def _hours_set(restaurant: Restaurant) -> bool:
    rows = restaurant.weekly_hours
    return bool(json.loads(rows) if isinstance(rows, str) else rows)


def _seller_missing(restaurant: Restaurant) -> list[str]:
    """What a receipt's seller block lacks (components/email_seller.html): the legal name, the
    address and the VAT ID or tax number; the trading name and address do not stand in for
    them here, so the owner looks at them once."""
    return [label for label, value in (
        ("legal name", restaurant.legal_name), ("legal address", restaurant.legal_address),
        ("VAT ID or tax number", restaurant.tax_id)) if not str(value or "").strip()]


async def checklist(restaurant: Restaurant) -> list[Step]:
    """The setup steps, in the order an owner does them; every one must be done to go live."""
    counts = (await fetch(_PEOPLE_AND_DISHES, restaurant.id))[0]
    dishes, staff, invited = counts["dishes"], counts["staff"], counts["invited"]
    hours_set = _hours_set(restaurant)
    rate = format_rate(restaurant.default_tax_rate)
    seller_missing = _seller_missing(restaurant)
    return [
        Step("menu", "Menu", dishes > 0,
             f"{dishes} dish{'' if dishes == 1 else 'es'} on the menu" if dishes
             else "No dish on the menu yet: add at least one.", "/menu"),
        Step("hours", "Opening hours", hours_set or restaurant.hours_confirmed,
             "Weekly hours set." if hours_set else (
                 "No hours on any day: open around the clock, chosen on purpose."
                 if restaurant.hours_confirmed else
                 "No hours set yet: diners could order around the clock. Enter your hours, "
                 "or save the hours form with every day empty to stay open around the clock."),
             "/hours"),
        Step("tax", "VAT", restaurant.tax_confirmed,
             f"Default VAT rate {rate} %, confirmed." if restaurant.tax_confirmed else
             f"The default VAT rate is {rate} % and nobody has confirmed it: set the rate your "
             "dishes are taxed at, or save the settings to keep it.", "/settings"),
        Step("seller", "Seller details for receipts", not seller_missing,
             "Legal name, address and VAT ID or tax number set." if not seller_missing else
             "Receipts must name the seller: missing " + ", ".join(seller_missing) + ".",
             "/settings"),
        _kitchen_step(restaurant, staff, invited),
    ]


def _kitchen_step(restaurant: Restaurant, staff: int, invited: int) -> Step:
    """Done when a kitchen or manager account exists or is invited, or the owner said they
    run the kitchen screen themselves (`kitchen_confirmed`, the step's own button)."""
    if staff or invited:
        people = ([f"{staff} kitchen or manager account{'' if staff == 1 else 's'}"]
                  if staff else []) + (
            [f"{invited} invitation{'' if invited == 1 else 's'} open"] if invited else [])
        detail = "For the kitchen screen: " + ", ".join(people) + "."
    elif restaurant.kitchen_confirmed:
        detail = "You run the kitchen screen yourself (chosen on purpose)."
    else:
        detail = ("Nobody but the owners can open the kitchen screen: invite kitchen staff "
                  "(or a manager), or say you will run it yourself.")
    return Step("kitchen", "Someone to run the kitchen",
                bool(staff or invited or restaurant.kitchen_confirmed), detail, "/staff")


async def run_kitchen_myself(restaurant: Restaurant, myself: bool, *, by: str) -> None:
    """The owner runs the kitchen screen themselves (or takes that back): the checklist's
    kitchen step is then done without a kitchen or manager account."""
    await Restaurant.update({Restaurant.kitchen_confirmed: myself}).where(
        Restaurant.id == restaurant.id)
    log.info("kitchen run by the owner", restaurant=restaurant.slug, myself=myself, by=by)


def missing(steps: list[Step]) -> list[Step]:
    return [step for step in steps if not step.done]


class NotReady(Exception):
    """Going live was refused: `steps` are the checklist items still to do."""

    def __init__(self, steps: list[Step]) -> None:
        super().__init__("not ready to go live: " + ", ".join(step.key for step in steps))
        self.steps = steps


async def go_live(redis: Redis, restaurant: Restaurant, *, by: str) -> bool:
    """Make the restaurant live and take orders, or raise NotReady naming what is missing.
    The row is locked while the checklist is read, so two taps go live once. False when it
    was live already (nothing changes: a live restaurant's pause stays as it is)."""
    async with DB.transaction():
        rows = await fetch("SELECT live_since FROM restaurant WHERE id = $1 FOR UPDATE",
                           restaurant.id)
        if rows[0]["live_since"] is not None:
            return False
        current = await Restaurant.objects().get(Restaurant.id == restaurant.id)
        assert current is not None  # locked above
        if todo := missing(await checklist(current)):
            raise NotReady(todo)
        await Restaurant.update({Restaurant.live_since: datetime.now(UTC),
                                 Restaurant.accepting_orders: True}).where(
            Restaurant.id == restaurant.id)
    log.info("restaurant live", restaurant=restaurant.slug, by=by)
    await announce(redis, int(restaurant.id), MENU_EVENT)  # open menu pages re-read
    return True


def refuse_accepting_before_live(restaurant: Restaurant, values: dict[str, Any],
                                 errors: dict[str, str]) -> None:
    """A settings form asking a restaurant still being set up to take orders: a field error
    (the CHECK would refuse the write); only going live opens orders."""
    if restaurant.live_since is None and values.get("accepting_orders"):
        errors["accepting_orders"] = NOT_LIVE_YET
