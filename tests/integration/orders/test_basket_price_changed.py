"""A dish's price changed while it sat in a diner's basket (the owner edited it during
service): the basket repriced it live, silently (an outside try watched €18.00 become
€19.50 with no word). The basket keeps the price each line was first shown at
(`priced-<line>`) and, while it differs, says so on the line and above the total."""

from __future__ import annotations

import re

import httpx

from app.restaurants.tables import MenuItem
from tests.helpers.orders import menu


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def _basket(client: httpx.AsyncClient, **fields: str) -> str:
    answer = await client.post("/r/demo/cart", data={
        "_csrf_token": client.cookies["csrftoken"], **fields})
    assert answer.status_code == 200, answer.text[-2000:]
    return answer.text


async def test_a_price_changed_in_the_basket_is_said(client: httpx.AsyncClient) -> None:
    await client.get("/r/demo")
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    line, price = soup["id"], soup["price"]["amount"]

    first = await _basket(client, **{f"qty-{line}": "2"})
    assert f'name="priced-{line}" value="{price}"' in first  # the price it was shown at
    assert "Price changed" not in first

    await MenuItem.update({MenuItem.price_amount: price + 150}).where(MenuItem.id == line)
    try:
        again = await _basket(client, **{f"qty-{line}": "2", f"priced-{line}": str(price)})
        said = text_of(again)
        was, now = f"€{price / 100:.2f}", f"€{(price + 150) / 100:.2f}"
        assert f"Price changed: now {now} each, was {was}" in said, said[-2000:]
        assert "A price changed since you added it: the total is what you pay now." in said
        assert f'name="priced-{line}" value="{price}"' in again  # kept until it is removed
    finally:
        await MenuItem.update({MenuItem.price_amount: price}).where(MenuItem.id == line)
    back = await _basket(client, **{f"qty-{line}": "2", f"priced-{line}": str(price)})
    assert "Price changed" not in back and "A price changed" not in back
