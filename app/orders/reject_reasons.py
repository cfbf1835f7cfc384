"""Reasons the system itself gives for rejecting an order (a cook's are free text). Stored in
English as the order's `reject_reason`; the diner reads them in their language (the
`system_reason` filter translates these, and only these), and the kitchen's notices tell one
apart from the timer's."""

from __future__ import annotations

from app.infra.i18n import N_

# A manual-capture hold lapsed (Stripe cancels it 7 days after payment) before the accept.
HOLD_LAPSED = N_("The hold on your card expired before the kitchen could accept your order, "
                 "so it cannot be charged.")

# A closure the owner gave no reason for (app/manage/hours.py): its orders are rejected with
# this one. An owner's own reason is their words, shown as typed.
CLOSED = N_("The restaurant is closed that day")

# Every reason the system gives: the only ones the `system_reason` filter translates.
SYSTEM = frozenset({HOLD_LAPSED, CLOSED})
