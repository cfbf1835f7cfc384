"""The kitchen's own controls over what diners can order, from the kitchen screen: mark an
item sold out ("86") and back, pause new orders for a while, add busy minutes to every prep
estimate; and acknowledging the notice an auto-rejected order leaves on the board.

Each change is written to Postgres, then announced on the restaurant's kitchen channel (every
screen re-reads the whole board, which shows the state) and on its menu channel (every open
menu page re-reads availability). Like order events, the messages carry no data: a lost one
costs freshness until the next change or reconnect, never correctness, because intake checks
availability, pause and prices against Postgres for every order.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from app.infra.db import fetch
from app.infra.form_input import ascii_int
from app.infra.jobs import JobSpec, enqueue_jobs
from app.infra.logging import get_logger
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.live.feed import channel_name, encode_event, kitchen_channel
from app.orders import sold_out_links
from app.orders.tables import OrderItem, PaidOrder
from app.restaurants.availability import BUSY_CHOICES, PAUSE_CHOICES
from app.restaurants.hours import quoted
from app.restaurants.tables import MenuItem, Restaurant
from app.templating import zone

log = get_logger("orderpass.kitchen.floor")

MENU_EVENT = "menu.changed"
NOTICE_EVENT = "notice.acknowledged"
ALARM_EVENT = "alarm.acknowledged"
# At most this many tickets in one acknowledgement: more new orders than a board shows.
ALARM_REFS_MAX = 100
PUBLISH_TIMEOUT_S = 2.0


class ControlError(ValueError):
    """A control the kitchen cannot apply (unknown item, a duration not offered): HTTP 400."""


def menu_channel(restaurant_id: int) -> str:
    return channel_name("menu", restaurant_id)


async def _publish(redis: Redis, messages: list[tuple[str, bytes]], *, restaurant_id: int,
                   event: str) -> None:
    """(channel, payload) pairs in one round trip; best effort, like every board message:
    a screen or menu page re-reads on reconnect."""
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for channel, payload in messages:
                pipe.publish(channel, payload)
            await asyncio.wait_for(pipe.execute(), PUBLISH_TIMEOUT_S)
    except Exception as error:
        log.warning("floor change not announced", restaurant_id=restaurant_id, event_name=event,
                    error=str(error)[:200])


async def announce(redis: Redis, restaurant_id: int, event: str) -> None:
    """Tell the restaurant's kitchen screens and menu pages to re-read; best effort."""
    payload = encode_event(restaurant_id, "", event)  # no ref: screens re-read the board
    await _publish(redis, [(kitchen_channel(restaurant_id), payload),
                           (menu_channel(restaurant_id), payload)],
                   restaurant_id=restaurant_id, event=event)


def _id(restaurant: Restaurant) -> int:
    return int(restaurant.id)


async def set_item_available(redis: Redis, restaurant: Restaurant, item_id: int,
                             available: bool, *, actor: str) -> MenuItem:
    changed = await MenuItem.update({MenuItem.available: available}).where(
        (MenuItem.id == item_id) & (MenuItem.restaurant == _id(restaurant))).returning(
        MenuItem.id)
    if not changed:
        raise ControlError(f"no menu item {item_id} at {restaurant.name}")
    item = await MenuItem.objects().get(MenuItem.id == item_id)
    assert item is not None
    log.info("menu item 86'd" if not available else "menu item back on", actor=actor,
             restaurant=restaurant.slug, item=item.name)
    await announce(redis, _id(restaurant), MENU_EVENT)
    if not available:
        await close_links_holding(redis, _id(restaurant), item.name, item_id=item_id)
    return item


async def sell_out_order_dishes(redis: Redis, restaurant: Restaurant, order_ref: str,
                                dishes: list[str], *, actor: str) -> list[str]:
    """A reject for dishes the kitchen ran out of, with "mark them sold out" ticked: each of
    the order's dishes named is 86'd on the menu as `set_item_available` does (screens and
    menus told, open links holding it closed), so the next diner cannot pay for it too.
    Returns the names now sold out, in the order's line order (one already out: not again)."""
    rows = await OrderItem.select(OrderItem.name, OrderItem.menu_item).where(
        (OrderItem.paid_order.public_id == order_ref)
        & (OrderItem.paid_order.restaurant == _id(restaurant))).order_by(OrderItem.id)
    named = {row["name"]: row["menu_item"] for row in rows
             if row["name"] in dishes and row["menu_item"] is not None}
    available = {row["id"] for row in await MenuItem.select(MenuItem.id).where(
        MenuItem.id.is_in(list(named.values()) or [0]) & (MenuItem.restaurant == _id(restaurant))
        & (MenuItem.available == True))}  # noqa: E712 - Piccolo's column comparison
    sold_out = []
    for name, item_id in named.items():
        if item_id in available:
            await set_item_available(redis, restaurant, item_id, False, actor=actor)
            available.discard(item_id)  # two lines of one dish: once
            sold_out.append(name)
    return sold_out


# The option must belong to a dish of this restaurant: the join is the isolation check.
_SET_OPTION_AVAILABLE = """
UPDATE modifier_option o SET available = $3
FROM modifier_group g JOIN menu_item m ON m.id = g.menu_item
WHERE o.id = $1 AND o.modifier_group = g.id AND m.restaurant = $2
RETURNING o.name AS option, m.name AS item
"""


async def set_option_available(redis: Redis, restaurant: Restaurant, option_id: int,
                               available: bool, *, actor: str) -> str:
    """86 one option of a dish (out of olives, not of pizza) or bring it back; its name."""
    rows = await fetch(_SET_OPTION_AVAILABLE, option_id, _id(restaurant), available)
    if not rows:
        raise ControlError(f"no option {option_id} at {restaurant.name}")
    log.info("menu option 86'd" if not available else "menu option back on", actor=actor,
             restaurant=restaurant.slug, item=rows[0]["item"], option=rows[0]["option"])
    await announce(redis, _id(restaurant), MENU_EVENT)
    if not available:
        await close_links_holding(redis, _id(restaurant),
                                  f"{rows[0]['option']} ({rows[0]['item']})",
                                  option_id=option_id)
    return str(rows[0]["option"])


async def close_links_holding(redis: Redis, restaurant_id: int, dish: str, *,
                              item_id: int | None = None, option_id: int | None = None
                              ) -> None:
    """Queue the worker's closing of the open payment links that hold what was just 86'd,
    here or in the owner's dish editor (`app.orders.sold_out_links`). Best effort: the 86
    itself is done and shown; a link missed is paid and the kitchen decides, as before."""
    job = JobSpec(sold_out_links.JOB, (restaurant_id, dish, item_id, option_id),
                  job_id=f"sold-out:{restaurant_id}:{item_id}:{option_id}:{time.time_ns()}")
    try:
        await enqueue_jobs(redis, [job])  # type: ignore[arg-type]
    except DEPENDENCY_ERRORS as error:
        log.warning("open links with a sold-out dish not queued for closing", dish=dish,
                    restaurant_id=restaurant_id, error=str(error)[:200])


def pause_end(choice: str, restaurant: Restaurant, now: datetime) -> datetime | None:
    """When a pause chosen as `choice` ends: N minutes from now, the end of the restaurant's
    day ("today"), or None for "resume now"."""
    if choice in ("", "0", "resume"):
        return None
    if choice == "today":
        local = now.astimezone(zone(restaurant.timezone))
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                       microsecond=0)
        return midnight.astimezone(UTC)
    # ASCII digits only: "²" and 5,000 digits passed isdigit() and failed int() (a 500)
    minutes = ascii_int(choice)
    if minutes is not None and minutes in PAUSE_CHOICES:
        return now + timedelta(minutes=minutes)
    raise ControlError(f"pause for {quoted(choice)}? choose "
                       f"{', '.join(map(str, PAUSE_CHOICES))} minutes, today, or resume")


async def pause_orders(redis: Redis, restaurant: Restaurant, choice: str, *,
                       actor: str) -> datetime | None:
    until = pause_end(choice, restaurant, datetime.now(UTC))
    await Restaurant.update({Restaurant.paused_until: until}).where(
        Restaurant.id == _id(restaurant))
    log.info("new orders paused" if until else "new orders resumed", actor=actor,
             restaurant=restaurant.slug, until=until.isoformat() if until else None)
    await announce(redis, _id(restaurant), MENU_EVENT)
    return until


async def set_busy(redis: Redis, restaurant: Restaurant, minutes: str, *, actor: str) -> int:
    value = ascii_int(minutes)
    if value is None or value not in BUSY_CHOICES:
        raise ControlError(f"busy time {quoted(minutes)}? choose one of "
                           f"{', '.join(map(str, BUSY_CHOICES))} minutes")
    await Restaurant.update({Restaurant.busy_minutes: value}).where(
        Restaurant.id == _id(restaurant))
    log.info("busy prep time set", actor=actor, restaurant=restaurant.slug, minutes=value)
    await announce(redis, _id(restaurant), MENU_EVENT)
    return value


async def acknowledge_notice(redis: Redis, restaurant: Restaurant, order_ref: str | None, *,
                             actor: str) -> int:
    """The kitchen saw that `order_ref` (or, with None, every order) was auto-rejected,
    refunded in full while on the board, or had items refunded while being made: the notice
    (and the ticket's mark) leaves every screen. Returns how many notices were
    acknowledged."""
    now = datetime.now(UTC)
    which = (PaidOrder.restaurant == _id(restaurant)) & (
        (PaidOrder.auto_rejected == True)  # noqa: E712 - SQL, not Python
        | (PaidOrder.refund_notice == True)  # noqa: E712
    ) & PaidOrder.notice_acknowledged_at.is_null()
    if order_ref is not None:
        which &= PaidOrder.public_id == order_ref
    done = await PaidOrder.update({PaidOrder.notice_acknowledged_at: now}).where(
        which).returning(PaidOrder.public_id)
    refs = [str(row["public_id"]) for row in done]
    # The refunds of items the kitchen was told of (`order_refund.kitchen_notice`): the
    # order's notice above, when it has one, said it all; acknowledged with it.
    items = await fetch(
        "UPDATE order_refund f SET notice_acknowledged_at = $3 FROM paid_order o "
        "WHERE o.id = f.paid_order AND o.restaurant = $1 "
        "AND ($2::text IS NULL OR o.public_id = $2) "
        "AND f.kitchen_notice AND f.notice_acknowledged_at IS NULL RETURNING o.public_id",
        _id(restaurant), order_ref, now)
    refs += [ref for ref in dict.fromkeys(str(row["public_id"]) for row in items)
             if ref not in refs]
    for ref in refs:
        log.info("kitchen notice acknowledged", order_id=ref, actor=actor)
    if refs:
        await announce(redis, _id(restaurant), NOTICE_EVENT)
    return len(refs)


async def acknowledge_alarm(redis: Redis, restaurant: Restaurant, refs: list[str], *,
                            actor: str) -> list[str]:
    """A cook stopped the new-order alarm for the new tickets `refs` their screen showed: it
    stops on every screen of the restaurant (their tickets are re-sent, marked acknowledged),
    and a screen opened later does not ring for them. Only the screen's own refs: an order
    that arrived as the cook pressed still rings. Returns the refs acknowledged now."""
    if len(refs) > ALARM_REFS_MAX:
        raise ControlError(f"at most {ALARM_REFS_MAX} orders at once")
    rows = await fetch(
        "UPDATE paid_order SET alarm_acknowledged_at = now() WHERE restaurant = $1 "
        "AND public_id = ANY($2::text[]) AND status = 'paid' AND alarm_acknowledged_at IS NULL "
        "RETURNING public_id", _id(restaurant), refs)
    done = [str(row["public_id"]) for row in rows]
    for ref in done:
        log.info("new-order alarm acknowledged", order_id=ref, actor=actor)
    if done:  # each ticket re-sent to every screen, marked acknowledged
        channel = kitchen_channel(_id(restaurant))
        await _publish(redis, [(channel, encode_event(_id(restaurant), ref, ALARM_EVENT))
                               for ref in done], restaurant_id=_id(restaurant), event=ALARM_EVENT)
    return done
