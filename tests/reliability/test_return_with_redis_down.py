"""A diner back from Stripe's checkout (the success URL: the status page) while Valkey is
down. An outside try got the bare 503 page ("Nothing you sent was lost or charged twice: try
again in a few seconds") just after paying, and had to guess whether the money went.

- The order is already recorded (the webhook came first): its page is served from Postgres.
- It is not: the 503 page says the payment went through at Stripe (the session in the
  return URL, asked of Stripe, and only when it is this order's), that the kitchen will get
  the order, and refreshes itself every few seconds until the order's page answers.
"""

from __future__ import annotations

import re

import pytest

from app.templating import format_money
from tests.helpers.orders import session_of
from tests.helpers.stack import Stack, wait_until

pytestmark = pytest.mark.timeout(240)
PAGE = {"accept": "text/html"}


def _return_url(stack: Stack, ref: str, session_id: str) -> str:
    return f"{stack.web_url}/orders/{ref}?checkout=success&session_id={session_id}"


def _refresh_s(html: str) -> int | None:
    found = re.search(r'<meta http-equiv="refresh" content="(\d+)', html)
    return int(found.group(1)) if found else None


def test_a_recorded_order_shows_its_page_without_redis(stack: Stack) -> None:
    assert stack.sandbox is not None
    created = stack.submit("demo")
    ref, session_id = created["id"], session_of(created)
    stack.sandbox.pay(session_id)
    wait_until(lambda: stack.order(ref)["status"] == "paid", 20, "the webhook recorded it",
               interval=0.5)
    stack.stop_redis()
    try:
        page = stack.http.get(_return_url(stack, ref, session_id), headers=PAGE, timeout=30)
    finally:
        stack.start_redis()
    assert page.status_code == 200, page.text[:2000]
    assert ref in page.text
    assert _refresh_s(page.text) is None


def test_a_payment_not_yet_recorded_is_said_and_the_page_refreshes(stack: Stack) -> None:
    assert stack.sandbox is not None
    created = stack.submit("demo")
    ref, session_id = created["id"], session_of(created)
    unpaid = stack.submit("demo")  # back by a typed URL without paying: nothing claimed
    stack.stop_redis()
    try:
        stack.sandbox.pay(session_id)  # its webhook is refused (503) until Valkey is back
        paid = stack.http.get(_return_url(stack, ref, session_id), headers=PAGE, timeout=30)
        # another order's paid session names no payment for this one
        other = stack.http.get(_return_url(stack, unpaid["id"], session_id), headers=PAGE,
                               timeout=30)
        waiting = stack.http.get(_return_url(stack, unpaid["id"], session_of(unpaid)),
                                 headers=PAGE, timeout=30)
    finally:
        stack.start_redis()
    assert paid.status_code == 503, paid.text[:2000]
    assert int(paid.headers["retry-after"]) > 0
    assert "Your payment went through" in paid.text, paid.text[:3000]
    assert "the kitchen will get your order" in paid.text
    total = created["total"]
    assert f"payment of {format_money(total['amount'], total['currency'])}" in paid.text
    assert _refresh_s(paid.text) == 5
    for page in (other, waiting):
        assert page.status_code == 503
        assert "went through" not in page.text, page.text[:3000]
        assert _refresh_s(page.text) == 5  # still refreshes until the order's page answers
    # Valkey back: the refresh reaches the order's own page, recorded once
    wait_until(lambda: stack.http.get(_return_url(stack, ref, session_id), headers=PAGE)
               .status_code == 200 and stack.order(ref)["status"] == "paid", 60,
               "the order recorded and its page served", interval=1)
    assert stack.value("SELECT count(*) FROM paid_order WHERE public_id = $1", ref) == 1
