"""A refund of part of the payment read as a refund of all of it: the subject said "Demo Bistro
has refunded your payment for order #1" for €3.00 of €27.50 (outside try), and the email's
list of items showed the refunded dish as if it were coming. The subject now says how much,
and the list marks the lines as the status page does ("1 of 2 refunded", "Refunded"), as they
stood right after the refund the email tells, in the HTML and the text the diner receives."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from arq.connections import ArqRedis

from app.templating import format_money
from tests.helpers.accounts import login
from tests.helpers.payments import accepted_order, email_received, emails_of, refund_items
from tests.helpers.sandbox import RunningSandbox

TIMES = "\N{MULTIPLICATION SIGN}"  # between quantity and dish in the HTML summary


async def _send(redis: ArqRedis, sandbox: RunningSandbox, ref: str, key: str) -> dict[str, Any]:
    """The email row `key` sent through the sandbox's Resend, as the diner receives it."""
    extra = [] if key == f"order_refunded/{ref}" else [key]
    return await email_received(redis, sandbox, "order_refunded", ref, *extra)


def _rows(message: dict[str, Any]) -> list[str]:
    """The HTML summary's item rows, as text, with <del> kept as ~…~."""
    summary = re.search(r'<table class="summary".*?</table>', message["html"], re.S)
    assert summary, message["html"]
    rows = re.findall(r"<tr[^>]*>.*?</tr>", summary.group(0), re.S)
    said = [re.sub(r"<(/?)del[^>]*>", "~", row) for row in rows]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in said]


async def test_a_partial_refund_email_says_how_much_and_marks_the_lines(
        client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    order, items = await accepted_order(client, sandbox, redis)  # 2 x soup, 1 x pizza
    ref, number = order.public_id, order.ticket_number
    token = await login(client, "admin@orderpass.test")
    soup = await refund_items(client, token, ref, {items[0].id: 1})
    pizza = await refund_items(client, token, ref, {items[1].id: 1})
    keys = [key for key in await emails_of(ref) if key.startswith("order_refunded/")]
    first, second = [await _send(redis, sandbox, ref, key) for key in keys]

    assert first["subject"] == (f"Demo Bistro has refunded {format_money(soup, 'EUR')} of your "
                                f"payment for order #{number}")
    assert second["subject"] == (f"Demo Bistro has refunded {format_money(pizza, 'EUR')} of "
                                 f"your payment for order #{number}")
    soup_row, pizza_row = [row for row in _rows(first) if f" {TIMES} " in row]
    assert "1 of 2 refunded" in soup_row and "~" not in soup_row, soup_row
    assert "efunded" not in pizza_row, pizza_row  # refunded later: not by this email
    soup_row, pizza_row = [row for row in _rows(second) if f" {TIMES} " in row]
    assert "1 of 2 refunded" in soup_row, soup_row
    assert pizza_row.startswith(f"~1 {TIMES} {items[1].name}~ Refunded"), pizza_row
    text = second["text"]
    assert re.search(rf"2 x {items[0].name} +\S+ +\(1 of 2 refunded\)", text), text
    assert re.search(rf"1 x {items[1].name} +\S+ +\(Refunded\)", text), text

    # the rest ("Refund everything"): the whole payment refunded, said so
    done = await client.post(f"/admin/orders/{ref}/refund", follow_redirects=False,
                             data={"_csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303, done.text
    keys = [key for key in await emails_of(ref) if key.startswith("order_refunded/")]
    last = await _send(redis, sandbox, ref, keys[-1])
    assert last["subject"] == f"Demo Bistro has refunded your payment for order #{number}"
