"""Diner pages and emails in the diner's language: German by the browser's Accept-Language,
by the page's switch (remembered in a cookie, and beating the browser), by the restaurant's
default when the browser names nothing we speak; form errors follow; an order placed in German
gets its emails in German, the receipt with its VAT table included, sent by the worker's job
into the sandbox mailbox. The JSON API and the kitchen stay English."""

from __future__ import annotations

import re
from typing import Any

import httpx
from arq.connections import ArqRedis
from litestar import Litestar

from app.orders.tables import PaidOrder
from app.restaurants.tables import Restaurant
from app.settings import get_settings
from tests.helpers.orders import menu, pay_and_post_webhook
from tests.helpers.sandbox import RunningSandbox, stripe_client
from workers.email_jobs import send_email

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def is_german(response: httpx.Response) -> bool:
    return '<html lang="de">' in response.text and "Bestellen und bezahlen" in response.text


def is_english(response: httpx.Response) -> bool:
    return '<html lang="en">' in response.text and "Place order and pay" in response.text


async def test_the_browsers_language_decides(client: httpx.AsyncClient) -> None:
    german = await client.get("/r/demo", headers=GERMAN)
    assert is_german(german)
    assert "11,00\xa0€" in german.text  # a Margherita pizza, priced the German way
    assert "Accept-Language" in german.headers.get("vary", "")
    english = await client.get("/r/demo", headers=ENGLISH)
    assert is_english(english) and "€11.00" in english.text
    assert 'lang="de">Deutsch</a>' in english.text  # the switch, each name in its language
    home = await client.get("/", headers=GERMAN)
    assert "Wo möchten Sie bestellen?" in home.text


async def test_the_switch_is_remembered_and_beats_the_browser(client: httpx.AsyncClient
                                                              ) -> None:
    switched = await client.get("/r/demo?lang=de", headers=ENGLISH)
    assert is_german(switched)
    assert client.cookies.get("lang") == "de"
    assert is_german(await client.get("/r/demo", headers=ENGLISH))
    assert "Wo möchten Sie bestellen?" in (await client.get("/", headers=ENGLISH)).text
    back = await client.get("/r/demo?lang=en", headers=GERMAN)
    assert is_english(back) and client.cookies.get("lang") == "en"
    assert is_english(await client.get("/r/demo", headers=GERMAN))
    # A language we do not speak changes nothing (and sets nothing).
    assert is_english(await client.get("/r/demo?lang=xx", headers=GERMAN))
    assert client.cookies.get("lang") == "en"


async def test_the_restaurants_default_when_the_browser_names_nothing_we_speak(
    client: httpx.AsyncClient
) -> None:
    await Restaurant.update({Restaurant.default_language: "de"}).where(
        Restaurant.slug == "demo")
    assert is_german(await client.get("/r/demo"))  # no Accept-Language at all
    assert is_german(await client.get("/r/demo", headers={"Accept-Language": "fr-FR"}))
    assert is_english(await client.get("/r/demo", headers=ENGLISH))
    assert is_english(await client.get("/r/demo-2"))  # another restaurant, its own default


async def test_form_errors_follow_the_language_and_the_api_stays_english(
    client: httpx.AsyncClient
) -> None:
    await client.get("/r/demo", headers=GERMAN)
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    form = {"_csrf_token": client.cookies["csrftoken"], f"qty-{items['Lemonade']}": "1",
            "name": "", "email": "ada@example.com", "fulfillment": "pickup"}
    refused = await client.post("/r/demo/checkout", data=form, headers=GERMAN)
    assert refused.status_code == 422
    text = text_of(refused.text)
    assert "Bitte prüfen Sie Ihre Bestellung: Bitte geben Sie Ihren Namen ein." in text
    # Intake's own checks (the address, the delivery) are said in German too.
    form.update({"name": "Ada", "email": "not-an-address", "fulfillment": "delivery"})
    text = text_of((await client.post("/r/demo/checkout", data=form, headers=GERMAN)).text)
    for shown in ("Eine E-Mail-Adresse muss ein @-Zeichen enthalten.",
                  "Bitte geben Sie die Lieferadresse ein."):
        assert shown in text, shown
    assert "@-sign" not in text and "required" not in text
    api = await client.post("/api/orders", headers=GERMAN, json={
        "restaurant": "demo", "items": [{"menu_item_id": items["Lemonade"], "quantity": 1}],
        "customer": {"name": "", "email": "ada@example.com"}, "fulfillment": "pickup"})
    assert api.status_code in (400, 422) and "Bitte" not in api.text
    kitchen = await client.get("/login", headers=GERMAN)
    assert '<html lang="en">' in kitchen.text


async def _emails(sandbox: RunningSandbox, address: str) -> dict[str, dict[str, Any]]:
    return {message["subject"]: message for message in sandbox.messages(to=address)}


async def test_an_order_placed_in_german_gets_german_emails(
    app: Litestar, client: httpx.AsyncClient, sandbox: RunningSandbox, redis: ArqRedis
) -> None:
    await client.get("/r/demo?lang=de")
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    placed = await client.post("/r/demo/checkout", headers=ENGLISH, follow_redirects=False,
                               data={"_csrf_token": client.cookies["csrftoken"],
                                     f"qty-{items['Margherita pizza']}": "2",
                                     f"qty-{items['Lemonade']}": "1", "tip": "10",
                                     "name": "Ada Lovelace", "email": "ada.de@example.com",
                                     "fulfillment": "pickup"})
    assert placed.status_code == 303, placed.text
    ref = placed.headers["location"].rsplit("/", 1)[1]
    # The worker sends later, in the order's language, whatever language it runs in: first
    # the payment link (from the temp order in Redis) …
    settings = get_settings().model_copy(update={"resend_api_url": sandbox.url})
    ctx = {"redis": redis, "settings": settings, "job_try": 1}
    await send_email(ctx, "order_confirmation", ref)
    confirmation = sandbox.wait_for(lambda: [
        message for message in sandbox.messages(to="ada.de@example.com")
        if message["subject"] == "Bezahlen Sie, um Ihre Bestellung bei Demo Bistro zu "
                                 "bestätigen"], timeout=10)
    assert "Dieser Zahlungslink gilt bis" in confirmation[0]["text"]
    created = (await client.get(f"/api/orders/{ref}")).json()
    session = stripe_client(sandbox.url).v1.checkout.sessions.retrieve(
        created["payment_url"].rsplit("/", 1)[1])
    assert session.locale == "de"  # Stripe's hosted page speaks German too
    assert await pay_and_post_webhook(client, sandbox, created) == "created"
    order = await PaidOrder.objects().get(PaidOrder.public_id == ref)
    assert order is not None and order.language == "de"

    # The status page follows the order's language for a browser that names none.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as other_device:
        status = await other_device.get(f"/orders/{ref}")
    assert '<html lang="de">' in status.text and "Zahlung erhalten" in status.text

    # … then the receipt, from the paid order in Postgres.
    await send_email(ctx, "payment_received", ref)
    emails = await _emails(sandbox, "ada.de@example.com")
    receipt = emails[f"Zahlung erhalten: Bestellung #{order.ticket_number} bei Demo Bistro ist "
                     "in der Küche"]
    text = receipt["text"]
    for needed in ("QUITTUNG", f"Bestellung #{order.ticket_number}", ref,
                   "2 x Margherita pizza  22,00\xa0€", "Netto: 24,34\xa0€",
                   "MwSt. 7 %: 1,44\xa0€", "MwSt. 19 %: 0,72\xa0€",
                   "Artikel inkl. MwSt.: 26,50\xa0€", "Trinkgeld (ohne MwSt.): 2,65\xa0€",
                   "Gesamt: 29,15\xa0€", "Verkäufer: Demo Bistro GmbH",
                   "USt-IdNr. / Steuernummer: DE123456789", " Uhr am "):
        assert needed in text, needed
    # The VAT table: words split at spaces (an amount keeps its no-break space).
    table = [[word for word in line.split(" ") if word] for line in text.splitlines()]
    assert ["MwSt.-Satz", "Netto", "MwSt.", "Brutto"] in table
    assert ["7", "%", "20,56\xa0€", "1,44\xa0€", "22,00\xa0€"] in table
    assert ["Summe", "24,34\xa0€", "2,16\xa0€", "26,50\xa0€"] in table
    html = receipt["html"]
    assert '<html lang="de">' in html and 'data-testid="vat-table"' in html
    assert "MwSt.-Satz" in html and "Quittung" in html
