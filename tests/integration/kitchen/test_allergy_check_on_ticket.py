"""A ticket with an allergy note lists under each line the allergens its dish and chosen
options contain, and marks in words a line whose allergens the note names ("⚠ contains Nuts
— check the allergy note"; outside try: the note said "Tree nuts (severe)" beside a Pesto
pasta and nothing on the ticket connected them; the dish's own allergens were not on it).
On the board, its live frames and the printed ticket; still the board's one statement."""

from __future__ import annotations

import html
import json
import re

import httpx

from app.kitchen import board_feed
from app.kitchen.allergy_match import named
from app.orders.tables import OrderItem, PaidOrder
from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.accounts import login
from tests.helpers.orders import make_paid_order

PESTO = {"group": "Sauce", "name": "Pesto", "delta": 100, "option": None,
         "allergens": ["nuts"]}


async def order(allergy: str = "", line_allergy: str = "") -> PaidOrder:
    """Pizza your way (Gluten, Milk) with Pesto (adds Nuts), and a Tiramisu (Eggs, Milk)."""
    dishes = {row["name"]: row["id"] for row in await MenuItem.select(
        MenuItem.id, MenuItem.name).where(MenuItem.name.is_in(["Pizza your way", "Tiramisu"]))}
    await MenuItem.update({MenuItem.allergens: ["gluten", "milk"]}).where(
        MenuItem.id == dishes["Pizza your way"])
    await MenuItem.update({MenuItem.allergens: ["eggs", "milk"]}).where(
        MenuItem.id == dishes["Tiramisu"])
    made = await make_paid_order(allergy=allergy, items=[
        ("Pizza your way", 1000, 1, ""), ("Tiramisu", 700, 1, "")])
    for name, menu_item in dishes.items():
        await OrderItem.update({OrderItem.menu_item: menu_item}).where(
            (OrderItem.paid_order == made.id) & (OrderItem.name == name))
    await OrderItem.update({OrderItem.modifiers: json.dumps([PESTO]),
                            OrderItem.allergy: line_allergy}).where(
        (OrderItem.paid_order == made.id) & (OrderItem.name == "Pizza your way"))
    return made


def card_of(page: str, ref: str) -> str:
    """The ticket's card as text, each mark's accessible name in [brackets]."""
    card = page.split(f'data-ref="{ref}"', 1)[1].split(">", 1)[1].split("</article>", 1)[0]
    card = re.sub(r'<[^>]*aria-label="([^"]*)"[^>]*>', r" [\1] ", card)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", card)).split())


async def test_a_line_the_allergy_note_names_is_marked_in_words(
        client: httpx.AsyncClient) -> None:
    nuts = await order(allergy="Tree nuts (severe)")
    onions = await order(allergy="no onions please")
    plain = await order()
    walnut = await order(line_allergy="Walnüsse")
    await login(client, "kitchen@demo.test")
    page = (await client.get("/kitchen/demo")).text
    restaurant = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert restaurant is not None
    frame = (await board_feed.board_frame(restaurant)).data
    mark = "⚠ contains Nuts — check the allergy note"
    for shown in (page, frame):
        card = card_of(shown, nuts.public_id)
        assert ("Sauce: Pesto (contains Nuts) Contains: Gluten, Milk, Nuts "
                "[Allergy warning: Pizza your way contains Nuts, check the allergy note] "
                f"{mark}") in card, card
        assert "Tiramisu Contains: Eggs, Milk" in card and card.count(mark) == 1, card
        # a note that names none of them: the lists, no mark
        card = card_of(shown, onions.public_id)
        assert "Contains: Gluten, Milk, Nuts" in card and "Contains: Eggs, Milk" in card
        assert mark not in card and "Allergy warning" not in card, card
        # no note: the ticket as before
        card = card_of(shown, plain.public_id)
        assert "Contains:" not in card and mark not in card, card
        # a line's own allergy note in German names its line
        assert mark in card_of(shown, walnut.public_id)
    ticket = (await client.get(f"/kitchen/demo/orders/{nuts.public_id}/ticket")).text
    assert f"*** {mark} ***" in html.unescape(ticket) and "Contains: Eggs, Milk" in ticket


def test_the_notes_words_name_allergens_in_english_german_and_synonyms() -> None:
    assert named("Tree nuts (severe)") == {"nuts"}
    assert named("peanuts") == {"peanuts"}  # not Nuts
    assert named("Erdnüsse und Sesam") == {"peanuts", "sesame"}
    assert named("Schalenfrüchte, keine Milch") == {"nuts", "milk"}
    assert named("coeliac; no dairy") == {"gluten", "milk"}
    assert named("shellfish, mussels") == {"crustaceans", "molluscs"}
    assert named("Sulfite, Senf, Sellerie, Lupinen, Eier, Soja, Fisch") == {
        "sulphites", "mustard", "celery", "lupin", "eggs", "soybeans", "fish"}
    assert named("no onions please") == set()
