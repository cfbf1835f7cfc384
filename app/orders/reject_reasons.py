"""Reasons the system itself gives for rejecting an order (a cook's are free text). Stored in
English as the order's `reject_reason`; the diner reads them in their language (`said`, the
`reject_said` filter, translates these, and only these), and the kitchen's notices tell one
apart from the timer's."""

from __future__ import annotations

import re

from app.infra import i18n
from app.infra.i18n import N_

# A manual-capture hold lapsed (Stripe cancels it 7 days after payment) before the accept.
HOLD_LAPSED = N_("The hold on your card expired before the kitchen could accept your order, "
                 "so it cannot be charged.")

# A closure the owner gave no reason for (app/manage/hours.py): its orders are rejected with
# this one. An owner's own reason is their words, shown as typed.
CLOSED = N_("The restaurant is closed that day")

# Every fixed reason the system gives: the only ones `told` translates as they are.
SYSTEM = frozenset({HOLD_LAPSED, CLOSED})

# The auto-reject timer's reason names its minutes, so it is no fixed msgid: stored in
# English by `not_accepted_within` (staff read it so), told to the diner by its pattern.
_NOT_ACCEPTED = re.compile(r"Not accepted within (\d{1,4}) minutes?")


def not_accepted_within(minutes: int) -> str:
    """The timer's reject reason, as stored."""
    return f"Not accepted within {minutes} minute{'' if minutes == 1 else 's'}"


# What the diner reads for the timer's reason: the stored "Not accepted within 10 minutes"
# is the kitchen's word for it, and reached diners as such (outside try). The money line
# below it says what became of the payment (refunded, or the hold released).
NOT_CONFIRMED = N_("The kitchen could not confirm your order in time, so it was cancelled.")


# A cook's reject for dishes sold out, naming them: stored in English as staff read it
# ("Sold out: Tiramisu, Cola"), told to the diner by its pattern ("Sorry, Tiramisu is sold
# out."), so they can order again without them. The names are the order's own lines.
SOLD_OUT_PREFIX = "Sold out: "
SOLD_OUT_SEPARATOR = ", "
_SOLD_OUT = re.compile(re.escape(SOLD_OUT_PREFIX) + r"(\S.*)", re.DOTALL)


def sold_out(dishes: list[str]) -> str:
    """The reject reason naming `dishes` (the order's lines the kitchen ran out of)."""
    return SOLD_OUT_PREFIX + SOLD_OUT_SEPARATOR.join(dishes)


def told(reason: str) -> str:
    """A reject reason in the current language when the system gave it; a cook's own words
    as written (never through gettext's formatting)."""
    if reason in SYSTEM:
        return i18n.gettext(reason)
    return reason


def said(reason: str) -> str:
    """The line a diner reads for a rejected order's reason: "Reason: …" in their language,
    the timer's own sentence (no minutes, no "Reason:"; staff keep the stored words), or for
    dishes sold out which ("Sorry, Tiramisu is sold out.")."""
    if _NOT_ACCEPTED.fullmatch(reason) is not None:
        return i18n.gettext(NOT_CONFIRMED)
    named = _SOLD_OUT.fullmatch(reason)
    if named is not None:  # the money line below says what became of the payment
        dishes = named.group(1)
        return i18n.ngettext("Sorry, %(dishes)s is sold out.", "Sorry, %(dishes)s are sold out.",
                             len(dishes.split(SOLD_OUT_SEPARATOR))) % {"dishes": dishes}
    return i18n.gettext("Reason: %(reason)s") % {"reason": told(reason)}
