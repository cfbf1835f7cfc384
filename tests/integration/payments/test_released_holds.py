"""A released card hold is not money given back. After our void (a rejected booking) and after
a lapse (Stripe cancels the hold 7 days on), reconciliation finds nothing, and no refund is
recorded, queued for a human or emailed: the diner hears once that they were not charged.

Stripe shows a released hold that way since API version 2025-03-31.basil (no Refund, the
charge neither captured nor refunded, no `charge.refunded`; tests/sandbox/test_hold_expiry.py).
An account on an older version still gets `charge.refunded` for the release, the charge
`refunded: true` for its whole amount yet never captured: read that way too, it stays quiet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
import stripe
from arq.connections import ArqRedis

from app.orders import lifecycle
from app.orders.tables import PaidOrder
from app.payments import reconciliation, settlement
from app.payments.reconciliation import reconcile
from tests.helpers.orders import paid_order_via_sandbox
from tests.helpers.payments import discrepancy_kinds, emails_of, events_about, post_event, reload
from tests.helpers.sandbox import RunningSandbox

EIGHT_DAYS = 8 * 24 * 60 * 60
WINDOW = timedelta(hours=72)


async def released(client: httpx.AsyncClient, sandbox: RunningSandbox, how: str) -> PaidOrder:
    """A manual-capture order whose hold was released: voided by the kitchen's reject, or
    lapsed (Stripe's `payment_intent.canceled` reaches the app)."""
    order = await paid_order_via_sandbox(client, sandbox, capture_mode="manual")
    intent = str(order.stripe_payment_intent_id)
    if how == "voided":
        await lifecycle.apply_action(order.public_id, "reject", actor="t", reason="no dough")
    else:
        sandbox.advance_clock(EIGHT_DAYS)
        [canceled] = events_about(sandbox, {"payment_intent.canceled"}, intent)
        assert await post_event(client, canceled) == "hold_lapsed"
    # Whatever else Stripe said about the intent and its charge reaches the app too.
    for event in events_about(sandbox, {"charge.expired", "charge.refunded", "refund.created"},
                              intent):
        await post_event(client, event)
    after = await reload(order.public_id)
    assert after.status == "voided", after.status
    return after


def legacy_release_event(sandbox: RunningSandbox, sdk: stripe.StripeClient,
                         order: PaidOrder) -> dict[str, Any]:
    """`charge.refunded` for the release as Stripe sends it to an account on an API version
    before 2025-03-31.basil, put among the sandbox's events (reconciliation lists them)."""
    intent = sdk.v1.payment_intents.retrieve(str(order.stripe_payment_intent_id))
    charge = sdk.v1.charges.retrieve(str(intent.latest_charge)).to_dict()
    assert charge["captured"] is False and charge["amount_refunded"] == 0  # as Stripe today
    charge.update(refunded=True, amount_refunded=charge["amount"])
    stripe_side = sandbox.app.state["sandbox"].stripe
    stripe_side.emit("charge.refunded", charge, {"refunded": False, "amount_refunded": 0})
    [event] = events_about(sandbox, {"charge.refunded"}, charge["id"])
    return event


async def assert_quiet(redis: ArqRedis, order: PaidOrder) -> None:
    report = await reconcile(redis, since=WINDOW, apply=True)
    assert report.errors == []
    assert [f for f in report.findings if f.order_ref == order.public_id] == []
    assert await discrepancy_kinds(order.public_id) == []
    after = await reload(order.public_id)
    assert after.status == "voided" and after.amount_refunded == 0
    assert await settlement.refunds_of(order.id) == []
    emails = await emails_of(order.public_id)
    assert emails.count(f"order_rejected/{order.public_id}") == 1  # "not charged", once
    assert not any(key.startswith("order_refunded/") for key in emails), emails


@pytest.fixture
def refunds_past_their_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconciliation looks at every `charge.refunded`, even the sandbox clock's future."""
    monkeypatch.setattr(reconciliation, "REFUND_GRACE_S", -2 * EIGHT_DAYS)


@pytest.mark.parametrize("how", ["voided", "lapsed"])
async def test_reconciliation_stays_quiet_after_a_released_hold(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis,
    refunds_past_their_grace: None, how: str
) -> None:
    order = await released(client, sandbox, how)
    await assert_quiet(redis, order)


@pytest.mark.parametrize("how", ["voided", "lapsed"])
async def test_an_older_api_versions_refunded_event_for_the_release_stays_quiet(
    client: httpx.AsyncClient, sandbox: RunningSandbox, sdk: stripe.StripeClient,
    redis: ArqRedis, refunds_past_their_grace: None, how: str
) -> None:
    order = await released(client, sandbox, how)
    event = legacy_release_event(sandbox, sdk, order)
    assert await post_event(client, event) == "hold_released"
    await assert_quiet(redis, order)
