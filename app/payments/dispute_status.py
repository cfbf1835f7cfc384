"""Stripe's dispute statuses: which take money, which leave it, and what each asks of the
owner. Apart from `money_events` so that pages can name a status without its imports."""

from __future__ import annotations

# Stripe's dispute statuses. A chargeback debits the restaurant when it opens and moves the
# order; an inquiry ("warning_…", before any chargeback) takes no money, so the order and its
# ticket stay as they are; the admin (a discrepancy) and the owner (the order page) are told.
# Closed in the restaurant's favour:
# won, an inquiry closed without a chargeback, or a dispute prevented (a refund Stripe made
# for it comes as its own `charge.refunded`).
CHARGEBACK_OPEN = ("needs_response", "under_review")
INQUIRY_OPEN = ("warning_needs_response", "warning_under_review")
KEPT = ("won", "warning_closed", "prevented")
NEEDS_ANSWER = ("warning_needs_response", "needs_response")  # the owner's, in Stripe
# What each status asks of the owner, on the order's page: the owner answers the bank in
# Stripe, and an inquiry left unanswered may become a chargeback.
DISPUTE_TOLD = {
    "warning_needs_response": "Inquiry: the customer's bank asks about this payment. No "
                              "money has moved. Answer it in Stripe's dashboard: left "
                              "unanswered, it may become a chargeback.",
    "warning_under_review": "Inquiry answered: the bank is reviewing it. No money has moved.",
    "warning_closed": "The bank's inquiry closed without a chargeback: the money is kept.",
    "needs_response": "Chargeback: the bank took the money back. Send your evidence in "
                      "Stripe's dashboard before the deadline it shows.",
    "under_review": "Chargeback: your evidence is with the bank, which is deciding.",
    "won": "Chargeback won: the money came back.",
    "lost": "Chargeback lost: the money stays with the customer.",
    "prevented": "Dispute prevented before it became a chargeback (any refund for it is "
                 "listed under Refunds).",
}


def dispute_told(status: str) -> str:
    """The owner's words for a dispute status; one this code does not know, as Stripe says it."""
    return DISPUTE_TOLD.get(status, f"Stripe's dispute status: {status.replace('_', ' ')}")
