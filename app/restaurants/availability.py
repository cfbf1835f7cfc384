"""Whether a restaurant takes orders now and how long they take: the kitchen's pause and
busy controls as the menu, intake and the kitchen board all read them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

PAUSE_CHOICES = (15, 30, 60)  # minutes a kitchen can pause new orders for, from its screen
BUSY_CHOICES = (0, 10, 20, 30)  # minutes a busy kitchen adds to every prep estimate


def is_paused(paused_until: datetime | None, now: datetime | None = None) -> bool:
    return paused_until is not None and paused_until > (now or datetime.now(UTC))


# What an open menu's form shows of each dish and of the restaurant, besides availability:
# an owner's price, name or option change (or new hours: "as soon as possible" or not)
# refreshes open menus too, so the button's total is what checkout will ask for.
_ITEM_FIELDS = ("category", "name", "description", "price_amount", "position", "tax_rate",
                "allergens", "photo_id")
_RESTAURANT_FIELDS = ("currency", "tax_mode", "default_tax_rate", "tips_enabled",
                      "weekly_hours", "schedule_days", "slot_capacity", "default_prep_minutes")


def menu_state(restaurant: Any, items: Iterable[Any], groups: Mapping[int, Iterable[Any]],
               now: datetime | None = None) -> str:
    """A short fingerprint of what a diner can order now and at what price (sold-out items
    and options, pause, busy time, every dish and option as the menu shows it, the
    restaurant's money and hours settings): an open menu page compares it with the live
    feed's to know whether to refresh. `groups`: each item's modifier groups (GroupView) by
    item id."""
    items = sorted(items, key=lambda item: item.id)
    sold_out = ",".join(str(item.id) for item in items if not item.available)
    options_out = ",".join(sorted(str(option.id) for item_groups in groups.values()
                                  for group in item_groups for option in group.options
                                  if not option.available))
    paused = int(is_paused(restaurant.paused_until, now)) or int(not restaurant.accepting_orders)
    shown = repr([[item.id, *(getattr(item, name, None) for name in _ITEM_FIELDS)]
                  for item in items]
                 + [[item_id, list(item_groups)] for item_id, item_groups in sorted(groups.items())]
                 + [getattr(restaurant, name, None) for name in _RESTAURANT_FIELDS])
    raw = f"{sold_out}|{options_out}|{paused}|{restaurant.busy_minutes}|{shown}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
