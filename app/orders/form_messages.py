"""Checkout errors in plain words. The API's messages are written for developers ("Expected
`str` of length >= 1 - at `$.customer.name`"); a diner on a phone gets a sentence that says
what to do, next to the field it is about."""

from __future__ import annotations

import re

_ITEM = re.compile(r"^items\[\d+\]\.(\w+)$")

# Form field → what to say when the API's message is not already meant for people.
PLAIN = {
    "name": "Please enter your name.",
    "email": "Please enter your email address, like name@example.com.",
    "phone": "That phone number is too long (40 characters at most).",
    "delivery_address": "Please enter the address we should deliver to.",
    "table": "Please enter your table number.",
    "notes": "Notes for the kitchen can be 500 characters at most.",
    "allergy": "Please say what the allergy is, so the kitchen can keep it out.",
    "fulfillment": "Please choose pickup, delivery or dine-in.",
    "items": "Your basket is empty: add something from the menu first.",
    "scheduled_for": "Please choose a time from the list.",
}
ITEM_PLAIN = {
    "notes": "A note for one dish can be 200 characters at most.",
    "allergy": "Please say what the allergy is, so the kitchen can keep it out.",
    "quantity": "You can order between 1 and 99 of one dish.",
}
# Fields whose every message is intake's own, written for people: the tip and the total
# (the card minimum applies to the total with the tip).
_OWN_WORDS = ("tip", "tip_custom", "total")
# Messages that already speak to people (intake's own checks) pass through, capitalised.
_FOR_PEOPLE = ("is sold out", "is not taking orders", "has paused new orders", "not valid",
               "is not on", "must have", "domain name", "@-sign", "too many",
               "unpaid orders are already open", "must be at least",
               # the time of a scheduled order (app/restaurants/hours.py, intake)
               "is closed now", "choose a time", "fully booked", "for later",
               "the restaurant is closed")


def _sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def plain_errors(errors: dict[str, str]) -> dict[str, str]:
    """`errors` keyed by form field → the same keys with messages a diner understands."""
    result: dict[str, str] = {}
    for key, message in errors.items():
        if key in _OWN_WORDS or any(phrase in message for phrase in _FOR_PEOPLE):
            result[key] = _sentence(message)
        elif key.startswith("allergy-"):
            result[key] = PLAIN["allergy"]
        elif match := _ITEM.match(key):
            result[key] = ITEM_PLAIN.get(match.group(1), "Please check the dishes in your "
                                                         "basket.")
        else:
            result[key] = PLAIN.get(key, "Please check this field.")
    return result
