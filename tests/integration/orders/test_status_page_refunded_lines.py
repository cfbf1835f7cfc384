"""The diner's status page marks the lines the restaurant refunded (outside try: it said
"Refunded: €6.50 of €17.50" but not which dish): a line refunded whole is struck through and
says "Refunded" in words, for a screen reader too; one refunded in part says how many units.
On the page as opened and on the part the page fetches again when the refund's live update
arrives over its stream."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from arq.connections import ArqRedis

from tests.helpers.accounts import login
from tests.helpers.html_items import Item, items_of
from tests.helpers.payments import accepted_order, refund_items
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess, start_web
from tests.helpers.sse import next_event, status_stream


@pytest.fixture(scope="module")
def web() -> Iterator[RunningProcess]:
    """A real server holding the diner's status stream while the owner refunds."""
    with start_web(env={"SSE_HEARTBEAT_SECONDS": "1"}) as server:
        yield server


def lines_of(html: str) -> list[Item]:
    lines = items_of(html, "cart-lines")
    assert lines, "no order lines on the page"
    return lines


async def test_the_refunded_line_is_marked_on_the_page_and_live(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis, web: RunningProcess
) -> None:
    order, items = await accepted_order(client, sandbox, redis)  # 2 x a dish, 1 x another
    ref = order.public_id
    token = await login(client, "admin@orderpass.test")
    async with httpx.AsyncClient(base_url=web.url, timeout=15) as diner:
        before = lines_of((await diner.get(f"/orders/{ref}")).text)
        assert [line.struck for line in before] == ["", ""]
        assert not any("efunded" in line.text for line in before)

        async with status_stream(web.url, ref) as page:
            await refund_items(client, token, ref, {items[1].id: 1})  # the second line, whole
            await next_event(page, "order-updated")  # the page fetches its progress on it
            live = lines_of((await diner.get(f"/orders/{ref}/progress")).text)
        opened = lines_of((await diner.get(f"/orders/{ref}")).text)

        for lines in (live, opened):
            kept, refunded = lines
            assert items[1].name in refunded.struck, refunded  # struck through…
            assert "Refunded" in refunded.text.replace(refunded.struck, "")  # …and said
            assert "line-refunded" in refunded.attrs["class"].split()
            assert kept.struck == "" and "efunded" not in kept.text, kept

        # one unit of the first line's two: said, not struck (the other is still coming)
        await refund_items(client, token, ref, {items[0].id: 1})
        part, whole = lines_of((await diner.get(f"/orders/{ref}")).text)
        assert part.struck == "" and "1 of 2 refunded" in part.text, part
        assert "Refunded" in whole.text and whole.struck
        german = lines_of((await diner.get(f"/orders/{ref}?lang=de")).text)
        assert "1 von 2 erstattet" in german[0].text, german[0]
        assert "Erstattet" in german[1].text, german[1]


async def test_after_the_rest_is_refunded_every_line_reads_refunded(
    client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    """An outside try: one unit refunded, then "Refund everything" (or the auto-reject's
    refund, neither of which names lines); the page and the emails still said "1 of 2
    refunded" beside "refunded in full". Refunded in full, every line reads "Refunded"."""
    order, items = await accepted_order(client, sandbox, redis)  # 2 x a dish, 1 x another
    ref = order.public_id
    token = await login(client, "admin@orderpass.test")
    await refund_items(client, token, ref, {items[0].id: 1})
    part, _kept = lines_of((await client.get(f"/orders/{ref}")).text)
    assert "1 of 2 refunded" in part.text, part
    everything = await client.post(f"/admin/orders/{ref}/refund", follow_redirects=False,
                                   data={"_csrf_token": token, "confirm": "yes"})
    assert everything.status_code == 303, everything.text
    for line in lines_of((await client.get(f"/orders/{ref}")).text):
        assert "of 2 refunded" not in line.text and "Refunded" in line.text, line
        assert line.struck, line
