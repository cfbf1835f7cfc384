"""The unpaid orders this browser has open, so the menu can point back to them: a diner who
ordered and pressed the back button landed on an empty basket, with no way back to the order
waiting for payment.

Why a cookie of order ids, set by the order's status page: the status page's address is the
diner's capability (whoever holds it may see and pay the order), so a browser that has been
shown that page may be shown the way back to it, and no other: the cookie only ever names
orders this browser opened, and the menu names only those of its own restaurant. There are
no diner sessions to hang it on, and none is added: the cookie is the whole state. HttpOnly
and SameSite=Lax (no script or other site reads or sends it); it lives as long as an unpaid
order can (temp orders' TTL), and an order leaves it once it is paid, expired or gone,
whichever page sees that first.

A diner who went back and forth may have placed the same order twice and paid the later one:
the older one then kept asking to be paid (outside try). So a paid order's id stays while the
cookie names another order (its page may be an unpaid twin's), the menu keeps it only while it
is one, and an unpaid order with a later paid twin (same restaurant, same lines) is not
pointed to; its status page says the twin was paid (`paid_twin`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from litestar.datastructures import Cookie
from redis.asyncio import Redis

from app.orders.models import OrderStatus, OrderView
from app.orders.temp_store import is_temp_id
from app.orders.views import load_order_views
from app.settings import get_settings

COOKIE = "open_orders"
MAX_KEPT = 5  # a cookie stays small, and the menu reads at most this many orders
# Unpaid, and the diner can still pay it (a failed payment gets a new link on its page).
WAITING = (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAYMENT_FAILED)


def _ids(value: str) -> list[str]:
    """The order ids a cookie holds, oldest first; anything else in it is ignored."""
    ids = [part for part in value.split(".") if is_temp_id(part)]
    return list(dict.fromkeys(ids))[-MAX_KEPT:]


def _waiting(view: OrderView | None, now: datetime) -> bool:
    return (view is not None and not view.is_paid and view.status in WAITING
            and not (view.expires_at is not None and view.expires_at <= now))


# Paid and not turned back: a twin paid in these states is an order the diner has.
_PAID_KEPT = (OrderStatus.PAID, OrderStatus.ACCEPTED, OrderStatus.PREPARING, OrderStatus.READY,
              OrderStatus.COMPLETED)


def _dishes(view: OrderView) -> list[tuple[object, ...]]:
    """What an order's lines ask for, in any order: the same dishes, options, notes."""
    return sorted((line.menu_item_id or 0, line.name, line.quantity, line.notes, line.allergy,
                   tuple((mod.group, mod.name) for mod in line.modifiers))
                  for line in view.lines)


def _twin(unpaid: OrderView, paid: OrderView) -> bool:
    """`paid` is a later order of the same dishes at the same restaurant, paid."""
    return (paid.id != unpaid.id and paid.is_paid and paid.status in _PAID_KEPT
            and paid.restaurant_id == unpaid.restaurant_id
            and paid.submitted_at > unpaid.submitted_at and _dishes(paid) == _dishes(unpaid))


def _twin_of(unpaid: OrderView, views: Iterable[OrderView]) -> OrderView | None:
    twins = [view for view in views if _twin(unpaid, view)]
    return max(twins, key=lambda view: view.submitted_at) if twins else None


async def paid_twin(redis: Redis, cookie: str, view: OrderView) -> OrderView | None:
    """For an order waiting for payment: the later order of the same dishes this browser has
    paid at the same restaurant, if any (read from the cookie's orders, at most MAX_KEPT)."""
    if not _waiting(view, datetime.now(UTC)):
        return None
    others = [ref for ref in _ids(cookie) if ref != view.id]
    if not others:
        return None
    return _twin_of(view, (await load_order_views(redis, others)).values())


def _cookies(before: str, ids: list[str]) -> list[Cookie]:
    """The cookie to send when it changes ([] when it does not); an empty one is removed."""
    value = ".".join(ids)
    if value == before:
        return []
    settings = get_settings()
    return [Cookie(key=COOKIE, value=value or None, path="/", httponly=True, samesite="lax",
                   secure=settings.is_production,
                   max_age=settings.temp_order_ttl_hours * 3600 if value else 0)]


def on_status_page(cookie: str, view: OrderView) -> list[Cookie]:
    """Its status page remembers an order while it waits for payment, and forgets it after;
    a paid one stays while the cookie names others (an unpaid twin's page reads it)."""
    ids = [ref for ref in _ids(cookie) if ref != view.id]
    if _waiting(view, datetime.now(UTC)) or (ids and view.is_paid
                                              and view.status in _PAID_KEPT):
        ids = [*ids, view.id][-MAX_KEPT:]
    return _cookies(cookie, ids)


@dataclass(frozen=True)
class Waiting:
    order: OrderView | None  # the latest order waiting for payment at this restaurant
    cookies: list[Cookie] = field(default_factory=list)  # the cookie without finished ones


async def waiting_at(redis: Redis, cookie: str, restaurant_slug: str) -> Waiting:
    """The newest of this browser's orders still waiting for payment at the restaurant and
    not paid since as a twin (at most MAX_KEPT reads: one query, one MGET); the cookie loses
    those no longer waiting, and the paid ones that are no waiting order's twin."""
    ids = _ids(cookie)
    if not ids:
        return Waiting(None, _cookies(cookie, []))
    views = await load_order_views(redis, ids)
    now = datetime.now(UTC)
    waiting = [views[ref] for ref in ids if _waiting(views.get(ref), now)]
    twins = {view.id: _twin_of(view, views.values()) for view in waiting}
    shadowing = {twin.id for twin in twins.values() if twin is not None}
    kept = [ref for ref in ids if ref in shadowing or any(ref == view.id for view in waiting)]
    here = [view for view in waiting
            if view.restaurant_slug == restaurant_slug and twins[view.id] is None]
    return Waiting(here[-1] if here else None, _cookies(cookie, kept))
