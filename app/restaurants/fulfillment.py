"""The fulfilment modes a restaurant offers (`restaurant.fulfillment_modes`): any of pickup,
delivery and dine-in, at least one, always kept in the order of MODES. The owner's settings
and the admin's restaurant form choose them (one box each); the menu API lists them; intake
refuses an order for any other (app/orders/intake.py). Paid orders keep the mode they were
paid with, whatever the restaurant offers later."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MODES = ("pickup", "delivery", "dine_in")  # the values of `POST /api/orders` `fulfillment`
# The settings boxes: `fulfillment_<mode>`; the hidden marker says the form has them (a form
# without it, an older page, leaves the modes as they are).
MARKER = "fulfillment_settings"
FIELD = "fulfillment_modes"  # the form's error key and value (a list of modes)
# What a restaurant the admin creates offers unless the form says otherwise (its blank form
# ticks only this box): delivery or table service nobody set up must not reach diners; the
# owner turns them on in the settings. Rows inserted otherwise (the seed) take the column's
# default, every mode.
NEW_RESTAURANT = ("pickup",)
LABELS = {"pickup": "Pickup", "delivery": "Delivery", "dine_in": "Table service (dine-in)"}
NONE_CHOSEN = "Choose at least one: pickup, delivery or table service (dine-in)."


def ordered(modes: Iterable[str]) -> list[str]:
    """The known ones of `modes`, once each, in the order of MODES."""
    chosen = set(modes)
    return [mode for mode in MODES if mode in chosen]


def offered(modes: Iterable[str] | None) -> list[str]:
    """A restaurant's modes as stored (None, from a row read before the column existed:
    every mode)."""
    return ordered(modes) if modes is not None else list(MODES)


def in_form(form: Mapping[str, Any]) -> bool:
    """Whether a posted settings form has the boxes: its marker, or any box ticked."""
    return bool(form.get(MARKER)) or any(f"fulfillment_{mode}" in form for mode in MODES)


def parse(form: Mapping[str, Any]) -> tuple[list[str], str]:
    """The ticked modes, in order, and the form's error for them ("" if none)."""
    modes = [mode for mode in MODES
             if str(form.get(f"fulfillment_{mode}") or "").lower() in ("on", "true", "1", "yes")]
    return modes, "" if modes else NONE_CHOSEN


def not_offered(restaurant: str, mode: str, modes: Iterable[str]) -> str:
    """Intake's message for an order whose `fulfillment` the restaurant does not offer; it
    names the modes offered by the API's values (app/orders/form_messages.py says it again
    for diners, in their language)."""
    return f"{restaurant} does not offer {mode}; it offers: {', '.join(offered(modes))}"


def no_longer_offered(restaurant: str, mode: str) -> str:
    """The same for an unpaid order whose mode the restaurant turned off since it was placed
    (a new payment link is refused: app/orders/intake.py `recheck`): nothing to choose on the
    order's page, the diner orders again."""
    return f"{restaurant} no longer offers {mode}"
