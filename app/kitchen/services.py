"""Read models for kitchen screens: the board (active tickets in priority order, "all day"
counts, the last completed ticket to recall), one ticket, and an order's public status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from piccolo.table import Table
from redis.asyncio import Redis

from app.kitchen.priority import due_at, prioritise, screen_sort_key, timing
from app.orders.lifecycle import ACTIVE_STATUSES, ALLOWED, RECALL_WINDOW, STAFF_ACTIONS
from app.orders.tables import OrderItem, PaidOrder
from app.orders.temp_store import TempOrderStore, is_temp_id
from app.restaurants.tables import Restaurant
from app.settings import get_settings


@dataclass(frozen=True)
class Line:
    name: str
    quantity: int
    notes: str


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
    lines: list[Line] = field(default_factory=list)
    due_at: datetime | None = None
    timing: str = "on_time"
    local_due: datetime | None = None
    sort_key: str = ""  # where a screen places this ticket (priority.screen_sort_key)

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


TO_COOK = [status for status in ACTIVE_STATUSES if status != "ready"]  # "all day" counts these


@dataclass
class Board:
    restaurant_id: int
    slug: str
    name: str
    default_prep_minutes: int
    cards: list[Card]
    all_day: list[tuple[str, int]]
    recall: Card | None
    generated_at: datetime
    counted_new: int | None = None  # when `cards` is not the whole board

    @property
    def new_count(self) -> int:
        if self.counted_new is not None:
            return self.counted_new
        return sum(1 for card in self.cards if card.status == "paid")


async def restaurant_by_id(restaurant_id: int) -> Restaurant | None:
    return await Restaurant.objects().where(
        Restaurant._meta.primary_key == restaurant_id).first()


async def get_restaurant(slug: str) -> Restaurant | None:
    if "\x00" in slug:  # Postgres refuses NUL in text: no such restaurant, not a 500
        return None
    return await Restaurant.objects().get(Restaurant.slug == slug)


def _card(row: PaidOrder, lines: list[Line]) -> Card:
    return Card(
        ref=row.public_id, ticket_number=row.ticket_number, status=row.status,
        fulfillment=row.fulfillment, customer_name=row.customer_name,
        customer_phone=row.customer_phone, table_label=row.table_label,
        delivery_address=row.delivery_address, notes=row.notes,
        total_amount=row.total_amount, currency=row.currency, paid_at=row.paid_at,
        promised_at=row.promised_at, prep_minutes=row.prep_minutes,
        needs_review=row.needs_review, review_reason=row.review_reason,
        reject_reason=row.reject_reason, lines=lines)


async def _cards(orders: list[PaidOrder]) -> list[Card]:
    if not orders:
        return []
    items = await OrderItem.objects().where(
        OrderItem.paid_order.is_in([order.id for order in orders])).order_by(OrderItem.id)
    by_order: dict[int, list[Line]] = {}
    for item in items:
        by_order.setdefault(item.paid_order, []).append(
            Line(name=item.name, quantity=item.quantity, notes=item.notes))
    return [_card(order, by_order.get(order.id, [])) for order in orders]


def _finish(cards: list[Card], restaurant: Restaurant, now: datetime) -> None:
    zone = _zone(restaurant.timezone)
    for card in cards:
        card.due_at = due_at(card, restaurant.default_prep_minutes)
        card.sort_key = screen_sort_key(card, restaurant.default_prep_minutes)
        prep = timedelta(minutes=card.prep_minutes or restaurant.default_prep_minutes)
        start = card.paid_at if card.status == "paid" or card.promised_at is None else (
            card.promised_at - prep)
        card.timing = timing(start, card.due_at, now)
        card.local_due = card.due_at.astimezone(zone)


async def board(restaurant: Restaurant, now: datetime | None = None) -> Board:
    """Everything a kitchen screen shows, read fresh from Postgres."""
    now = now or datetime.now(UTC)
    orders = await PaidOrder.objects().where(
        (PaidOrder.restaurant == row_id(restaurant))
        & PaidOrder.status.is_in(list(ACTIVE_STATUSES)))
    cards = await _cards(orders)
    _finish(cards, restaurant, now)
    cards = prioritise(cards, now, restaurant.default_prep_minutes)
    counts: Counter[str] = Counter()
    for card in cards:
        if card.status in TO_COOK:
            for line in card.lines:
                counts[line.name] += line.quantity
    return Board(restaurant_id=row_id(restaurant), slug=restaurant.slug, name=restaurant.name,
                 default_prep_minutes=restaurant.default_prep_minutes, cards=cards,
                 all_day=_sorted_counts(counts), recall=await _recall(restaurant, now),
                 generated_at=now)


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
    now = now or datetime.now(UTC)
    restaurant_id = row_id(restaurant)
    orders = await PaidOrder.objects().where(
        (PaidOrder.restaurant == restaurant_id) & PaidOrder.public_id.is_in(refs)) if refs else []
    active = [order for order in orders if order.status in ACTIVE_STATUSES]
    cards = await _cards(active)
    _finish(cards, restaurant, now)
    shown = {card.ref for card in cards}
    open_rows = await OrderItem.raw(
        "SELECT i.name, sum(i.quantity)::int AS count FROM paid_order o JOIN order_item i "
        "ON i.paid_order = o.id WHERE o.restaurant = {} AND o.status = ANY({}) "
        "GROUP BY i.name", restaurant_id, TO_COOK)
    new_count = await PaidOrder.count().where(
        (PaidOrder.restaurant == restaurant_id) & (PaidOrder.status == "paid"))
    board = Board(restaurant_id=restaurant_id, slug=restaurant.slug, name=restaurant.name,
                  default_prep_minutes=restaurant.default_prep_minutes,
                  cards=prioritise(cards, now, restaurant.default_prep_minutes),
                  all_day=_sorted_counts(Counter({row["name"]: row["count"]
                                                  for row in open_rows})),
                  recall=await _recall(restaurant, now), generated_at=now,
                  counted_new=new_count)
    return Changes(board=board, gone=[ref for ref in refs if ref not in shown])


def _sorted_counts(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


async def _recall(restaurant: Restaurant, now: datetime) -> Card | None:
    """The last ticket completed within the recall window (undo a mistaken bump)."""
    last = await PaidOrder.objects().where(
        (PaidOrder.restaurant == row_id(restaurant)) & (PaidOrder.status == "completed")
        & (PaidOrder.completed_at >= now - RECALL_WINDOW)
    ).order_by(PaidOrder.completed_at, ascending=False).first()
    return (await _cards([last]))[0] if last is not None else None


async def card(restaurant: Restaurant, order_ref: str) -> Card | None:
    """One ticket of this restaurant (any status), or None."""
    order = await PaidOrder.objects().get(
        (PaidOrder.public_id == order_ref) & (PaidOrder.restaurant == row_id(restaurant)))
    if order is None:
        return None
    result = (await _cards([order]))[0]
    _finish([result], restaurant, datetime.now(UTC))
    return result


async def order_status(order_ref: str, redis: Redis) -> dict[str, object] | None:
    """What the public status stream may say about an order: status and timing only.
    Paid orders come from Postgres; an order still awaiting payment from the temp store."""
    if "\x00" in order_ref:  # Postgres refuses NUL in text: no such order, not a 500
        return None
    order = await PaidOrder.objects().get(PaidOrder.public_id == order_ref)
    if order is None:
        if not is_temp_id(order_ref):
            return None
        temp = await TempOrderStore(redis, get_settings().temp_order_ttl_hours * 3600).get(
            order_ref)
        if temp is None:
            return None
        return {"id": temp.id, "status": temp.status, "ticket_number": None,
                "prep_minutes": None, "promised_at": None,
                "updated_at": temp.updated_at.isoformat() if temp.updated_at else None}
    return {
        "id": order.public_id, "status": order.status, "ticket_number": order.ticket_number,
        "prep_minutes": order.prep_minutes,
        "promised_at": order.promised_at.isoformat() if order.promised_at else None,
        "updated_at": order.updated_at.isoformat() if order.updated_at else None,
    }


def row_id(row: Table) -> int:
    """A Piccolo row's primary key (its `id` column is implicit, so typing cannot see it)."""
    return int(getattr(row, row._meta.primary_key._meta.name))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")
