"""Editing restaurants and their menus, for the admin's pages and the owner's menu editor
(app/manage/menu_controller.py) alike: parse and validate form input field by field (errors
name the field), then write in one transaction or not at all: a menu item with an invalid
modifier group or photo saves nothing."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import asyncpg
from redis.asyncio import Redis

from app.infra import i18n
from app.infra.db import fetch
from app.infra.form_input import text_error
from app.infra.logging import get_logger
from app.kitchen.floor import MENU_EVENT, announce, close_links_holding
from app.orders.pricing import TaxMode, charge_step, format_rate, parse_rate
from app.payments.charge_limits import minimum_charge
from app.piccolo_conf import DB
from app.restaurants import allergens, fulfillment, hours, launch, modifiers
from app.restaurants.hours import quoted
from app.restaurants.menu_groups import groups_of, write_groups
from app.restaurants.photos import Photo
from app.restaurants.tables import MenuItem, MenuPhoto, Restaurant
from app.templating import ZERO_DECIMAL

log = get_logger("orderpass.admin.restaurants")

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY = re.compile(r"^[a-z]{3}$")
# The currencies a restaurant may charge in: Stripe's presentment currencies ("Supported
# currencies", https://docs.stripe.com/currencies), lower case as Stripe writes them, less
# the three-decimal ones (bhd, jod, kwd, omr, tnd), which this app would price wrongly.
# Stripe's zero-decimal ones (app.templating.ZERO_DECIMAL) are priced in whole units. A code
# Stripe adds is added here by hand.
STRIPE_CURRENCIES = frozenset({
    "usd", "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd",
    "bdt", "bgn", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf", "chf",
    "clp", "cny", "cop", "crc", "cve", "czk", "dkk", "dop", "dzd", "egp", "etb", "eur", "fjd",
    "fkp", "gbp", "gel", "gip", "gmd", "gtq", "gyd", "hkd", "hnl", "htg", "huf", "idr", "ils",
    "inr", "isk", "jmd", "jpy", "kes", "kgs", "khr", "krw", "kyd", "kzt", "lak", "lbp", "lkr",
    "lrd", "lsl", "mad", "mdl", "mkd", "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr",
    "mzn", "nad", "ngn", "nio", "nok", "npr", "nzd", "pab", "pen", "pgk", "php", "pkr", "pln",
    "qar", "ron", "rsd", "rub", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd",
    "std", "szl", "thb", "tjs", "top", "try", "ttd", "twd", "tzs", "uah", "uyu", "uzs", "vnd",
    "wst", "xcd", "yer", "zar", "zmw",
    "bif", "djf", "gnf", "kmf", "mga", "pyg", "rwf", "ugx", "vuv", "xaf", "xof", "xpf",
})  # fmt: skip
RESTAURANT_FIELDS = ("slug", "name", "currency", "timezone", "phone", "email", "address",
                     "default_prep_minutes", "auto_reject_minutes", "capture_mode",
                     "accepting_orders", *("tax_mode", "default_tax_rate", "tips_enabled",
                                           "legal_name", "legal_address", "tax_id"),
                     "default_language", fulfillment.FIELD)
# VAT IDs and tax numbers ("DE123456789", "12/345/67890", "GB 123 4567 89"): letters, digits
# and the separators they are written with.
TAX_ID = re.compile(r"^[A-Za-z0-9 ./-]*$")
# A phone number as diners dial it ("+49 30 1234567", "(030) 123-45/67"): digits, with a +
# only at the start and spaces, dashes, brackets and slashes between them.
PHONE = re.compile(r"\+?[0-9 ()/-]*[0-9][0-9 ()/-]*")
MIN_PHONE_DIGITS = 5  # the shortest a diner could dial (a local number without its area code)
# The longest: E.164 numbers have at most 15 digits after the international prefix, which is
# written "+" or dialled "00" (two digits more).
MAX_PHONE_DIGITS = 15
PHONE_CHARACTERS = frozenset("0123456789 ()/-+")  # what PHONE is made of
PHONE_HINT = "Enter a phone number like +49 30 1234567: "  # how every phone message begins
# A price as written on a menu: digits, and a decimal point (a comma is read as one).
PRICE = re.compile(r"[0-9]{1,12}(?:\.[0-9]*)?|\.[0-9]+")
WHOLE = re.compile(r"-?[0-9]{1,9}")  # a whole number as typed; the range is checked apart
RESERVED_SLUGS = frozenset({"new"})  # /admin/restaurants/new is the creation form
MENU_FIELDS = ("name", "category", "description", "price", "position", "available",
               "hidden", "tax_rate")


class FormInvalid(Exception):
    """Field-by-field problems; nothing was written."""

    def __init__(self, errors: dict[str, str], values: Mapping[str, Any]) -> None:
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors
        self.values = dict(values)


class NotFound(LookupError):
    pass


class EditConflict(FormInvalid):
    """The dish changed since its form was opened (another tab, another manager, the
    kitchen's 86): nothing was written; `values` are what was typed, with the new `seen`."""


# The dish's fields a conflict names, with their labels, as the form shows them.
CONFLICT_FIELDS = {"name": "name", "category": "category", "description": "description",
                   "price": "price", "tax_rate": "VAT rate", "position": "position",
                   "available": "available", "hidden": "hidden from diners",
                   "allergens": "allergens"}


@dataclass
class Parsed:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, form: Mapping[str, Any], name: str, max_length: int, *,
             required: bool = False, lines: bool = False) -> str:
        """A text field, one line unless `lines` (a description); diners and cooks read
        these, so never NUL or a text-direction override either way."""
        value = str(form.get(name) or "").strip()
        if required and not value:
            self.errors[name] = "Required."
        elif len(value) > max_length:
            self.errors[name] = f"At most {max_length} characters."
        elif problem := text_error(value, lines=lines):
            self.errors[name] = problem
        self.values[name] = value
        return value

    def integer(self, form: Mapping[str, Any], name: str, low: int, high: int,
                default: int | None = None) -> int | None:
        raw = str(form.get(name) or "").strip()
        if not raw and default is not None:
            self.values[name] = default
            return default
        # ASCII digits only: int() also reads "1_0", "+5" and other scripts' digits ("٣")
        if not WHOLE.fullmatch(raw):
            self.errors[name] = "Enter a whole number."
            self.values[name] = raw
            return None
        value = int(raw)
        if not low <= value <= high:
            self.errors[name] = f"Must be between {low} and {high}."
        self.values[name] = value
        return value


def checkbox(form: Mapping[str, Any], name: str) -> bool:
    return str(form.get(name) or "").lower() in ("on", "true", "1", "yes")


def parse_price(raw: str, currency: str) -> int:
    """"11.50" → 1150 (minor units); "11" → 1100; zero-decimal currencies take whole units.
    Raises ValueError with a message for the form."""
    # a currency sign before or after the number, as menus are written ("€4.50", "4,50 €")
    text = raw.strip().replace(",", ".").strip("€$£ \u00a0")
    if not text:
        raise ValueError("Required.")
    if not PRICE.fullmatch(text):  # Decimal reads "1e3" and "1_000" as 1000: an owner's typo
        raise ValueError("Enter a price like 11.50." if not text.startswith("-") else
                         "Enter a price of 0 or more.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("Enter a price like 11.50.") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("Enter a price of 0 or more.")
    places = 0 if currency.lower() in ZERO_DECIMAL else 2
    if charge_step(currency) > 1 and amount != amount.to_integral_value():
        raise ValueError("No decimals for this currency.")
    minor = amount * (10 ** places)
    if minor != minor.to_integral_value():
        raise ValueError(f"At most {places} decimal places." if places else
                         "No decimals for this currency.")
    if minor > 10_000_000:
        raise ValueError("That price is too high.")
    return int(minor)


def alone_hint(price: int | str | None, currency: str) -> str:
    """Said beside a dish priced under the card minimum (a free glass of water), so the
    owner knows before a diner does: it can join an order, not be ordered alone (intake's
    `charge_problem` refuses such a total). `price`: minor units, or as the form holds it."""
    if isinstance(price, str):
        try:
            price = parse_price(price, currency)
        except ValueError:
            return ""  # the field's own error says what is wrong
    minimum = minimum_charge(currency)
    if price is None or price >= minimum:
        return ""
    return (f"Under {format_price(minimum, currency)} {currency.upper()}, the smallest card "
            "payment: diners can add it to an order, not order it alone.")


def format_price(amount: int, currency: str) -> str:
    if currency.lower() in ZERO_DECIMAL:
        return str(amount)
    return f"{amount // 100}.{amount % 100:02d}"


def phone_problem(phone: str) -> str:
    """Why diners could not call `phone`, for its form field ("" if they could): the one
    thing wrong with it, in a sentence (app/orders/form_messages.py says each again in the
    diner's language)."""
    digits = "".join(char for char in phone if char in "0123456789")
    if not PHONE.fullmatch(phone) or len(digits) < MIN_PHONE_DIGITS:
        return _not_a_phone(phone, len(digits))
    longest = MAX_PHONE_DIGITS + (2 if digits.startswith("00") else 0)
    if len(digits) > longest:
        return (f"{PHONE_HINT}{quoted(phone)} has {len(digits)} digits; a phone number has at "
                f"most {MAX_PHONE_DIGITS} digits, not counting a leading 00.")
    if not digits.strip("0"):
        return f"{PHONE_HINT}{quoted(phone)} is only zeros."
    return ""


def _not_a_phone(phone: str, digits: int) -> str:
    """What keeps `phone` (refused by PHONE or too short) from being one: a character no
    phone number has, a "+" after the start, or too few digits (PHONE's one other demand, a
    digit, is the last of these)."""
    for position, char in enumerate(phone):
        if char not in PHONE_CHARACTERS:
            return f"{PHONE_HINT}a phone number may not contain {_named(char)}."
        if char == "+" and position:
            return f'{PHONE_HINT}a "+" may only come first.'
    if not digits:
        return (f"{PHONE_HINT}{quoted(phone)} has no digits; a phone number has at least "
                f"{MIN_PHONE_DIGITS}.")
    return (f"{PHONE_HINT}{quoted(phone)} has only {digits} digit{'' if digits == 1 else 's'}; "
            f"a phone number has at least {MIN_PHONE_DIGITS}.")


def _named(char: str) -> str:
    """A character for a message: "x" ('"' for the quote itself); one that would not show
    (a space other than the plain one, a control character) by its code point."""
    if char == '"':
        return "'\"'"
    if char.isprintable() and not char.isspace():
        return f'"{char}"'
    return f"U+{ord(char):04X}"


def parse_restaurant(form: Mapping[str, Any], *, creating: bool) -> Parsed:
    parsed = Parsed()
    if creating:
        slug = parsed.text(form, "slug", 64, required=True).lower()
        parsed.values["slug"] = slug
        if slug and "slug" not in parsed.errors and not SLUG.match(slug):
            parsed.errors["slug"] = "Lower-case letters, digits and dashes only."
        elif slug in RESERVED_SLUGS:
            parsed.errors["slug"] = "That slug is reserved."
    parsed.text(form, "name", 120, required=True)
    currency = parsed.text(form, "currency", 16, required=True).lower()
    parsed.values["currency"] = currency
    if currency and "currency" not in parsed.errors:
        if not CURRENCY.match(currency):
            parsed.errors["currency"] = "A three-letter ISO code such as eur."
        elif currency not in STRIPE_CURRENCIES:
            parsed.errors["currency"] = (f"{currency} is not a currency Stripe supports; use a "
                                         "three-letter ISO code such as eur.")
    timezone = parsed.text(form, "timezone", 64, required=True)
    if (timezone and "timezone" not in parsed.errors
            and (problem := hours.timezone_problem(timezone))):
        parsed.errors["timezone"] = problem
    phone = parsed.text(form, "phone", 40)
    if phone and "phone" not in parsed.errors and (problem := phone_problem(phone)):
        parsed.errors["phone"] = problem
    email = parsed.text(form, "email", 254)
    if email and "email" not in parsed.errors and not EMAIL.match(email):
        parsed.errors["email"] = "Enter a valid email address."
    parsed.text(form, "address", 300)
    parsed.integer(form, "default_prep_minutes", 1, 240)
    parsed.integer(form, "auto_reject_minutes", 0, 1440)
    capture = str(form.get("capture_mode") or "").strip()
    parsed.values["capture_mode"] = capture
    if capture not in ("automatic", "manual"):
        parsed.errors["capture_mode"] = "Choose automatic or manual."
    parsed.values["accepting_orders"] = checkbox(form, "accepting_orders")
    if "default_language" in form:  # a form without the field leaves the language as it is
        language = str(form.get("default_language") or "").strip()
        parsed.values["default_language"] = language
        if language not in i18n.SUPPORTED:
            parsed.errors["default_language"] = "Choose English or German."
    if fulfillment.in_form(form):  # a form without the boxes leaves the modes as they are
        modes, problem = fulfillment.parse(form)
        parsed.values[fulfillment.FIELD] = modes
        if problem:
            parsed.errors[fulfillment.FIELD] = problem
    _parse_tax_settings(parsed, form)
    return parsed


def _parse_tax_settings(parsed: Parsed, form: Mapping[str, Any]) -> None:
    """VAT, tips and the legal details a receipt names, when the form has them (its
    `tax_settings` marker: a form without the fieldset leaves them as they are, where an
    unticked tips box would otherwise read as "no tips"). `default_tax_rate` stays as typed
    ("7", "5.5") in `values`; `columns_of` stores it in hundredths of a percent."""
    if not form.get("tax_settings"):
        return
    mode = str(form.get("tax_mode") or "").strip()
    parsed.values["tax_mode"] = mode
    if mode not in (TaxMode.INCLUDED, TaxMode.ADDED):
        parsed.errors["tax_mode"] = "Choose whether menu prices include VAT."
    rate = parsed.text(form, "default_tax_rate", 12)
    if "default_tax_rate" not in parsed.errors:
        try:
            parse_rate(rate or "0")
        except ValueError as error:
            parsed.errors["default_tax_rate"] = str(error)
    parsed.values["tips_enabled"] = checkbox(form, "tips_enabled")
    parsed.text(form, "legal_name", 200)
    parsed.text(form, "legal_address", 300)
    tax_id = parsed.text(form, "tax_id", 40)
    if tax_id and "tax_id" not in parsed.errors and not TAX_ID.match(tax_id):
        parsed.errors["tax_id"] = "Letters, digits, spaces and . / - only."


def columns_of(values: Mapping[str, Any], names: tuple[str, ...]) -> dict[Any, Any]:
    """Restaurant columns for the validated form `values` of `names` (the rate as stored)."""
    columns: dict[Any, Any] = {}
    for name in names:
        if name in values and name != "slug":
            value = values[name]
            if name == "default_tax_rate":
                value = parse_rate(str(value) or "0")
            columns[getattr(Restaurant, name)] = value
    return columns


def parse_menu_item(form: Mapping[str, Any], currency: str) -> Parsed:
    parsed = Parsed()
    parsed.text(form, "name", 120, required=True)
    parsed.text(form, "category", 80, required=True)
    parsed.text(form, "description", 500, lines=True)
    raw_price = str(form.get("price") or "")
    parsed.values["price"] = raw_price.strip()
    try:
        parsed.values["price_amount"] = parse_price(raw_price, currency)
    except ValueError as error:
        parsed.errors["price"] = str(error)
    parsed.integer(form, "position", 0, 10_000, default=0)
    parsed.values["available"] = checkbox(form, "available")
    parsed.values["hidden"] = checkbox(form, "hidden")
    raw_rate = parsed.text(form, "tax_rate", 12)  # blank: the restaurant's default rate
    parsed.values["tax_rate_value"] = None
    if raw_rate and "tax_rate" not in parsed.errors:
        try:
            parsed.values["tax_rate_value"] = parse_rate(raw_rate)
        except ValueError as error:
            parsed.errors["tax_rate"] = str(error)
    # The owner's form has allergen boxes (`allergen-<code>`) and modifier groups; a form
    # without them (their markers) leaves them as they are.
    if form.get("allergens_shown"):
        parsed.values["allergens"] = allergens.known(
            code for code in allergens.ALLERGENS if checkbox(form, f"allergen-{code}"))
    if form.get("groups_shown"):
        groups, errors, values = modifiers.parse_groups(
            form, lambda raw: parse_price(raw, currency))
        parsed.values.update(values)
        parsed.values["groups"] = groups
        parsed.errors.update(errors)
    return parsed


# -- reads --------------------------------------------------------------------------------

async def list_restaurants() -> list[Restaurant]:
    return await Restaurant.objects().order_by(Restaurant.name)


async def get_restaurant(slug: str) -> Restaurant:
    restaurant = await Restaurant.objects().get(Restaurant.slug == slug)
    if restaurant is None:
        raise NotFound(f"no restaurant {slug!r}")
    return restaurant


async def menu(restaurant: Restaurant) -> list[MenuItem]:
    return await MenuItem.objects().where(MenuItem.restaurant == restaurant.id).order_by(
        MenuItem.category).order_by(MenuItem.position).order_by(MenuItem.id)


async def get_item(restaurant: Restaurant, item_id: int) -> MenuItem:
    item = await MenuItem.objects().get((MenuItem.id == item_id)
                                        & (MenuItem.restaurant == restaurant.id))
    if item is None:
        raise NotFound(f"no menu item {item_id}")
    return item


# -- writes (one transaction each) ---------------------------------------------------------

def _restaurant_columns(values: dict[str, Any]) -> dict[Any, Any]:
    return columns_of(values, RESTAURANT_FIELDS)


async def create_restaurant(form: Mapping[str, Any], *, by: str) -> Restaurant:
    parsed = parse_restaurant(form, creating=True)
    if parsed.errors:
        raise FormInvalid(parsed.errors, parsed.values)
    columns = {column._meta.name: value
               for column, value in _restaurant_columns(parsed.values).items()}
    # Not live: unlisted and taking no orders until its owner goes live from the overview's
    # checklist (app/restaurants/launch.py), which asks for hours and a VAT rate chosen on
    # purpose (a rate other than 0 % typed here is one).
    columns |= {"live_since": None, "accepting_orders": False, "hours_confirmed": False,
                "tax_confirmed": bool(columns.get("default_tax_rate")),
                "kitchen_confirmed": False}
    columns.setdefault(fulfillment.FIELD, list(fulfillment.NEW_RESTAURANT))  # posted no boxes
    try:
        async with DB.transaction():
            restaurant = Restaurant(slug=parsed.values["slug"], **columns)
            await restaurant.save()
    except asyncpg.UniqueViolationError:
        raise FormInvalid({"slug": "That slug is taken."}, parsed.values) from None
    log.info("restaurant created", restaurant=restaurant.slug, by=by)
    return restaurant


# Prices and paid orders are amounts in the restaurant's currency: read in another one, a
# €14.50 dish became 14.50 kr and the owner's sales took the new currency's sign.
CURRENCY_LOCKED = ("The currency stays {old}: this restaurant has dishes or orders priced in "
                   "it. A restaurant in another currency is a new restaurant.")


async def _priced(restaurant: Restaurant) -> bool:
    """Whether anything is priced in the restaurant's currency: a dish, or a paid order."""
    rows = await fetch(
        "SELECT EXISTS (SELECT 1 FROM menu_item WHERE restaurant = $1) "
        "OR EXISTS (SELECT 1 FROM paid_order WHERE restaurant = $1) "
        "OR EXISTS (SELECT 1 FROM archived_order WHERE restaurant = $1) AS priced",
        restaurant.id)
    return bool(rows[0]["priced"])


async def update_restaurant(redis: Redis, slug: str, form: Mapping[str, Any], *, by: str
                            ) -> Restaurant:
    restaurant = await get_restaurant(slug)
    parsed = parse_restaurant(form, creating=False)
    if parsed.errors:
        raise FormInvalid(parsed.errors, parsed.values)
    launch.refuse_accepting_before_live(restaurant, parsed.values, parsed.errors)
    if parsed.errors:
        raise FormInvalid(parsed.errors, parsed.values)
    columns = _restaurant_columns(parsed.values)
    if "tax_mode" in parsed.values:  # the VAT settings were shown and saved: confirmed
        columns[Restaurant.tax_confirmed] = True
    async with DB.transaction():
        if parsed.values["currency"] != restaurant.currency and await _priced(restaurant):
            raise FormInvalid({"currency": CURRENCY_LOCKED.format(
                old=restaurant.currency)}, parsed.values)
        await Restaurant.update(columns).where(Restaurant.id == restaurant.id)
    log.info("restaurant updated", restaurant=slug, by=by,
             accepting_orders=parsed.values["accepting_orders"])
    await announce(redis, int(restaurant.id), MENU_EVENT)  # open menus re-read at once
    return await get_restaurant(slug)


async def save_menu_item(redis: Redis, slug: str, form: Mapping[str, Any], *, by: str,
                         item_id: int | None = None, photo: Photo | None = None,
                         photo_error: str = "", remove_photo: bool = False) -> MenuItem:
    """Create (item_id None) or edit a menu item, with its allergens, modifier groups and
    photo when the form has them; the name is unique per restaurant. `photo_error`: why the
    upload was refused (reported with the other fields; nothing is saved). Open menu pages
    and kitchen screens are told to re-read (a dish made unavailable is greyed out at once,
    as the kitchen's 86 does)."""
    restaurant = await get_restaurant(slug)
    before = await get_item(restaurant, item_id) if item_id is not None else None
    old_photo = before.photo_id if before is not None else None
    parsed = parse_menu_item(form, restaurant.currency)
    # what the form showed when it was opened (absent: a form without it, no check), and
    # those values themselves, to merge another's change into a refused form (`shown`)
    seen = str(form.get("seen") or "")
    parsed.values["seen"] = seen
    parsed.values["shown"] = str(form.get("shown") or "")
    if photo_error:
        parsed.errors["photo"] = photo_error
    if parsed.errors:
        raise FormInvalid(parsed.errors, parsed.values)
    columns: dict[Any, Any] = {
               MenuItem.name: parsed.values["name"], MenuItem.category: parsed.values["category"],
               MenuItem.description: parsed.values["description"],
               MenuItem.price_amount: parsed.values["price_amount"],
               MenuItem.position: parsed.values["position"],
               MenuItem.available: parsed.values["available"],
               MenuItem.hidden: parsed.values["hidden"],
               MenuItem.tax_rate: parsed.values["tax_rate_value"]}
    if "allergens" in parsed.values:
        columns[MenuItem.allergens] = parsed.values["allergens"]
    try:
        async with DB.transaction():
            if photo is not None:
                stored = MenuPhoto(restaurant=restaurant.id, content=photo.content,
                                   content_type=photo.content_type, width=photo.width,
                                   height=photo.height, created_at=datetime.now(UTC))
                await stored.save()
                columns[MenuItem.photo_id] = int(stored.id)
            elif remove_photo:
                columns[MenuItem.photo_id] = None
            if item_id is None:
                item = MenuItem(restaurant=restaurant.id,
                                **{column._meta.name: value for column, value in columns.items()})
                await item.save()
                item_id = int(item.id)
            else:
                if seen:
                    await _refuse_if_changed(restaurant, item_id, seen, parsed.values)
                await MenuItem.update(columns).where(MenuItem.id == item_id)
            if "groups" in parsed.values:
                await write_groups(item_id, parsed.values["groups"])
            if old_photo and (photo is not None or remove_photo):
                await MenuPhoto.delete().where(MenuPhoto.id == old_photo)
    except asyncpg.UniqueViolationError:
        raise FormInvalid({"name": "This menu already has an item with that name."},
                          parsed.values) from None
    log.info("menu item saved", restaurant=slug, item=item_id, by=by)
    await announce(redis, int(restaurant.id), MENU_EVENT)
    assert item_id is not None
    if before is not None and _orderable(before) and not (
            parsed.values["available"] and not parsed.values["hidden"]):
        # unticked or hidden here, as the kitchen's 86: nobody pays for it on an open link
        await close_links_holding(redis, int(restaurant.id), before.name, item_id=item_id)
    return await get_item(restaurant, item_id)


def _orderable(item: MenuItem) -> bool:
    return bool(item.available) and not item.hidden


async def _refuse_if_changed(restaurant: Restaurant, item_id: int, seen: str,
                             typed: dict[str, Any]) -> None:
    """Inside the save's transaction: lock the dish's row (a save in another tab waits for
    this one) and raise EditConflict if it is no longer what the form showed. A second tab's
    save used to undo the first's price change without a word."""
    await MenuItem.raw("SELECT id FROM menu_item WHERE id = {} FOR UPDATE", item_id)
    current = await item_form_values(await get_item(restaurant, item_id), restaurant.currency)
    if current["seen"] == seen:
        return
    shown = _decoded(str(typed.get("shown") or ""))
    if shown is None or form_fingerprint(shown) != seen:  # a form from before `shown`
        now = [f"{label}: {_shown(current.get(name))}"
               for name, label in CONFLICT_FIELDS.items()
               if _shown(current.get(name)) != _shown(typed.get(name))]
        message = ("Someone changed this dish while you had it open, so nothing was saved. "
                   + (f"Saved now — {'; '.join(now)}. " if now else "")
                   + "Your version is below: check it and save again to keep it.")
        raise EditConflict({"seen": message}, {**typed, "seen": current["seen"],
                                               "shown": current["shown"]})
    # Three ways: a field this form left as it showed it takes what is saved now (saving
    # again must not undo the other change: a price, the kitchen's 86); one it changed keeps
    # what was typed, and one both changed is named.
    merged, theirs, both = dict(typed), [], []
    for name in dict.fromkeys((*current, *shown)):
        if name in ("seen", "shown", "photo_id"):
            continue
        before, now_saved, mine = (_shown(shown.get(name)), _shown(current.get(name)),
                                   _shown(typed.get(name)))
        label = CONFLICT_FIELDS.get(name, "options")
        if mine == before:
            if now_saved != before:
                merged[name] = current.get(name, "")
                theirs.append(f"{label}: {now_saved}" if name in CONFLICT_FIELDS else label)
        elif now_saved != before and now_saved != mine and label not in both:
            both.append(label)
    message = ("Someone changed this dish while you had it open, so nothing was saved. "
               + (f"The form now shows their change ({'; '.join(dict.fromkeys(theirs))}) "
                  "with yours. " if theirs else "")
               + (f"You both changed: {', '.join(both)}; yours is shown. " if both else "")
               + "Check it and save again.")
    raise EditConflict({"seen": message}, {**merged, "seen": current["seen"],
                                           "shown": current["shown"]})


def _decoded(raw: str) -> dict[str, Any] | None:
    """The form's `shown` values, or None when absent or not what this app wrote."""
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _shown(value: Any) -> str:
    """A form value as compared and named: a box ticked or not, a list, text as posted (a
    textarea comes back with CRLF line ends)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(part) for part in value) or "none"
    return str(value if value is not None else "").replace("\r\n", "\n").strip()


def form_fingerprint(values: Mapping[str, Any]) -> str:
    """A dish's form values as a short hash (the form's hidden `seen`)."""
    return hashlib.sha256(_encoded(values).encode()).hexdigest()[:20]


def _encoded(values: Mapping[str, Any]) -> str:
    shown = {key: value for key, value in values.items() if key not in ("seen", "shown")}
    return json.dumps(shown, sort_keys=True, default=str, separators=(",", ":"))


async def toggle_available(redis: Redis, slug: str, item_id: int, *, by: str) -> MenuItem:
    restaurant = await get_restaurant(slug)
    async with DB.transaction():
        item = await get_item(restaurant, item_id)
        await MenuItem.update({MenuItem.available: not item.available}).where(
            MenuItem.id == item_id)
    log.info("menu item availability", restaurant=slug, item=item_id,
             available=not item.available, by=by)
    await announce(redis, int(restaurant.id), MENU_EVENT)
    if _orderable(item):  # now sold out
        await close_links_holding(redis, int(restaurant.id), item.name, item_id=item_id)
    return await get_item(restaurant, item_id)


def restaurant_values(restaurant: Restaurant) -> dict[str, Any]:
    values = {name: getattr(restaurant, name) for name in RESTAURANT_FIELDS}
    values["default_tax_rate"] = format_rate(restaurant.default_tax_rate)
    return values


def item_values(item: MenuItem, currency: str) -> dict[str, Any]:
    return {"name": item.name, "category": item.category, "description": item.description,
            "price": format_price(item.price_amount, currency), "position": item.position,
            "available": item.available, "hidden": item.hidden,
            "tax_rate": "" if item.tax_rate is None else format_rate(item.tax_rate),
            "allergens": allergens.known(item.allergens or []), "photo_id": item.photo_id}


async def item_form_values(item: MenuItem, currency: str) -> dict[str, Any]:
    """`item_values` and its modifier groups as the owner's form shows them, and their
    fingerprint (`seen`), which a save compares with the dish as it is then."""
    values = {**item_values(item, currency), **modifiers.group_values(
        await groups_of(int(item.id)), lambda amount: format_price(amount, currency))}
    return {**values, "seen": form_fingerprint(values), "shown": _encoded(values)}


async def delete_menu_item(redis: Redis, slug: str, item_id: int, *, by: str) -> None:
    """Removes the item, its groups and options (orders keep their frozen copies)."""
    restaurant = await get_restaurant(slug)
    async with DB.transaction():
        item = await get_item(restaurant, item_id)
        await MenuItem.delete().where(MenuItem.id == item_id)
        if item.photo_id:
            await MenuPhoto.delete().where(MenuPhoto.id == item.photo_id)
    log.info("menu item deleted", restaurant=slug, item=item_id, by=by)
    await announce(redis, int(restaurant.id), MENU_EVENT)
    if _orderable(item):
        await close_links_holding(redis, int(restaurant.id), item.name, item_id=item_id)


def moved(ids: list[int], row_id: int, direction: str) -> list[int]:
    """`ids` in their listed order with `row_id` swapped with its neighbour above ("up") or
    below ("down"); the same at either end. A category among categories, a dish in its
    category: their positions are then rewritten 0…n-1 in this order."""
    ids = list(ids)
    at = ids.index(row_id)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
    return ids


async def move_menu_item(redis: Redis, slug: str, item_id: int, direction: str, *,
                         by: str) -> MenuItem:
    """Swap the dish with its neighbour above ("up") or below ("down") in its category, as
    the editor lists them (position, then id; hidden dishes included); the category's
    positions become 0…n-1, so dishes that shared a position get an order of their own."""
    restaurant = await get_restaurant(slug)
    async with DB.transaction():
        item = await get_item(restaurant, item_id)
        rows = await MenuItem.select(MenuItem.id).where(
            (MenuItem.restaurant == restaurant.id) & (MenuItem.category == item.category)
        ).order_by(MenuItem.position).order_by(MenuItem.id)
        ids = moved([int(row["id"]) for row in rows], item_id, direction)
        for position, row_id in enumerate(ids):
            await MenuItem.update({MenuItem.position: position}).where(MenuItem.id == row_id)
    log.info("menu item moved", restaurant=slug, item=item_id, direction=direction, by=by)
    await announce(redis, int(restaurant.id), MENU_EVENT)
    return item
