"""Checkout errors in plain words. The API's messages are written for developers ("Expected
`str` of length >= 1 - at `$.customer.name`"); a diner on a phone gets a sentence that says
what to do, next to the field it is about, in the diner's language (app/infra/i18n.py).

The API's own sentences stay English; the ones a diner may meet are recognised here and said
again from the catalog. Anything else a non-English diner would get in English is replaced by
the field's plain message."""

from __future__ import annotations

import re

from app.infra import i18n
from app.infra.form_input import as_sentence
from app.infra.i18n import N_
from app.infra.json_body import NO_OVERRIDE
from app.infra.json_body import PLAIN as PLAIN_PATTERNS

_ITEM = re.compile(r"^items\[\d+\]\.(\w+)$")

# Form field → what to say when the API's message is not already meant for people.
PLAIN = {
    "name": N_("Please enter your name."),
    "email": N_("Please enter your email address, like name@example.com."),
    "phone": N_("Please enter the phone number on one line, 40 characters at most."),
    "delivery_address": N_("Please enter the address we should deliver to."),
    "table": N_("Please enter your table number."),
    "notes": N_("Notes for the kitchen can be 500 characters at most."),
    "allergy": N_("Please say what the allergy is, so the kitchen can keep it out."),
    "fulfillment": N_("Please choose pickup, delivery or dine-in."),
    "items": N_("Your basket is empty: add something from the menu first."),
    # Said only where intake's own English words would not be understood:
    "tip": N_("Please check the tip."),
    "tip_custom": N_("Please enter the tip as an amount."),
    "total": N_("The order is below the smallest amount a card can pay."),
    "scheduled_for": N_("Please choose a time from the list."),
}
# A field that was not left empty but is too long or holds what cannot be shown (a line
# break, a control character, text that reverses its direction).
PLAIN_FILLED = {
    "name": N_("Please enter your name on one line, 120 characters at most."),
}
# A field longer than the API takes (app/orders/schemas.py): its limit, as the notes say
# theirs. Not by PLAIN_FILLED: intake's "a table number is required" fills those fields too.
TOO_LONG = {
    "table": N_("A table number can be 40 characters at most."),
    "delivery_address": N_("A delivery address can be 300 characters at most."),
}
# Text the kitchen reads that holds a control character or a direction override (it can show
# "peanuts" for what was typed backwards): one sentence for every such field.
OVERRIDE = N_("Please type this without control characters or text-direction characters.")
ITEM_PLAIN = {
    "notes": N_("A note for one dish can be 200 characters at most."),
    "allergy": N_("Please say what the allergy is, so the kitchen can keep it out."),
    "quantity": N_("You can order between 1 and 99 of one dish."),
}
# A quantity typed as anything but a whole number in ASCII digits (app/orders/cart.py
# `quantity_errors`, field `qty-<item>`): "٣" is a three to Python, not to the kitchen.
QUANTITY_DIGITS = N_("Quantity must be a whole number written with 0 to 9, like 2 or 10.")
CHECK_DISHES = N_("Please check the dishes in your basket.")
CHECK_FIELD = N_("Please check this field.")
# Fields whose every message is intake's own, written for people: the tip and the total
# (the card minimum and maximum apply to the total with the tip).
_OWN_WORDS = ("tip", "tip_custom", "total")
# Messages that already speak to people (intake's own checks) pass through, capitalised.
_FOR_PEOPLE = ("is sold out", "is not taking orders", "has paused new orders", "not valid",
               "is not on", "must have", "domain name", "@-sign", "too many",
               "An email address cannot",
               "unpaid orders are already open", "must be at least",
               # the time of a scheduled order (app/restaurants/hours.py, intake)
               "is closed now", "takes no more orders now", "choose a time", "fully booked",
               "for later", "the restaurant is closed",
               # the options of a dish
               "choose ", "is chosen twice",
               # the phone number (app/restaurants/editing.py `phone_problem`)
               "Enter a phone number like",
               # a fulfilment mode the restaurant does not offer
               "does not offer")


_PHONE = re.escape("Enter a phone number like +49 30 1234567: ")  # editing.PHONE_HINT


# Intake's sentences for people, recognised (anchored, after capitalisation), and said again
# in the diner's language with what they name.
_KNOWN = [(re.compile(pattern), msgid) for pattern, msgid in (
    (r"^(?P<name>.+) is sold out\.$", N_("%(name)s is sold out.")),
    # The options of a dish (app/orders/choices.py): the range before the single count,
    # which would otherwise read "1 to 3" as the group's name.
    (r"^Choose (?P<low>\d+) to (?P<high>\d+) (?P<group>.+) for (?P<item>.+)\.$",
     N_("Choose %(low)s to %(high)s %(group)s for %(item)s.")),
    (r"^Choose at most (?P<count>\d+) (?P<group>.+) for (?P<item>.+)\.$",
     N_("Choose at most %(count)s %(group)s for %(item)s.")),
    (r"^Choose (?P<count>\d+) (?P<group>.+) for (?P<item>.+)\.$",
     N_("Choose %(count)s %(group)s for %(item)s.")),
    (r"^An option is chosen twice\.$", N_("An option is chosen twice.")),
    # A phone number nobody can dial (app/restaurants/editing.py `phone_problem`), by cause.
    (rf"^{_PHONE}a phone number may not contain (?P<char>.+)\.$",
     N_("Enter a phone number like +49 30 1234567: a phone number may not contain %(char)s.")),
    (rf'^{_PHONE}a "\+" may only come first\.$',
     N_('Enter a phone number like +49 30 1234567: a "+" may only come first.')),
    (rf"^{_PHONE}(?P<phone>.+) has no digits; a phone number has at least (?P<least>\d+)\.$",
     N_("Enter a phone number like +49 30 1234567: %(phone)s has no digits; a phone number "
        "has at least %(least)s.")),
    (rf"^{_PHONE}(?P<phone>.+) has only 1 digit; a phone number has at least "
     r"(?P<least>\d+)\.$",
     N_("Enter a phone number like +49 30 1234567: %(phone)s has only 1 digit; a phone number "
        "has at least %(least)s.")),
    (rf"^{_PHONE}(?P<phone>.+) has only (?P<count>\d+) digits; a phone number has at least "
     r"(?P<least>\d+)\.$",
     N_("Enter a phone number like +49 30 1234567: %(phone)s has only %(count)s digits; a "
        "phone number has at least %(least)s.")),
    (rf"^{_PHONE}(?P<phone>.+) has (?P<count>\d+) digits; a phone number has at most "
     r"(?P<most>\d+) digits, not counting a leading 00\.$",
     N_("Enter a phone number like +49 30 1234567: %(phone)s has %(count)s digits; a phone "
        "number has at most %(most)s digits, not counting a leading 00.")),
    (rf"^{_PHONE}(?P<phone>.+) is only zeros\.$",
     N_("Enter a phone number like +49 30 1234567: %(phone)s is only zeros.")),
    # A booking past what a card hold lasts (manual capture: app/orders/intake.py HOLD_LIMIT).
    (r"^Choose a time at most (?P<days>\d+) days ahead: the card is only authorised when you "
     r"pay and charged when the kitchen accepts, and an authorisation lapses after "
     r"(?P<hold>\d+) days\.$",
     N_("Choose a time at most %(days)s days ahead: the card is only authorised when you pay "
        "and charged when the kitchen accepts, and an authorisation lapses after %(hold)s "
        "days.")),
    # Closed (app/orders/intake.py `_slot_now`; the opening, from app/restaurants/opening.py,
    # is already in the diner's language) and a slot inside a closure (hours.slot_problem).
    (r"^(?P<restaurant>.+) is closed now: (?P<opening>.+)\. Choose a time to order for "
     r"later\.$",
     N_("%(restaurant)s is closed now: %(opening)s. Choose a time to order for later.")),
    (r"^(?P<restaurant>.+) is closed now: (?P<opening>.+)\.$",
     N_("%(restaurant)s is closed now: %(opening)s.")),
    # Open, but too near closing for the kitchen to make it (`_slot_now`: last orders).
    (r"^(?P<restaurant>.+) takes no more orders now \(last orders were at (?P<time>[^)]+)\): "
     r"(?P<opening>.+)\. Choose a time to order for later\.$",
     N_("%(restaurant)s takes no more orders now (last orders were at %(time)s): "
        "%(opening)s. Choose a time to order for later.")),
    (r"^(?P<restaurant>.+) takes no more orders now \(last orders were at (?P<time>[^)]+)\): "
     r"(?P<opening>.+)\.$",
     N_("%(restaurant)s takes no more orders now (last orders were at %(time)s): "
        "%(opening)s.")),
    (r"^The restaurant is closed at that time \((?P<reason>.+)\)\.$",
     N_("The restaurant is closed at that time (%(reason)s).")),
    (r"^The restaurant is closed at that time\.$", N_("The restaurant is closed at that time.")),
    (r"^(?P<restaurant>.+) is not taking orders right now\.$",
     N_("%(restaurant)s is not taking orders right now.")),
    (r"^(?P<restaurant>.+) is not taking orders yet\.$",
     N_("%(restaurant)s is not taking orders yet.")),
    (r"^(?P<restaurant>.+) has paused new orders until (?P<time>\S+)\.$",
     N_("%(restaurant)s has paused new orders until %(time)s.")),
    (r"^(?P<restaurant>.+) has paused new orders: (?P<opening>.+)\.$",
     N_("%(restaurant)s has paused new orders: %(opening)s.")),
    (r"^The order totals (?P<total>.+); card payments must be at least (?P<minimum>.+)\.$",
     N_("The order totals %(total)s; card payments must be at least %(minimum)s.")),
    (r"^The order totals (?P<total>.+); card payments can be at most (?P<maximum>.+): split "
     r"it into smaller orders\.$",
     N_("The order totals %(total)s; card payments can be at most %(maximum)s: split it into "
        "smaller orders.")),
    (r"^(?P<restaurant>.+) does not take tips online\.$",
     N_("%(restaurant)s does not take tips online.")),
    (r"^A tip can be at most the price of the food \(100 %\)\.$",
     N_("A tip can be at most the price of the food (100 %%).")),
    (r"^That tip is more than we can take online\.$",
     N_("That tip is more than we can take online.")),
    (r"^A tip cannot be negative\.$", N_("A tip cannot be negative.")),
    # the currency's example (app/orders/cart.py `tip_example`): "2.50" ("2,50" in German),
    # "300" in JPY or ISK
    (r"^(?:Tip: )?[Ee]nter an amount like (?P<example>[0-9.,]+)\.$",
     N_("Please enter the tip as an amount, like %(example)s.")),
    (r"^(?P<count>\d+) unpaid orders are already open from your network",
     N_("%(count)s unpaid orders are already open from your network (a shared Wi-Fi counts "
        "as one): try again in a few minutes, or order over mobile data.")),
    (r"^(?P<count>\d+) unpaid orders are already open for this email address",
     N_("%(count)s unpaid orders are already open for this email address: pay one or let its "
        "link expire first.")),
    # The email address (email_validator's words, app/orders/intake.py `_check_email`): the
    # mistakes a phone's keyboard makes, said so a diner sees which part to fix.
    (r"^An email address must have an @-sign\.$", N_("An email address must have an @-sign.")),
    (r"^There must be something before the @-sign\.$",
     N_("There must be something before the @-sign.")),
    (r"^There must be something after the @-sign\.$",
     N_("There must be something after the @-sign.")),
    (r"^The part after the @-sign is not valid\. It should have a period\.$",
     N_("The part after the @-sign is not valid. It should have a period.")),
    (r"^The part after the @-sign is a special-use or reserved name that cannot be used with "
     r"email\.$",
     N_("The part after the @-sign is a special-use or reserved name that cannot be used with "
        "email.")),
    (r"^The email address contains invalid characters before the @-sign: (?P<chars>.+)\.$",
     N_("The email address contains invalid characters before the @-sign: %(chars)s.")),
    (r"^The part after the @-sign contains invalid characters: (?P<chars>.+)\.$",
     N_("The part after the @-sign contains invalid characters: %(chars)s.")),
    (r"^An email address cannot have two periods in a row\.$",
     N_("An email address cannot have two periods in a row.")),
    (r"^An email address cannot have a period immediately before the @-sign\.$",
     N_("An email address cannot have a period immediately before the @-sign.")),
    (r"^An email address cannot have a period immediately after the @-sign\.$",
     N_("An email address cannot have a period immediately after the @-sign.")),
    (r"^An email address cannot start with a period\.$",
     N_("An email address cannot start with a period.")),
    (r"^An email address cannot end with a period\.$",
     N_("An email address cannot end with a period.")),
    (r"^This order is no longer available; please order again\.$",
     N_("This order is no longer available; please order again.")),
    (r"^We could not create a new payment link just now\. Please try again\.$",
     N_("We could not create a new payment link just now. Please try again.")),
)]


# A fulfilment mode the restaurant does not offer (app/restaurants/fulfillment.py
# `not_offered`, at checkout) or no longer offers (`no_longer_offered`, a new payment link
# for an order placed before): the modes, named by the API's values there, said as people
# write them mid-sentence (lower case in English; German nouns keep their capital). A whole
# sentence per mode: German says "keine Lieferung" but "kein Essen vor Ort".
_NOT_OFFERED = re.compile(r"^(?P<restaurant>.+) does not offer (?P<mode>[a-z_]+); it offers: "
                          r"(?P<offered>[a-z_, ]+)\.$")
_NO_LONGER_OFFERED = re.compile(r"^(?P<restaurant>.+) no longer offers (?P<mode>[a-z_]+)\.$")
MODE_NAMES = {"pickup": N_("pickup"), "delivery": N_("delivery"), "dine_in": N_("dine-in")}
NOT_OFFERED = {"pickup": N_("%(restaurant)s does not offer pickup."),
               "delivery": N_("%(restaurant)s does not offer delivery."),
               "dine_in": N_("%(restaurant)s does not offer dine-in.")}
# The checkout's way out: the modes offered (the form shows just those now).
CHOOSE_INSTEAD = N_("Choose %(modes)s instead.")
# The order's page: nothing to choose there, the page goes on to say "order again".
NO_LONGER_OFFERED = {"pickup": N_("%(restaurant)s no longer offers pickup."),
                     "delivery": N_("%(restaurant)s no longer offers delivery."),
                     "dine_in": N_("%(restaurant)s no longer offers dine-in.")}
EITHER = N_("%(some)s or %(last)s")  # "pickup or dine-in", "pickup, delivery or dine-in"


def _either(names: list[str]) -> str:
    if len(names) < 2:
        return "".join(names)
    return i18n.gettext(EITHER) % {"some": ", ".join(names[:-1]), "last": names[-1]}


def _modes_sentence(sentence: str) -> str | None:
    _ = i18n.gettext
    gone = _NO_LONGER_OFFERED.match(sentence)
    if gone is not None and gone["mode"] in NO_LONGER_OFFERED:
        return _(NO_LONGER_OFFERED[gone["mode"]]) % {"restaurant": gone["restaurant"]}
    match = _NOT_OFFERED.match(sentence)
    if match is None:
        return None
    offered = match["offered"].split(", ")
    if match["mode"] not in NOT_OFFERED or not all(mode in MODE_NAMES for mode in offered):
        return None
    return " ".join([
        _(NOT_OFFERED[match["mode"]]) % {"restaurant": match["restaurant"]},
        _(CHOOSE_INSTEAD) % {"modes": _either([_(MODE_NAMES[mode]) for mode in offered])}])


def translated(message: str, fallback: str) -> str:
    """A sentence for people (capitalised, with its full stop) in the diner's language:
    recognised ones from the catalog; others as they are in English, else `fallback`."""
    sentence = as_sentence(message)
    if (modes := _modes_sentence(sentence)) is not None:
        return modes
    for pattern, msgid in _KNOWN:
        if match := pattern.match(sentence):
            return i18n.gettext(msgid) % match.groupdict()
    if i18n.current() == i18n.DEFAULT:
        return sentence
    return i18n.gettext(fallback)


def plain_errors(errors: dict[str, str]) -> dict[str, str]:
    """`errors` keyed by form field → the same keys with messages a diner understands."""
    _ = i18n.gettext
    result: dict[str, str] = {}
    for key, message in errors.items():
        item = _ITEM.match(key)
        plain = (OVERRIDE if message == PLAIN_PATTERNS[NO_OVERRIDE]
                 else PLAIN["allergy"] if key.startswith("allergy-")
                 else ITEM_PLAIN["quantity"] if key.startswith("qty-") and "at most" in message
                 else QUANTITY_DIGITS if key.startswith("qty-")
                 else TOO_LONG[key] if key in TOO_LONG and "length <=" in message
                 else ITEM_PLAIN.get(item.group(1), CHECK_DISHES) if item
                 else PLAIN_FILLED[key] if key in PLAIN_FILLED and "length >= 1" not in message
                 else PLAIN.get(key, CHECK_FIELD))
        if key in _OWN_WORDS or any(phrase in message for phrase in _FOR_PEOPLE):
            result[key] = translated(message, plain)
        else:
            result[key] = _(plain)
    return result
