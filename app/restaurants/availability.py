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


def menu_state(restaurant: Any, items: Iterable[Any], groups: Mapping[int, Iterable[Any]],
               now: datetime | None = None) -> str:
    """A short fingerprint of what a diner can order now (sold-out items and options, pause,
    busy time): an open menu page compares it with the live feed's to know whether to
    refresh. `groups`: each item's modifier groups (GroupView) by item id."""
    sold_out = ",".join(str(item.id) for item in sorted(items, key=lambda item: item.id)
                        if not item.available)
    options_out = ",".join(sorted(str(option.id) for item_groups in groups.values()
                                  for group in item_groups for option in group.options
                                  if not option.available))
    paused = int(is_paused(restaurant.paused_until, now)) or int(not restaurant.accepting_orders)
    raw = f"{sold_out}|{options_out}|{paused}|{restaurant.busy_minutes}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
