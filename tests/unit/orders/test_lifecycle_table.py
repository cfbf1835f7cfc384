"""The order state machine's pure parts: the transition table, recall window, column changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.orders.lifecycle import (
    ALLOWED,
    IllegalTransition,
    changes_for,
    check_recall,
    next_status,
    status_after_won_dispute,
)
from app.orders.tables import PaidOrder
from app.payments.dispute_status import (
    CHARGEBACK_OPEN,
    DISPUTE_TOLD,
    INQUIRY_OPEN,
    KEPT,
    dispute_told,
)
from app.payments.money_events import dispute_action

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("status", "action", "target"), [
    ("paid", "accept", "accepted"), ("paid", "reject", "rejected"),
    ("paid", "auto_reject", "rejected"), ("accepted", "start", "preparing"),
    ("accepted", "ready", "ready"), ("preparing", "ready", "ready"),
    ("ready", "complete", "completed"), ("completed", "recall", "ready"),
    ("rejected", "refund", "refunded"),
])
def test_allowed(status: str, action: str, target: str) -> None:
    assert next_status(status, action) == target


@pytest.mark.parametrize(("status", "action"), [
    ("paid", "start"), ("paid", "ready"), ("paid", "complete"), ("accepted", "accept"),
    ("ready", "reject"), ("completed", "accept"), ("refunded", "reject"),
    ("awaiting_payment", "accept"), ("rejected", "accept"), ("paid", "recall"),
])
def test_refused(status: str, action: str) -> None:
    with pytest.raises(IllegalTransition, match=status):
        next_status(status, action)


def test_unknown_action() -> None:
    with pytest.raises(IllegalTransition, match="unknown action"):
        next_status("paid", "explode")


def test_terminal_statuses_have_no_way_out() -> None:
    assert "refunded" not in ALLOWED
    assert set(ALLOWED["ready"]) == {"complete"}


def test_recall_only_within_window() -> None:
    check_recall(NOW - timedelta(minutes=9), NOW)
    with pytest.raises(IllegalTransition):
        check_recall(NOW - timedelta(minutes=11), NOW)
    with pytest.raises(IllegalTransition):
        check_recall(None, NOW)


def test_accept_changes_set_promise_and_bump_version() -> None:
    order = PaidOrder(status="paid", version=3, review_reason="")
    changes = changes_for(order, "accept", "accepted", NOW, prep_minutes=20, reason="")
    assert changes[PaidOrder.status] == "accepted"
    assert changes[PaidOrder.version] == 4
    assert changes[PaidOrder.accepted_at] == NOW
    assert changes[PaidOrder.prep_minutes] == 20
    assert changes[PaidOrder.promised_at] == NOW + timedelta(minutes=20)


def test_reject_and_recall_changes() -> None:
    order = PaidOrder(status="paid", version=1, review_reason="")
    changes = changes_for(order, "reject", "rejected", NOW, prep_minutes=None, reason="sold out")
    assert changes[PaidOrder.rejected_at] == NOW
    assert changes[PaidOrder.reject_reason] == "sold out"
    recall = changes_for(order, "recall", "ready", NOW, prep_minutes=None, reason="")
    assert recall[PaidOrder.completed_at] is None


@pytest.mark.parametrize(("order_status", "dispute_status", "action"), [
    ("accepted", "warning_needs_response", ""),  # an inquiry takes no money
    ("paid", "warning_closed", ""),  # closed without a chargeback: nothing was lost
    ("completed", "prevented", ""),
    ("accepted", "needs_response", "dispute"), ("disputed", "under_review", ""),
    ("disputed", "won", "dispute_won"), ("completed", "won", ""),
    ("disputed", "lost", "dispute_lost"), ("completed", "lost", "dispute"),  # reordered
    ("charged_back", "lost", ""), ("paid", "some_new_status", ""),
])
def test_only_a_chargeback_moves_the_order(order_status: str, dispute_status: str,
                                           action: str) -> None:
    assert dispute_action(order_status, dispute_status) == action


def test_every_status_stripe_documents_tells_the_owner_what_it_means() -> None:
    documented = {*CHARGEBACK_OPEN, *INQUIRY_OPEN, *KEPT, "lost"}
    assert documented == set(DISPUTE_TOLD)
    assert dispute_told("warning_needs_response").startswith("Inquiry:")
    assert dispute_told("needs_response").startswith("Chargeback:")
    assert dispute_told("a_new_status") == "Stripe's dispute status: a new status"


def test_a_won_dispute_does_not_bring_a_ticket_back_to_the_board() -> None:
    on_board = PaidOrder(status="accepted", version=1, review_reason="")
    changes = changes_for(on_board, "dispute", "disputed", NOW, prep_minutes=None, reason="")
    assert changes[PaidOrder.disputed_at] == NOW and changes[PaidOrder.refund_notice] is True
    taken_off = PaidOrder(status="disputed", status_before_dispute="accepted",
                          refund_notice=True, disputed_at=NOW)
    assert status_after_won_dispute(taken_off) == "completed"
    # a booking still waiting for its slot was never on the board: it waits again
    booking = PaidOrder(status="paid", version=1, review_reason="", scheduled_for=NOW,
                        released_at=None)
    assert PaidOrder.refund_notice not in changes_for(
        booking, "dispute", "disputed", NOW, prep_minutes=None, reason="")
    assert status_after_won_dispute(PaidOrder(
        status="disputed", status_before_dispute="paid", refund_notice=False,
        disputed_at=NOW)) == "paid"
    assert status_after_won_dispute(PaidOrder(
        status="disputed", status_before_dispute="rejected", refund_notice=False,
        disputed_at=NOW)) == "rejected"  # its refund is still owed
