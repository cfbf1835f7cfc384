"""Reasons the system itself gives for rejecting an order (a cook's are free text). Stored in
English as the order's `reject_reason`; the diner reads them in their language (`told`,
the `system_reason` filter, translates these, and only these), and the kitchen's notices tell one
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
# English by `not_accepted_within`, told in the diner's language by its pattern.
_NOT_ACCEPTED = re.compile(r"Not accepted within (\d{1,4}) minutes?")


def not_accepted_within(minutes: int) -> str:
    """The timer's reject reason, as stored."""
    return f"Not accepted within {minutes} minute{'' if minutes == 1 else 's'}"


def told(reason: str) -> str:
    """A reject reason in the current language when the system gave it; a cook's own words
    as written (never through gettext's formatting)."""
    if reason in SYSTEM:
        return i18n.gettext(reason)
    timer = _NOT_ACCEPTED.fullmatch(reason)
    if timer is not None:
        minutes = int(timer.group(1))
        return i18n.ngettext("Not accepted within %(num)d minute",
                             "Not accepted within %(num)d minutes", minutes) % {
            "num": minutes}
    return reason
