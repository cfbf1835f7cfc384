"""The menu page's checkout without JavaScript: the cart shows net, VAT per rate, gross, the
chosen tip and the total the button charges; a custom tip is read as the diner writes it;
bad tips are field errors and nothing is stored. The kitchen's card shows the tip."""

from __future__ import annotations

import re

import httpx
from arq.connections import ArqRedis

from app.restaurants.tables import MenuItem, Restaurant
from tests.helpers.accounts import login
from tests.helpers.orders import menu, pay_and_post_webhook, temp_keys
from tests.helpers.sandbox import RunningSandbox


async def basket(client: httpx.AsyncClient) -> dict[str, str]:
    await client.get("/r/demo")
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    return {"_csrf_token": client.cookies["csrftoken"],
            f"qty-{items['Margherita pizza']}": "2", f"qty-{items['Lemonade']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup"}


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_the_cart_shows_vat_per_rate_and_the_chosen_tip(client: httpx.AsyncClient
                                                              ) -> None:
    form = await basket(client)
    page = await client.get("/r/demo")
    assert 'id="tip-10"' in page.text and 'id="tip-custom"' in page.text
    cart = await client.post("/r/demo/cart", data={**form, "tip": "10"})
    text = text_of(cart.text)
    for shown in ("Net €24.34", "VAT 7% €1.44", "VAT 19% €0.72", "Items incl. VAT €26.50",
                  "Tip (no VAT) €2.65", "Total €29.15", "Place order and pay €29.15",
                  "10% (€2.65)", "15% (€3.98)"):
        assert shown in text, shown
    assert re.search(r'id="tip-10"[^>]*value="10"\s+checked', cart.text)
    # VAT added at checkout: the menu prices are the net, the VAT comes on top.
    await Restaurant.update({Restaurant.tax_mode: "added"}).where(Restaurant.slug == "demo")
    text = text_of((await client.post("/r/demo/cart", data=form)).text)
    assert "Menu prices are before VAT" in text
    assert "Net €26.50" in text and "VAT 19% €0.86" in text and "Total €28.90" in text


async def test_a_custom_tip_from_the_form_is_charged(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    form = await basket(client)
    response = await client.post("/r/demo/checkout", data={
        **form, "tip": "custom", "tip_custom": "2,50"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    ref = response.headers["location"].rsplit("/", 1)[1]
    created = (await client.get(f"/api/orders/{ref}")).json()
    assert created["totals"]["tip"]["amount"] == 250
    assert created["total"]["amount"] == 2900
    status = text_of((await client.get(f"/orders/{ref}")).text)
    assert "VAT 7% €1.44" in status and "Tip (no VAT) €2.50" in status
    assert "Pay now €29.00" in status

    # Paid, the kitchen's card shows the tip, small, next to the total.
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    await login(client, "kitchen@demo.test")
    board = await client.get("/kitchen/demo")
    card = board.text.split(f'id="card-{ref}"')[1].split("</article>")[0]
    assert 'class="tip" data-tip="250"' in card and "incl. tip €2.50" in text_of(card)


async def test_bad_tips_in_the_form_are_field_errors(client: httpx.AsyncClient,
                                                     redis: ArqRedis) -> None:
    form = await basket(client)
    for custom, message in (("abc", "Please enter the tip as an amount, like 2.50."),
                            ("30", "A tip can be at most the price of the food (100 %)."),
                            ("-1", "Please enter the tip as an amount, like 2.50.")):
        response = await client.post("/r/demo/checkout", data={
            **form, "tip": "custom", "tip_custom": custom})
        assert response.status_code == 422, custom
        assert 'id="tip-error"' in response.text and message in response.text, custom
    assert await temp_keys(redis) == []
    # A restaurant without tips shows no choice, and a forged one is refused.
    await Restaurant.update({Restaurant.tips_enabled: False}).where(Restaurant.slug == "demo")
    assert 'name="tip"' not in (await client.get("/r/demo")).text
    forged = await client.post("/r/demo/checkout", data={**form, "tip": "10"})
    assert forged.status_code == 422 and "does not take tips online" in forged.text
    assert await temp_keys(redis) == []


async def test_a_tip_in_kronur_is_shown_asked_for_and_charged_in_whole_kronur(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    """Stripe takes ISK only in whole kronur: the percentages show what they charge (15 % of
    1,550 kr is 233 kr, not 232.50), the label's example has no decimals, and a typed tip
    with decimals is refused with an example Stripe would take, in English and German."""
    await Restaurant.update({Restaurant.currency: "isk"}).where(Restaurant.slug == "demo")
    await MenuItem.update({MenuItem.price_amount: 62500}).where(
        MenuItem.name == "Margherita pizza")
    await MenuItem.update({MenuItem.price_amount: 30000}).where(MenuItem.name == "Lemonade")
    form = await basket(client)  # two at 625 kr, one at 300 kr
    text = text_of((await client.post("/r/demo/cart", data={**form, "tip": "15"})).text)
    assert "15% (ISK233)" in text and "Tip (ISK, e.g. 300)" in text, text
    assert "2.50" not in text
    typed = await client.post("/r/demo/checkout", data={
        **form, "tip": "custom", "tip_custom": "2.50"})
    assert typed.status_code == 422
    assert "Please enter the tip as an amount, like 300." in text_of(typed.text)
    german = await client.post("/r/demo/checkout", data={
        **form, "tip": "custom", "tip_custom": "2.50"}, headers={"Accept-Language": "de"})
    shown = text_of(german.text)
    assert "Bitte geben Sie das Trinkgeld als Betrag ein, z. B. 300." in shown, shown
    assert "Trinkgeld (ISK, z. B. 300)" in shown
    assert await temp_keys(redis) == []


async def test_a_dish_sold_out_meanwhile_is_listed_but_not_counted(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    """A basket kept over a reload, or open while the kitchen 86es a dish, still lists it
    (marked sold out) but the total and the pay button leave it out: intake refuses it, and
    the button promised €30.20 for an order that could not be paid."""
    form = await basket(client)  # 2 Margherita €22.00, 1 Lemonade €4.50
    await MenuItem.update({MenuItem.available: False}).where(MenuItem.name == "Lemonade")
    text = text_of((await client.post("/r/demo/cart", data={**form, "tip": "10"})).text)
    assert "Lemonade (sold out)" in text
    assert "Items incl. VAT €22.00" in text and "Tip (no VAT) €2.20" in text
    assert "Place order and pay €24.20" in text
    refused = await client.post("/r/demo/checkout", data=form, follow_redirects=False)
    assert refused.status_code == 422 and "Lemonade is sold out." in text_of(refused.text)
    assert await temp_keys(redis) == []


async def test_other_amount_without_an_amount_is_asked_for_at_checkout(
    client: httpx.AsyncClient, redis: ArqRedis
) -> None:
    """"Other amount" chosen and left empty: the cart refresh that follows choosing the radio
    shows no tip yet, but checkout asks for the amount instead of placing the order
    without the tip the diner meant to give."""
    form = await basket(client)
    refreshed = await client.post("/r/demo/cart", data={**form, "tip": "custom",
                                                         "tip_custom": ""})
    assert refreshed.status_code == 200 and 'id="tip-error"' not in refreshed.text
    for empty in ("", "   "):
        response = await client.post("/r/demo/checkout", data={
            **form, "tip": "custom", "tip_custom": empty}, follow_redirects=False)
        assert response.status_code == 422, (empty, response.text)
        assert 'id="tip-error"' in response.text
        assert "Please enter the tip as an amount, like 2.50." in text_of(response.text)
        assert re.search(r'id="tip_custom"[^>]*aria-invalid="true"', response.text)
    german = await client.post("/r/demo/checkout", data={
        **form, "tip": "custom", "tip_custom": ""}, headers={"Accept-Language": "de"})
    assert german.status_code == 422
    # the example as German writes it (app/orders/cart.py `tip_example`)
    assert "Bitte geben Sie das Trinkgeld als Betrag ein, z. B. 2,50." in text_of(german.text)
    assert await temp_keys(redis) == []
