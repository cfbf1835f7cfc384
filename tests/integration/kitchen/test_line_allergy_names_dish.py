"""A line's own allergy belongs to its line, unmistakably: it names its dish and sits right
under the dish's name inside that line. Outside try on a 1024x768 tablet: Burrata's "⚠
ALLERGY: HAZELNUTS" sat at the foot of the Burrata line, just above "1 x Margherita pizza",
and did not say which dish it was for. On the board, its live frame and the printed ticket."""

from __future__ import annotations

import html
import re

import httpx

from app.kitchen import board_feed
from app.orders.tables import PaidOrder
from app.restaurants.tables import Restaurant
from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order

BADGE = "Allergy — Burrata: hazelnuts"
TIMES = "\N{MULTIPLICATION SIGN}"
LABEL = 'aria-label="Allergy for Burrata: hazelnuts"'


async def burrata_and_margherita() -> PaidOrder:
    """The tester's order: Burrata flagged "hazelnuts", a Margherita, and the whole order's
    "tree nuts, severe" (so each line also lists what it contains)."""
    return await make_paid_order(
        allergy="tree nuts, severe", link_menu=True, line_allergies={"Burrata": "hazelnuts"},
        items=[("Burrata", 1150, 1, ""), ("Margherita pizza", 1100, 1, "")])


def lines_of(page: str, ref: str, opening: str) -> list[str]:
    """The card's (or printed ticket's) `<li>` lines, as raw HTML, from the `<ul>` `opening`."""
    card = page.split(f'data-ref="{ref}"', 1)[1] if f'data-ref="{ref}"' in page else page
    listing = card.split(opening, 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li\b.*?</li>", listing, re.S)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


async def test_a_line_allergy_names_its_dish_right_under_it(client: httpx.AsyncClient) -> None:
    order = await burrata_and_margherita()
    await login(client, "kitchen@demo.test")
    page = (await client.get("/kitchen/demo")).text
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    frame = (await board_feed.board_frame(restaurant)).data
    for shown in (page, frame):
        burrata, margherita = lines_of(shown, order.public_id, '<ul class="lines">')
        # named for a screen reader, and in words, right after the dish's name
        assert LABEL in burrata and 'role="note"' in burrata, burrata
        assert text(burrata).startswith(f"1{TIMES} Burrata ⚠ {BADGE} "), text(burrata)
        assert text(burrata).index(BADGE) < text(burrata).index("Contains:")
        assert "Burrata" not in margherita and "hazelnuts" not in margherita, margherita
        # the whole order's flag stays above the lines, as it was
        card = shown.split(f'data-ref="{order.public_id}"', 1)[1].split("</article>", 1)[0]
        assert text(card.split('<ul class="lines">', 1)[0]).endswith(
            "⚠ Allergy: tree nuts, severe"), text(card.split('<ul class="lines">', 1)[0])

    ticket = (await client.get(f"/kitchen/demo/orders/{order.public_id}/ticket")).text
    burrata, margherita = lines_of(ticket, order.public_id, "<ul")
    assert LABEL in burrata, burrata
    assert text(burrata).startswith(f"1{TIMES} Burrata *** {BADGE} ***"), text(burrata)
    assert "hazelnuts" not in margherita, margherita
