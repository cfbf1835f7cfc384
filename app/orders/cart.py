"""The menu page's cart as plain form fields, so it works without JavaScript: quantities
and notes per menu item, checkout fields, and +/- buttons that the server applies. Totals
are always recomputed here from the menu, never taken from the browser."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import msgspec
from babel.numbers import get_decimal_symbol

from app.infra import i18n
from app.infra.form_input import MAX_DB_INT, ascii_int
from app.infra.json_body import every_problem
from app.orders import pricing
from app.orders.choices import ChoiceInvalid, Group, Option, choosable, choose
from app.orders.field_checks import body_problems
from app.orders.form_messages import CHECK_DISHES, translated
from app.orders.models import LineModifier
from app.orders.schemas import OrderIn
from app.restaurants.editing import parse_price
from app.restaurants.services import tax_rate_of
from app.restaurants.tables import MenuItem, Restaurant
from app.templating import ZERO_DECIMAL

MAX_QUANTITY = 99


@dataclass
class CartLine:
    item: MenuItem
    quantity: int
    notes: str
    allergy: str = ""
    modifiers: list[LineModifier] = field(default_factory=list)
    key: str = ""  # a line with options: its choice key (`qty-<key>`), "" for a plain line
    first_amount: int | None = None  # the unit price the basket first showed it at

    @property
    def unit_amount(self) -> int:
        return self.item.price_amount + sum(modifier.delta for modifier in self.modifiers)

    @property
    def shown_amount(self) -> int:
        """The unit price the line keeps saying it was first shown at (`priced-<line>`)."""
        return self.unit_amount if self.first_amount is None else self.first_amount

    @property
    def price_changed(self) -> bool:
        return self.shown_amount != self.unit_amount

    @property
    def line_total(self) -> int:
        return self.unit_amount * self.quantity


# What the cart needs of an item's modifier groups: its groups and options (menu order).
Choices = dict[int, tuple[list[Group], list[Option]]]


def choice_key(item_id: int, option_ids: set[int] | list[int]) -> str:
    """A line of an item with options: "12-" (none chosen) or "12-3.7" (sorted option ids).
    The same item with other options is another line."""
    return f"{item_id}-" + ".".join(str(option) for option in sorted(set(option_ids)))


def parse_choice_key(raw: str) -> tuple[int, list[int]] | None:
    head, dash, tail = raw.partition("-")
    item_id = _item_id(head) if dash else None
    if item_id is None:
        return None
    options = [_item_id(part) for part in tail.split(".")] if tail else []
    if any(option is None for option in options) or len(options) > 10:
        return None
    return item_id, [option for option in options if option is not None]


@dataclass(frozen=True)
class GoneLine:
    """A basket line whose dish left the menu: its field (`qty-<line>`), quantity and name."""

    line: str
    quantity: int
    name: str


MAX_NAME = 160  # a dish's name (120) and its options' label, as the basket showed them


@dataclass
class CartForm:
    quantities: dict[int, int] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    # Allergy per line: the box ticked (item ids) and what the diner wrote.
    allergic: set[int] = field(default_factory=set)
    allergies: dict[int, str] = field(default_factory=dict)
    # Lines of items with options, by choice key, and the options ticked on the menu per item
    # (`opt-<item>-<option>` boxes and `opt-<item>-g<group>` radios) for its next Add.
    choices: dict[str, int] = field(default_factory=dict)
    selected: dict[int, set[int]] = field(default_factory=dict)
    # Their note and allergy, by choice key, as `notes`/`allergic`/`allergies` for plain lines.
    choice_notes: dict[str, str] = field(default_factory=dict)
    choice_allergic: set[str] = field(default_factory=set)
    choice_allergies: dict[str, str] = field(default_factory=dict)
    # Quantities that are not a whole number in the digits 0-9 ("٣", "1.5", "-1"), as typed,
    # by field (`qty-<item>` or `qty-<choice key>`): the checkout refuses them by their dish,
    # where they once counted as none and the basket read as empty.
    bad_quantities: dict[str, str] = field(default_factory=dict)
    # Each basket line's name as the page showed it (`named-<line>`): a dish the restaurant
    # deletes meanwhile is still named in the basket, where it vanished without a word.
    names: dict[str, str] = field(default_factory=dict)
    # Each line's unit price as the basket first showed it (`priced-<line>`): a price the
    # owner changes meanwhile is said, not slipped into the total (outside try).
    prices: dict[str, int] = field(default_factory=dict)

    def lines(self, menu: list[MenuItem], options: Choices | None = None) -> list[CartLine]:
        plain = [CartLine(item, self.quantities[item.id], self.notes.get(item.id, ""),
                          self.allergy_of(item.id), first_amount=self.prices.get(str(item.id)))
                 for item in menu if self.quantities.get(item.id, 0) > 0]
        by_id = {item.id: item for item in menu}
        chosen = []
        for key, quantity in self.choices.items():
            parsed = parse_choice_key(key)
            if quantity <= 0 or parsed is None or parsed[0] not in by_id:
                continue
            groups, known = (options or {}).get(parsed[0], ([], []))
            names = {group.id: group.name for group in groups}
            chosen.append(CartLine(by_id[parsed[0]], quantity, self.choice_notes.get(key, ""),
                                   self.choice_allergy_of(key), [
                LineModifier(group=names.get(option.group, ""), name=option.name,
                             delta=option.delta, option=option.id,
                             allergens=option.allergens)
                for option in known if option.id in parsed[1]], key, self.prices.get(key)))
        return plain + chosen

    def gone(self, menu: list[MenuItem]) -> list[GoneLine]:
        """The lines whose dish is no longer on the menu (deleted since the page was drawn):
        kept, named and refused, until the diner removes them."""
        on_menu = {item.id for item in menu}
        plain = [GoneLine(str(item_id), quantity, self.names.get(str(item_id), ""))
                 for item_id, quantity in self.quantities.items()
                 if quantity > 0 and item_id not in on_menu]
        chosen = [GoneLine(key, quantity, self.names.get(key, ""))
                  for key, quantity in self.choices.items()
                  if quantity > 0 and (parsed := parse_choice_key(key)) is not None
                  and parsed[0] not in on_menu]
        return plain + chosen

    def allergy_of(self, item_id: int) -> str:
        return self.allergies.get(item_id, "") if item_id in self.allergic else ""

    def choice_allergy_of(self, key: str) -> str:
        return self.choice_allergies.get(key, "") if key in self.choice_allergic else ""

    def total(self, menu: list[MenuItem], options: Choices | None = None) -> int:
        return sum(line.line_total for line in self.lines(menu, options))

    def field(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)


# The largest cart the menu form can carry to a valid order: schemas.MAX_LINES dishes, each with a
# note and an allergy of 200 characters, plus the order's own texts (~1,200 characters), every
# character percent-encoded from 4 bytes of UTF-8 (12 bytes): ~255 KB. The cart's limits
# decide what is too big; this cap only stops junk before the form is parsed.
MAX_CART_FORM_BYTES = 320 * 1024

CHECKOUT_FIELDS = ("name", "email", "phone", "fulfillment", "delivery_address", "table", "notes",
                   "has_allergy", "allergy", "tip", "tip_custom", "scheduled_for",
                   "schedule_day")  # the day whose times the form lists (app/orders/time_choice)
# The tip radio: "" (none), one of pricing.TIP_PERCENTS, or "custom" (then `tip_custom`, an
# amount as the diner writes it, e.g. "2.50").
TIP_CUSTOM = "custom"


def tip_example(currency: str) -> str:
    """An amount a diner can type as a tip in `currency`, for the form's label and errors,
    written as the diner's language writes it: "2.50" ("2,50" in German), or "300" where
    Stripe takes no decimals (JPY) or only 00 (ISK)."""
    whole = currency.lower() in ZERO_DECIMAL or pricing.charge_step(currency) > 1
    return "300" if whole else f"2{get_decimal_symbol(i18n.locale())}50"


def tip_choice(cart: CartForm, currency: str) -> dict[str, int] | None:
    """The form's tip as the API's `tip` object (None: no tip). Raises ValueError with a
    message for the `tip_custom` field."""
    choice = cart.field("tip").strip()
    if choice == TIP_CUSTOM:
        raw = cart.field("tip_custom").strip()
        if not raw:
            return None
        try:
            return {"amount": parse_price(raw, currency)}
        except ValueError:
            raise ValueError(f"enter an amount like {tip_example(currency)}") from None
    if not choice:
        return None
    percent = ascii_int(choice)  # not isdigit(): "²" passes it and fails int()
    if percent is not None and percent in pricing.TIP_PERCENTS:
        return {"percent": percent}
    raise ValueError("choose one of the tips offered")  # not a choice the form has


def cart_totals(cart: CartForm, menu: list[MenuItem], restaurant: Restaurant,
                options: Choices | None = None) -> tuple[pricing.Totals, str]:
    """What the cart costs as intake will charge it: VAT per rate (app/orders/pricing.py) and
    the chosen tip; and a problem with the tip to show ("" when none). A dish sold out
    meanwhile stays listed, marked, but is not counted: intake would refuse it, and the pay
    button should not promise a total that cannot be paid."""
    lines = [line for line in cart.lines(menu, options) if line.item.available]
    taxed = pricing.price_lines([line.line_total for line in lines],
                                [tax_rate_of(line.item, restaurant) for line in lines],
                                restaurant.tax_mode)
    totals = pricing.totals_of(taxed, restaurant.tax_mode)
    problem, tip = "", 0
    if restaurant.tips_enabled:
        try:
            choice = tip_choice(cart, restaurant.currency) or {}
            tip = pricing.tip_amount(subtotal=totals.subtotal, **choice,
                                     step=pricing.charge_step(restaurant.currency))
        except ValueError as error:  # pricing.TipInvalid is one
            problem = str(error)
    return pricing.totals_of(taxed, restaurant.tax_mode, tip), problem


def _quantity(raw: str) -> int | None:
    """The quantity asked for: 0 when left empty. More than MAX_QUANTITY stays more, so the
    checkout refuses it and says the limit (it became 99 without a word). None for what is
    not a whole number in ASCII digits: another script's digits ("٣", which int() reads as
    3), a sign, a decimal point, a word."""
    text = raw.strip()
    if not text:
        return 0
    value = ascii_int(text)
    if value is None and text.isascii() and text.isdigit():  # too many digits for an int
        return MAX_QUANTITY + 1
    return value


QUANTITY_NOT_DIGITS = "quantity must be a whole number written with 0 to 9, like 2 or 10"


QUANTITY_OVER = f"quantity must be at most {MAX_QUANTITY}"


def quantity_errors(cart: CartForm) -> dict[str, str]:
    """The form's quantities that are no whole number, or more than one may order, by field:
    what to tell the diner (a typed 150 was priced in the basket without a word)."""
    errors = {name: QUANTITY_OVER if raw.strip().isascii() and raw.strip().isdigit()
              else QUANTITY_NOT_DIGITS for name, raw in cart.bad_quantities.items()}
    for field_name, quantity in [*((f"qty-{item}", n) for item, n in cart.quantities.items()),
                                 *((f"qty-{line}", n) for line, n in cart.choices.items())]:
        if quantity > MAX_QUANTITY:
            errors[field_name] = QUANTITY_OVER
    return errors


def _item_id(raw: str) -> int | None:
    """A menu item id from a field name or button value: plain digits, a Postgres id (a
    field `qty-²` or `qty-` and 5,000 digits names no item and is ignored)."""
    return ascii_int(raw, low=1, high=MAX_DB_INT)


def parse_form(form: Mapping[str, str]) -> CartForm:
    cart = CartForm()
    for key, value in form.items():
        if key.startswith("qty-") and (item_id := _item_id(key[4:])) is not None:
            cart.quantities[item_id] = _counted(cart, f"qty-{item_id}", value)
        elif key.startswith("qty-") and (choice := parse_choice_key(key[4:])) is not None:
            line = choice_key(*choice)
            cart.choices[line] = _counted(cart, f"qty-{line}", value)
        elif key.startswith("opt-"):
            _select(cart, key[4:], value)
        elif key.startswith("note-") and (item_id := _item_id(key[5:])) is not None:
            cart.notes[item_id] = value  # the checkout refuses one too long, saying so
        elif key.startswith("allergic-") and (item_id := _item_id(key[9:])) is not None:
            cart.allergic.add(item_id)
        elif key.startswith("allergy-") and (item_id := _item_id(key[8:])) is not None:
            cart.allergies[item_id] = value
        elif key.startswith("note-") and (line_key := _line_key(key[5:])):
            cart.choice_notes[line_key] = value
        elif key.startswith("allergic-") and (line_key := _line_key(key[9:])):
            cart.choice_allergic.add(line_key)
        elif key.startswith("allergy-") and (line_key := _line_key(key[8:])):
            cart.choice_allergies[line_key] = value
        elif key.startswith("named-") and (line := _named_line(key[6:])):
            cart.names[line] = value[:MAX_NAME]
        elif key.startswith("priced-") and (line := _named_line(key[7:])) and (
                amount := ascii_int(value, low=0, high=MAX_DB_INT)) is not None:
            cart.prices[line] = amount
        elif key in CHECKOUT_FIELDS:
            cart.fields[key] = value
    return cart


def _counted(cart: CartForm, name: str, raw: str) -> int:
    """The quantity of field `name`; one that is no whole number, or more than one may
    order, counts as none (the basket neither lists nor prices it) and is remembered, as
    typed, for its dish to show with what is wrong and for the checkout to refuse."""
    quantity = _quantity(raw)
    if quantity is None or quantity > MAX_QUANTITY:
        cart.bad_quantities[name] = raw
        return 0
    cart.bad_quantities.pop(name, None)
    return quantity


def _named_line(raw: str) -> str:
    """The line a `named-` field names: a plain dish's id, or a choice key ("" for neither)."""
    item_id = _item_id(raw)
    return str(item_id) if item_id is not None else _line_key(raw)


def _line_key(raw: str) -> str:
    """The choice key of a line with options, normalised ("" when `raw` is none)."""
    parsed = parse_choice_key(raw)
    return choice_key(*parsed) if parsed is not None else ""


def _select(cart: CartForm, name: str, value: str) -> None:
    """`opt-<item>-<option>` (a ticked box) or `opt-<item>-g<group>` = option (a radio)."""
    head, _, tail = name.partition("-")
    item_id = _item_id(head)
    option = _item_id(value) if tail.startswith("g") else _item_id(tail)
    if item_id is not None and option is not None:
        cart.selected.setdefault(item_id, set()).add(option)


def add_with_options(cart: CartForm, item_id: int, options: Choices, item_name: str) -> str:
    """Add one of an item with the options ticked for it; the problem with the choice for
    the diner ("" when added)."""
    groups, known = options[item_id]
    if not choosable(groups, known):  # a page from before its last size was 86'd
        return translated(f"{item_name} is sold out", CHECK_DISHES)
    chosen = sorted(cart.selected.get(item_id, set()))
    try:
        choose(item_name, groups, known, chosen)
    except ChoiceInvalid as error:
        return translated(str(error), CHECK_DISHES)
    key = choice_key(item_id, chosen)
    cart.choices[key] = min(MAX_QUANTITY, cart.choices.get(key, 0) + 1)
    return ""


def apply_operation(cart: CartForm, operation: str) -> None:
    """`add:ID`, `inc:ID`, `dec:ID` or `remove:ID`, from the button the customer pressed (ID
    a menu item, or the choice key of a line with options)."""
    verb, _, raw_id = operation.partition(":")
    item_id = _item_id(raw_id)
    if item_id is None:
        if (choice := parse_choice_key(raw_id)) is not None:
            key = choice_key(*choice)
            cart.bad_quantities.pop(f"qty-{key}", None)  # a button sets it anew
            current = cart.choices.get(key, 0)
            cart.choices[key] = {"inc": min(MAX_QUANTITY, current + 1),
                                 "dec": max(0, current - 1), "remove": 0}.get(verb, current)
        return
    if verb in ("add", "inc", "dec", "remove"):
        cart.bad_quantities.pop(f"qty-{item_id}", None)  # a button sets it anew
    current = cart.quantities.get(item_id, 0)
    if verb in ("add", "inc"):
        cart.quantities[item_id] = min(MAX_QUANTITY, current + 1)
    elif verb == "dec":
        cart.quantities[item_id] = max(0, current - 1)
    elif verb == "remove":
        cart.quantities[item_id] = 0


def to_order(cart: CartForm, slug: str, currency: str = "eur"
             ) -> tuple[OrderIn | None, dict[str, str]]:
    """The same `OrderIn` the JSON API takes, or every form-field error at once: the
    checkout marks each wrong field in one answer (an empty name, then the email, then the
    phone took three tries)."""
    errors = quantity_errors(cart)
    tip = None
    if cart.field("tip").strip() == TIP_CUSTOM and not cart.field("tip_custom").strip():
        # "Other amount" chosen and no amount: asked for, not placed without the tip (the
        # cart refresh that follows choosing the radio shows no tip yet, `cart_totals`).
        errors["tip_custom"] = f"Tip: enter an amount like {tip_example(currency)}"
    else:
        try:
            tip = tip_choice(cart, currency)
        except ValueError as error:
            field = "tip_custom" if cart.field("tip").strip() == TIP_CUSTOM else "tip"
            errors[field] = f"Tip: {error}"
    payload = {
        "restaurant": slug,
        "items": [{"menu_item_id": item_id, "quantity": quantity,
                   "notes": cart.notes.get(item_id, ""),
                   "allergy": cart.allergy_of(item_id).strip()}
                  for item_id, quantity in cart.quantities.items() if quantity > 0]
        + [{"menu_item_id": choice[0], "quantity": quantity, "modifiers": choice[1],
            "notes": cart.choice_notes.get(key, ""),
            "allergy": cart.choice_allergy_of(key).strip()}
           for key, quantity in cart.choices.items()
           if quantity > 0 and (choice := parse_choice_key(key)) is not None],
        "customer": {"name": cart.field("name"), "email": cart.field("email"),
                     "phone": cart.field("phone")},
        "fulfillment": cart.field("fulfillment", "pickup"),
        "notes": cart.field("notes"),
        "delivery_address": cart.field("delivery_address"),
        "table": cart.field("table"),
        "allergy": cart.field("allergy").strip() if cart.field("has_allergy") else "",
        "tip": tip,
        # "" is as soon as possible; a slot is the ISO time the server put in the select.
        "scheduled_for": cart.field("scheduled_for").strip() or None,
    }
    if not payload["items"] and not errors:  # a quantity typed wrong: the diner did ask
        errors["items"] = "your cart is empty: add something from the menu"
    errors |= _unnamed_allergies(cart)
    if not errors:
        try:  # an order the schema takes: intake names the rest of its mistakes, all at once
            return msgspec.convert(payload, OrderIn), {}
        except msgspec.ValidationError:
            pass
    # the schema's problems, then intake's checks that need no menu, each field once
    for problem in every_problem(payload, OrderIn) + body_problems(payload):
        key = problem["key"] or "form"
        if key not in errors and not (key == "items" and not payload["items"]):
            errors[key] = problem["message"]
    return None, errors or {"form": "this order cannot be placed"}


def _unnamed_allergies(cart: CartForm) -> dict[str, str]:
    """A ticked allergy box needs words: the kitchen must know what to keep out."""
    missing = {f"allergy-{item_id}": "say what the allergy is"
               for item_id in sorted(cart.allergic)
               if cart.quantities.get(item_id, 0) > 0 and not cart.allergies.get(
                   item_id, "").strip()}
    missing |= {f"allergy-{key}": "say what the allergy is"
                for key in sorted(cart.choice_allergic)
                if cart.choices.get(key, 0) > 0 and not cart.choice_allergies.get(key, "").strip()}
    if cart.field("has_allergy") and not cart.field("allergy").strip():
        missing["allergy"] = "say what the allergy is"
    return missing


FIELD_NAMES = {"customer.name": "name", "customer.email": "email", "customer.phone": "phone"}


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """Map API error keys (`customer.email`) onto the form's input names (`email`)."""
    return {FIELD_NAMES.get(key, key): message for key, message in errors.items()}


# The page's fields from top to bottom (names, or a prefix ending in "-"): the box of errors
# lists them as the diner meets them, whichever check found them first.
PAGE_ORDER = ("options-", "qty-", "gone-", "note-", "allergy-", "items", "name", "email",
              "phone", "fulfillment", "delivery_address", "table", "allergy", "notes",
              "scheduled_for", "tip", "tip_custom")


def in_page_order(errors: dict[str, str]) -> dict[str, str]:
    def place(key: str) -> int:
        return next((index for index, name in enumerate(PAGE_ORDER)
                     if key == name or (name.endswith("-") and key.startswith(name))),
                    len(PAGE_ORDER))

    return dict(sorted(errors.items(), key=lambda item: place(item[0])))
