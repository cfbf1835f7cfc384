"""Read models for kitchen screens: the board (active tickets in priority order, "all day"
counts, the last completed ticket to recall) and one ticket."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.table import Table

from app.kitchen import allergy_match
from app.kitchen.board_query import Notice, Recall, Upcoming, read_board
from app.kitchen.priority import (
    due_at,
    late_minutes,
    prioritise,
    screen_sort_key,
    screen_thresholds,
    timing,
)
from app.orders import reject_reasons
from app.orders.lifecycle import ACTIVE_STATUSES, ALLOWED, RECALL_WINDOW, STAFF_ACTIONS
from app.orders.models import LineModifier
from app.orders.tables import OrderItem, OrderRefund, PaidOrder
from app.orders.views import modifiers_of, refunded_units
from app.restaurants.allergens import english
from app.restaurants.availability import is_paused
from app.restaurants.tables import Restaurant
from app.templating import format_money, format_time, local_clock


@dataclass(frozen=True)
class Line:
    name: str
    quantity: int
    notes: str
    allergy: str = ""
    modifiers: tuple[LineModifier, ...] = ()  # the options chosen, frozen at submission
    refunded: int = 0  # units the admin refunded: not to be made
    # of those, units whose refund no cook has acknowledged yet (its notice is up): marked
    refund_new: int = 0
    # 86'd since the order was paid (the order keeps it: the cook decides, `_sold_out`): the
    # dish itself, or the options of it named here
    dish_sold_out: bool = False
    options_sold_out: tuple[str, ...] = ()
    # on a ticket with an allergy note only: the allergens its dish and chosen options contain
    # (English names), and those of them the note names (`allergy_match.matching`)
    allergens: tuple[str, ...] = ()
    allergy_matches: tuple[str, ...] = ()

    @property
    def left(self) -> int:
        """Units still to make."""
        return max(0, self.quantity - self.refunded)

    @property
    def sold_out(self) -> bool:
        return self.dish_sold_out or bool(self.options_sold_out)

    @property
    def sold_out_label(self) -> str:
        """The mark's accessible name: what the kitchen cannot make of this line."""
        if self.dish_sold_out:
            return f"{self.name} is sold out"
        return f"{', '.join(self.options_sold_out)} ({self.name}) sold out"

    @property
    def allergy_label(self) -> str:
        """The line's own allergy badge's accessible name: it names its dish (a bare "Allergy:
        hazelnuts" at the foot of one line read as the next dish's: an outside try)."""
        return f"Allergy for {self.name}: {self.allergy}"

    @property
    def allergy_match_label(self) -> str:
        """The mark's accessible name: what of the allergy note this line contains."""
        return (f"Allergy warning: {self.name} contains {', '.join(self.allergy_matches)}, "
                "check the allergy note")


@dataclass
class Card:
    """One ticket as the kitchen sees it (what components/order_card.html renders)."""

    ref: str
    ticket_number: int
    status: str
    fulfillment: str
    customer_name: str
    customer_phone: str
    table_label: str
    delivery_address: str
    notes: str
    total_amount: int
    currency: str
    paid_at: datetime
    promised_at: datetime | None
    prep_minutes: int | None
    needs_review: bool
    review_reason: str
    reject_reason: str
    allergy: str = ""  # flagged for the whole order (lines carry their own)
    capture_mode: str = "automatic"
    tip_amount: int = 0  # the diner's tip (minor units), shown small on the card
    scheduled_for: datetime | None = None  # the diner's slot; None: as soon as possible
    released_at: datetime | None = None  # when a scheduled order reached the board
    lines: list[Line] = field(default_factory=list)
    amount_refunded: int = 0  # refunded so far (a partial refund: the ticket stays)
    # Units refunded of it that no cook has acknowledged yet (the item refund's notice is
    # up on every screen): the ticket is marked until then.
    refund_unseen: bool = False
    alarm_acknowledged: bool = False  # a screen stopped its new-order alarm (every screen's)
    due_at: datetime | None = None
    timing: str = "on_time"
    local_due: datetime | None = None
    local_slot: datetime | None = None  # a scheduled order's slot on the restaurant's clock
    sort_key: str = ""  # where a screen places this ticket (priority.screen_sort_key)
    late_minutes: int = 0  # whole minutes past the due time, once late
    auto_reject_at: datetime | None = None  # when the timer rejects it if nobody accepts
    # A booked ticket not accepted yet whose slot Accept's default prep would miss, said
    # beside Accept ("With 40 min: ready 12:25, 25 min after the 12:00 slot"; "" if in time)
    slot_hint: str = ""

    @property
    def on_board(self) -> bool:
        """A scheduled order waits under "Scheduled" until its release."""
        return self.scheduled_for is None or self.released_at is not None

    @property
    def started_at(self) -> datetime:
        """When the kitchen's clock started for it: release, or payment."""
        return self.released_at or self.paid_at

    @property
    def money_back(self) -> str:
        """What rejecting it now does to the diner's money: `void` (an authorisation never
        captured is released) or `refund`."""
        return "void" if self.capture_mode == "manual" and self.status == "paid" else "refund"

    @property
    def card_held(self) -> bool:
        """A new order whose card is only authorised (manual capture: charged when the
        kitchen accepts)."""
        return self.money_back == "void"

    @property
    def status_label(self) -> str:
        """The status as the ticket says it: "card held", not "paid", while the card is only
        held, so a cook never takes it for money already in."""
        return "card held" if self.card_held else self.status.replace("_", " ")

    @property
    def has_allergy(self) -> bool:
        return bool(self.allergy) or any(line.allergy for line in self.lines)

    @property
    def minutes_after_slot(self) -> int:
        """How many whole minutes the time promised on accept (the one the diner is told)
        falls after a booked order's slot: 0 when in time, not booked or not accepted."""
        if self.scheduled_for is None or self.promised_at is None:
            return 0
        return max(0, int((self.promised_at - self.scheduled_for).total_seconds() // 60))

    def minutes_after_slot_with(self, prep_minutes: int, now: datetime) -> int:
        """The same for a booked ticket not accepted yet, were it accepted `now` with
        `prep_minutes` (the accept promises now + prep, or the slot if later)."""
        if self.scheduled_for is None or self.status != "paid":
            return 0
        ready = now + timedelta(minutes=prep_minutes)
        return max(0, int((ready - self.scheduled_for).total_seconds() // 60))

    @property
    def actions(self) -> list[str]:
        """Staff actions the state machine allows now (drives the card's buttons)."""
        moves = ALLOWED.get(self.status, {})
        return [action for action in STAFF_ACTIONS if action in moves and action != "recall"]

    @property
    def primary(self) -> str | None:
        """The action Enter/Space (a bump bar) performs: the next step forward."""
        return next((action for action in self.actions if action != "reject"), None)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def sold_out_names(self) -> str:
        """"Tiramisu, Olives": what of this ticket the kitchen has 86'd ("" for none), for
        the card's accessible name."""
        return ", ".join(name for line in self.lines if line.sold_out
                         for name in ((line.name,) if line.dish_sold_out
                                      else line.options_sold_out))

    @property
    def dish_names(self) -> list[str]:
        """The order's dishes, each once, in ticket order: what the reject dialog offers as
        sold out (`sold_out_reason` accepts these and only these)."""
        return list(dict.fromkeys(line.name for line in self.lines))

    @property
    def dishes_marked_sold_out(self) -> list[str]:
        """Of those, the dishes the ticket marks 86'd now (ticked first in the dialog)."""
        return list(dict.fromkeys(line.name for line in self.lines if line.dish_sold_out))

    @property
    def refunded_items(self) -> str:
        """"1x Burger, 1x Sparkling water" (with the multiplication sign): the units refunded,
        which the cook must not make ("" for a refund of an amount rather than items, e.g.
        one made in Stripe)."""
        return ", ".join(f"{line.refunded}\N{MULTIPLICATION SIGN} {line.name}"
                         for line in self.lines if line.refunded)


TO_COOK = [status for status in ACTIVE_STATUSES if status != "ready"]  # "all day" counts these
PLAIN = "plain"  # "all day": the units of a dish ordered without any option


@dataclass(frozen=True)
class AllDay:
    """One dish of the "all day" counts: its units to make and, beneath, how many of each
    combination of options ("3 Pizza your way": "2 M", "1 L + Olives"); none when every unit
    is plain."""

    name: str
    count: int
    options: tuple[tuple[int, str], ...] = ()


def all_day_counts(rows: list[tuple[str, tuple[str, ...], int]]) -> list[AllDay]:
    """The query's counts per dish and options, as dishes (most units first), each with its
    combinations (most units first; "L + Olives", or "plain")."""
    dishes: dict[str, dict[str, int]] = {}
    for name, options, count in rows:
        combos = dishes.setdefault(name, {})
        label = " + ".join(map(str, options)) or PLAIN
        combos[label] = combos.get(label, 0) + count
    counted = []
    for name, combos in dishes.items():
        by_options = sorted(((units, label) for label, units in combos.items()),
                            key=lambda pair: (-pair[0], pair[1]))
        counted.append(AllDay(name, sum(combos.values()),
                              () if list(combos) == [PLAIN] else tuple(by_options)))
    return sorted(counted, key=lambda dish: (-dish.count, dish.name))


@dataclass
class Board:
    restaurant_id: int
    slug: str
    name: str
    default_prep_minutes: int
    cards: list[Card]
    all_day: list[AllDay]
    recall: Recall | None
    generated_at: datetime
    new_count: int  # paid, not yet accepted: counted by the query (`cards` may be a part)
    timezone: str = "UTC"
    notices: list[Notice] = field(default_factory=list)  # auto-rejects not acknowledged
    # the 86'd menu items, then options ("Olives (Pizza your way)"): the board's "86:" strip
    sold_out: list[str] = field(default_factory=list)
    paused_until: datetime | None = None  # set (and in the future) while orders are paused
    busy_minutes: int = 0
    auto_reject_minutes: int = 0
    scheduled: list[Upcoming] = field(default_factory=list)  # paid, not on the board yet
    live: bool = True  # False while the owner has not gone live: diners cannot order yet

    @property
    def prep_default(self) -> int:
        """The prep time an Accept offers: the usual one plus the kitchen's busy time."""
        return self.default_prep_minutes + self.busy_minutes

    @property
    def thresholds(self) -> dict[str, float]:
        """The timing rules the screen's script applies between frames (one source)."""
        return screen_thresholds()


async def restaurant_by_id(restaurant_id: int) -> Restaurant | None:
    return await Restaurant.objects().where(
        Restaurant._meta.primary_key == restaurant_id).first()


async def get_restaurant(slug: str) -> Restaurant | None:
    if "\x00" in slug:  # Postgres refuses NUL in text: no such restaurant, not a 500
        return None
    return await Restaurant.objects().get(Restaurant.slug == slug)


def _card(row: dict[str, Any], sold_out: Collection[int] = (),
          sold_out_options: Collection[int] = (),
          unseen_refunds: Mapping[str, list[Any]] | None = None) -> Card:
    """A ticket from `board_query` columns (plus its `lines` and `refunds`), its lines marked
    where they hold a dish (`sold_out`) or an option (`sold_out_options`) 86'd now, and
    where units of them were refunded that no cook has acknowledged yet (`unseen_refunds`:
    the item refunds' notices, by ref)."""
    refunded = refunded_units(row.pop("refunds", None) or [])
    unseen = refunded_units((unseen_refunds or {}).get(row["public_id"]) or [])
    lines = []
    raw_lines = row.pop("lines")
    noted = bool(row.get("allergy")) or any(line.get("allergy") for line in raw_lines)
    for line in raw_lines:
        modifiers = tuple(modifiers_of(line.get("modifiers")))
        back = min(line["quantity"], refunded.get(line.get("id") or 0, 0))
        contained: list[str] = []
        matches: list[str] = []
        if noted:  # only an order with an allergy note gets the check
            codes = [*(line.get("allergens") or ()),
                     *(code for modifier in modifiers for code in modifier.allergens)]
            contained = english(codes)
            matches = english(allergy_match.matching(
                codes, (row.get("allergy") or "", line.get("allergy") or "")))
        lines.append(_sold_out(
            Line(name=line["name"], quantity=line["quantity"], notes=line["notes"],
                 allergy=line.get("allergy") or "", modifiers=modifiers, refunded=back,
                 refund_new=min(back, unseen.get(line.get("id") or 0, 0)),
                 allergens=tuple(contained), allergy_matches=tuple(matches)),
            row["status"], line.get("menu_item"), sold_out, sold_out_options))
    return Card(ref=row.pop("public_id"), lines=lines,
                refund_unseen=any(line.refund_new for line in lines), **row)


def _sold_out(line: Line, status: str, menu_item: int | None, sold_out: Collection[int],
              sold_out_options: Collection[int]) -> Line:
    """`line` marked with what of it is 86'd, when the kitchen still has it to make (a ticket
    not ready yet, units not refunded). The order keeps the line, paid: the cook decides
    (call the diner, refund it); the mark only stops them finding out at the pass."""
    if status not in TO_COOK or not line.left or not (sold_out or sold_out_options):
        return line
    options = tuple(modifier.name for modifier in line.modifiers
                    if modifier.option is not None and modifier.option in sold_out_options)
    dish = menu_item is not None and menu_item in sold_out
    return replace(line, dish_sold_out=dish, options_sold_out=options) if dish or options \
        else line


def _finish(cards: list[Card], restaurant: Restaurant, now: datetime) -> None:
    zone = _zone(restaurant.timezone)
    for card in cards:
        card.due_at = due_at(card, restaurant.default_prep_minutes)
        card.sort_key = screen_sort_key(card, restaurant.default_prep_minutes)
        prep = timedelta(minutes=card.prep_minutes or restaurant.default_prep_minutes)
        start = card.started_at if card.status == "paid" or card.promised_at is None else (
            card.promised_at - prep)
        card.timing = timing(start, card.due_at, now)
        card.late_minutes = late_minutes(card.due_at, now)
        card.local_due = card.due_at.astimezone(zone)
        card.local_slot = card.scheduled_for.astimezone(zone) if card.scheduled_for else None
        if card.status == "paid" and restaurant.auto_reject_minutes > 0:
            card.auto_reject_at = card.started_at + timedelta(
                minutes=restaurant.auto_reject_minutes)
        if card.local_slot is not None and card.status == "paid":
            prep_default = restaurant.default_prep_minutes + restaurant.busy_minutes
            card.slot_hint = slot_hint(prep_default, card.minutes_after_slot_with(
                prep_default, now), card.local_slot)


def slot_hint(prep_minutes: int, minutes_after: int, local_slot: datetime) -> str:
    """What Accept with `prep_minutes` would promise a booked ticket `minutes_after` its slot
    ("" when in time). static/js/kitchen-slot.js words it the same as the cook types."""
    if minutes_after <= 0:
        return ""
    ready = format_time(local_slot + timedelta(minutes=minutes_after))
    return (f"With {prep_minutes} min: ready {ready}, {minutes_after} min after the "
            f"{format_time(local_slot)} slot")


def accept_outcome(card: Card) -> str:
    """For the cook who accepted a booked ticket with a prep time that runs past its slot:
    the time the diner has been told instead ("" when the slot holds). The same time as the
    accept email and the status page (`promised_at`, on the restaurant's clock)."""
    if not card.minutes_after_slot or card.local_due is None or card.local_slot is None:
        return ""
    ready, slot = format_time(card.local_due), format_time(card.local_slot)
    return (f"#{card.ticket_number} will be ready at {ready}, {card.minutes_after_slot} min "
            f"after its {slot} slot: the diner has been told {ready}.")


async def _read(restaurant: Restaurant, now: datetime, *, refs: list[str] | None = None
                ) -> tuple[list[Card], Board]:
    rows = await read_board(row_id(restaurant), statuses=list(ACTIVE_STATUSES), refs=refs,
                            to_cook=TO_COOK, recall_since=now - RECALL_WINDOW)
    # the tickets whose item refunds' notices are up are marked from those notices
    unseen = {notice.ref: notice.items for notice in rows.notices if notice.items}
    cards = [_card(ticket, rows.sold_out, rows.sold_out_options, unseen)
             for ticket in rows.tickets]
    _finish(cards, restaurant, now)
    active = [card for card in cards if card.status in ACTIVE_STATUSES and card.on_board]
    board = Board(restaurant_id=row_id(restaurant), slug=restaurant.slug, name=restaurant.name,
                  default_prep_minutes=restaurant.default_prep_minutes,
                  cards=prioritise(active, now, restaurant.default_prep_minutes),
                  all_day=all_day_counts(rows.all_day), recall=rows.recall,
                  generated_at=now, new_count=rows.new_count, timezone=restaurant.timezone,
                  notices=rows.notices,
                  sold_out=[*rows.sold_out.values(), *rows.sold_out_options.values()],
                  paused_until=restaurant.paused_until
                  if is_paused(restaurant.paused_until, now) else None,
                  busy_minutes=restaurant.busy_minutes,
                  auto_reject_minutes=restaurant.auto_reject_minutes,
                  scheduled=rows.scheduled, live=restaurant.live_since is not None)
    return cards, board


async def board(restaurant: Restaurant, now: datetime | None = None) -> Board:
    """Everything a kitchen screen shows, read fresh from Postgres."""
    return (await _read(restaurant, now or datetime.now(UTC)))[1]


@dataclass
class Changes:
    """What a burst of order events changed on a board: the tickets named (active ones as
    cards, the rest as refs that leave the board) and the board-wide panels (all-day counts,
    recall, how many tickets are new). Small, so it can go to every screen at once."""

    board: Board  # `cards` holds only the changed tickets that are still active
    gone: list[str]


async def changes(restaurant: Restaurant, refs: list[str],
                  now: datetime | None = None) -> Changes:
    """The named tickets of this restaurant and the board-wide panels, fresh from Postgres."""
    _cards, board = await _read(restaurant, now or datetime.now(UTC), refs=refs)
    shown = {card.ref for card in board.cards}
    return Changes(board=board, gone=[ref for ref in refs if ref not in shown])


async def card(restaurant: Restaurant, order_ref: str) -> Card | None:
    """One ticket of this restaurant (any status), or None."""
    if "\x00" in order_ref:  # Postgres refuses NUL in text: no such ticket, not a 500
        return None
    cards, _board = await _read(restaurant, datetime.now(UTC), refs=[order_ref])
    return cards[0] if cards else None


# The reject dialog's reasons (the cook's words, which the diner reads), and the one with which
# the cook may name the dishes sold out (`sold_out_reason`).
SOLD_OUT_CHOICE = "An item is sold out"
REJECT_CHOICES = ("Too busy right now", SOLD_OUT_CHOICE, "Closing soon")


class SoldOutRefused(ValueError):
    """Dishes named sold out that the reject cannot say (HTTP 400): not the order's, or
    named with another reason."""


async def sold_out_reason(restaurant: Restaurant, order_ref: str, reason: str,
                          dishes: list[str]) -> str:
    """The reject reason when the cook named `dishes` sold out: "Sold out: Tiramisu" (the
    diner is told which, `reject_reasons.said`), the dishes in the order's own line order.
    No dishes: `reason` as given. Raises `SoldOutRefused` for a dish not on the order or a
    reason other than the sold-out one (the diner would read two stories). An order not of
    this restaurant has no dishes to check: `reason` as given (the action then says 404)."""
    if not dishes:
        return reason
    if reason.strip() not in ("", SOLD_OUT_CHOICE):
        raise SoldOutRefused(f"dishes sold out can only be named with the reason "
                             f"{SOLD_OUT_CHOICE!r}; nothing was done")
    rows = await OrderItem.select(OrderItem.name).where(
        (OrderItem.paid_order.public_id == order_ref)
        & (OrderItem.paid_order.restaurant == row_id(restaurant))).order_by(OrderItem.id)
    if not rows:
        return reason
    names = list(dict.fromkeys(row["name"] for row in rows))
    foreign = [dish for dish in dict.fromkeys(dishes) if dish not in names]
    if foreign:  # a few, shortened: the answer must not echo whatever was posted
        said = [name if len(name) <= 60 else name[:59] + "…" for name in foreign[:2]]
        more = f" and {len(foreign) - 2} more" if len(foreign) > 2 else ""
        raise SoldOutRefused(f"not on this order: {', '.join(said)}{more}; nothing was done")
    return reject_reasons.sold_out([name for name in names if name in dishes])


def row_id(row: Table) -> int:
    """A Piccolo row's primary key (its `id` column is implicit, so typing cannot see it)."""
    return int(getattr(row, row._meta.primary_key._meta.name))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


async def reject_outcome(order: PaidOrder) -> str:
    """What a reject did to the diner's money, for the screen of the cook who rejected. After
    an earlier partial refund the press refunded only what was left: it says so, and the
    total back (the card's dialog said the same before the press)."""
    amount = format_money(order.total_amount, order.currency)
    head = f"#{order.ticket_number} rejected"
    if order.status == "voided":
        return f"{head}: card hold of {amount} released, nothing was charged."
    if order.status == "refunded":
        refunds = await OrderRefund.select(OrderRefund.amount).where(
            OrderRefund.paid_order == order.id).order_by(OrderRefund.id)
        if len(refunds) > 1:
            rest = format_money(refunds[-1]["amount"], order.currency)
            return (f"{head}: the remaining {rest} refunded to the customer ({amount} back in "
                    "total).")
        return f"{head}: {amount} refunded to the customer."
    owed = format_money(order.total_amount - order.amount_refunded, order.currency)
    if order.capture_mode == "manual" and order.accepted_at is None:  # a hold, never a refund
        if order.settlement_stopped_at is not None:
            return (f"{head}: the card hold of {owed} cannot be released automatically; it is "
                    "queued in admin for a person to settle. Nothing was charged.")
        return (f"{head}: the card hold of {owed} is not released yet; it is retried "
                "automatically. Nothing was charged.")
    if order.settlement_stopped_at is not None:
        return (f"{head}: {owed} cannot be refunded automatically; it is queued in admin "
                "for a person to settle.")
    return (f"{head}: the refund of {owed} has not gone through yet; it is retried "
            "automatically and shows in admin if it keeps failing.")


async def refused_accept(restaurant: Restaurant, order_ref: str, prep_minutes: int | None,
                         refusal: str) -> str:
    """Why an accept was refused, for the cook who pressed it. Another screen accepted the
    order first: the promise the diner got is that screen's, so the cook is told it and
    that their own prep time was not used (else they cook to a time nobody promised)."""
    order = await PaidOrder.objects().get(
        (PaidOrder.public_id == order_ref) & (PaidOrder.restaurant == row_id(restaurant)))
    if order is None or order.promised_at is None or order.status not in ACTIVE_STATUSES:
        return refusal
    promised = local_clock(order.promised_at, restaurant.timezone)
    minutes = f" ({order.prep_minutes} min)" if order.prep_minutes else ""
    yours = (f"; your {prep_minutes} min were not used" if prep_minutes
             and prep_minutes != order.prep_minutes else "")
    return f"{refusal.rstrip('.')}. It is promised for {promised}{minutes}{yours}."
