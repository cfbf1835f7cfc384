"""A checkout a diner trusts, on a phone (390x844, touch) against real web and worker
processes and the sandbox: one order per submit, times on the restaurant's clock, one state
at a time after paying, the kitchen's number first, the basket in reach, allergies that reach
the kitchen as a badge, an email when the kitchen accepts, and a status link that outlives
the archive."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest
from arq.connections import ArqRedis

from app.orders import lifecycle
from app.orders.archive import archive_closed_orders
from app.orders.models import TempOrder
from app.orders.tables import PaidOrder
from app.restaurants.tables import Restaurant
from tests.helpers.browser import logged_in_context
from tests.helpers.orders import back_from_stripe, make_paid_order, temp_keys, valid_order
from tests.helpers.sandbox import RunningSandbox
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
TABLET = {"width": 1280, "height": 800}
FOCUSED = "id => document.activeElement && document.activeElement.id === id"


async def phone(browser: Any, web: RunningProcess) -> Any:
    context = await browser.new_context(base_url=web.url, **PHONE)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


async def orders_for(redis: ArqRedis, email: str) -> list[TempOrder]:
    found = []
    for key in await temp_keys(redis):
        order = msgspec.json.decode(await redis.get(key), type=TempOrder)
        if order.customer.email == email:
            found.append(order)
    return found


async def pay(web: RunningProcess, sandbox: RunningSandbox, order_id: str) -> None:
    """Pay on the sandbox's Stripe; its webhook reaches the web process."""
    async with httpx.AsyncClient(base_url=web.url) as client:
        order = (await client.get(f"/api/orders/{order_id}")).json()
    sandbox.pay(order["payment_url"].rsplit("/", 1)[1])
    for _ in range(100):
        if await PaidOrder.objects().get(PaidOrder.public_id == order_id):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{order_id} never paid")


async def test_a_double_tap_places_one_order(browser: Any, web: RunningProcess,
                                             redis: ArqRedis) -> None:
    page = await phone(browser, web)
    await page.goto("/r/demo")
    await page.locator("#add-1").tap()
    await page.locator("#inc-1").wait_for()
    await page.fill("#name", "Grace Hopper")
    await page.fill("#email", "grace@example.com")

    async def slow(route: Any) -> None:  # Stripe taking its time
        await asyncio.sleep(1.5)
        await route.continue_()

    await page.route("**/r/demo/checkout", slow)
    await page.evaluate("""() => { const b = document.querySelector('button.primary-action');
                                   b.click(); b.click(); }""")
    assert await page.locator("button.primary-action").is_disabled()  # while it waits
    await page.wait_for_url(re.compile(r".*/orders/TEMP-\w+$"), timeout=15_000)
    assert len(await orders_for(redis, "grace@example.com")) == 1

    # Even two posts of the same rendered form (no script to stop the second) are one order.
    async with httpx.AsyncClient(base_url=web.url) as client:
        form_page = await client.get("/r/demo")
        key = re.search(r'name="submit_key" value="([^"]+)"', form_page.text).group(1)
        token = client.cookies.get("csrftoken", "")
        form = {"submit_key": key, "qty-1": "2", "name": "Ada", "email": "ada@example.com",
                "fulfillment": "pickup", "_csrf_token": token}
        first, second = await asyncio.gather(
            client.post("/r/demo/checkout", data=form), client.post("/r/demo/checkout", data=form))
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]

        # The API honours Idempotency-Key the same way; another body under it is refused.
        body = await valid_order(client)
        body["customer"]["email"] = "linus@example.com"
        headers = {"Idempotency-Key": "order-7f3a"}
        one, two = await asyncio.gather(client.post("/api/orders", json=body, headers=headers),
                                        client.post("/api/orders", json=body, headers=headers))
        assert one.status_code == two.status_code == 201
        assert one.json()["id"] == two.json()["id"]
        body["items"][0]["quantity"] = 3
        other = await client.post("/api/orders", json=body, headers=headers)
        assert other.status_code == 422
    assert len(await orders_for(redis, "ada@example.com")) == 1
    assert len(await orders_for(redis, "linus@example.com")) == 1
    assert page.errors == []


async def test_every_time_is_on_the_restaurants_clock_and_accepting_emails_it(
        browser: Any, web: RunningProcess, worker: RunningProcess, sandbox: RunningSandbox,
        redis: ArqRedis) -> None:
    zone = "America/New_York"  # neither UTC nor the machine's clock
    await Restaurant.update({Restaurant.timezone: zone}).where(Restaurant.slug == "demo")
    async with httpx.AsyncClient(base_url=web.url) as client:
        body = await valid_order(client)
        body["customer"]["email"] = "tz@example.com"
        created = (await client.post("/api/orders", json=body)).json()
    await pay(web, sandbox, created["id"])
    accepted = await lifecycle.apply_action(created["id"], "accept", actor="test",
                                            prep_minutes=25, redis=redis)
    assert accepted.promised_at is not None
    local = accepted.promised_at.astimezone(ZoneInfo(zone))
    clock = f"{local:%H:%M}"
    assert clock != f"{accepted.promised_at.astimezone(UTC):%H:%M}"

    page = await phone(browser, web)
    await page.goto(f"/orders/{created['id']}")
    assert f"Ready around {clock}" in await page.inner_text(".eta")

    kitchen_context = await logged_in_context(browser, web.url, "kitchen@demo.test",
                                              viewport=TABLET)
    kitchen = await kitchen_context.new_page()
    await kitchen.goto("/kitchen/demo")
    card = kitchen.locator(f"#card-{created['id']}")
    assert f"promised {clock}" in " ".join((await card.locator(".card-meta").inner_text()).split())

    message = sandbox.wait_for(lambda: [m for m in sandbox.messages(to="tz@example.com")
                                        if "Accepted" in m["subject"]], timeout=30)[0]
    assert f"ready around {clock}" in message["text"]
    assert "about 25 minutes" in message["text"]
    assert page.errors == []
    await kitchen_context.close()


async def test_after_paying_one_state_at_a_time_and_the_kitchen_number_first(
        browser: Any, web: RunningProcess, sandbox: RunningSandbox, redis: ArqRedis) -> None:
    async with httpx.AsyncClient(base_url=web.url) as client:
        created = (await client.post("/api/orders", json=await valid_order(client))).json()
    page = await phone(browser, web)
    await page.goto(back_from_stripe(created))
    progress = page.locator("#order-progress")
    assert "Confirming your payment" in await progress.inner_text()
    assert await page.locator("a.pay-button").count() == 0
    assert "()" not in await page.inner_text("main")
    assert await page.locator(".notice").count() == 0

    await pay(web, sandbox, created["id"])
    await page.wait_for_selector("#order-progress[data-status=paid]", timeout=15_000)
    text = await progress.inner_text()
    assert "Confirming" not in text and "Pay now" not in text
    order = await PaidOrder.objects().get(PaidOrder.public_id == created["id"])
    assert order is not None
    number = page.locator(".order-number")
    assert (await number.inner_text()).strip() == f"#{order.ticket_number}"
    big = await number.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    small = await page.locator(".order-ref").evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)")
    assert big >= 2 * small  # the TEMP- reference is secondary
    # The live update renamed the order everywhere on the page, as the kitchen names it.
    assert await page.title() == f"Order #{order.ticket_number} · Demo Bistro"
    assert f"(quote #{order.ticket_number} if you contact" in await page.inner_text(".order-ref")

    for action in ("accept", "ready", "complete"):
        await lifecycle.apply_action(created["id"], action, actor="test", redis=redis)
    await page.wait_for_selector("#order-progress[data-status=completed]", timeout=15_000)
    assert await page.locator(".progress-steps li").last.inner_text() == "Collected"

    delivered = await make_paid_order(status="completed", fulfillment="delivery",
                                      delivery_address="Torstraße 1")
    await page.goto(f"/orders/{delivered.public_id}")
    assert await page.locator(".progress-steps li").last.inner_text() == "Delivered"
    assert "Delivered." in await page.inner_text("#order-progress h2")
    assert page.errors == []


async def test_on_a_phone_the_basket_focus_fields_and_errors_help(
        browser: Any, web: RunningProcess) -> None:
    page = await phone(browser, web)
    await page.goto("/r/demo")
    assert await page.locator("#basket-bar").count() == 0
    await page.locator("#add-1").tap()
    await page.wait_for_function(FOCUSED, arg="inc-1")
    await page.locator("#inc-1").tap()
    # Focus was on + already: wait for the basket's answer, then for the focus it keeps.
    await page.wait_for_function("() => document.querySelector('#qty-1').value === '2'")
    await page.wait_for_function(FOCUSED, arg="inc-1")
    await page.locator("#dec-1").tap()
    await page.wait_for_function("() => document.querySelector('#qty-1').value === '1'")
    await page.wait_for_function(FOCUSED, arg="dec-1")
    await page.locator("#add-3").tap()
    await page.wait_for_function(FOCUSED, arg="inc-3")

    # The basket stays in reach while the diner looks at the menu.
    await page.evaluate("window.scrollTo(0, 0)")
    bar = await page.locator("#basket-bar").bounding_box()
    assert bar is not None and bar["y"] + bar["height"] >= 844 - 2 and bar["y"] > 700
    assert "2 items" in await page.inner_text("#basket-bar")
    assert "€17.50" in await page.inner_text("#basket-bar")

    # Only the chosen fulfilment's field.
    assert await page.locator("#delivery_address").is_hidden()
    assert await page.locator("#table").is_hidden()
    await page.locator("label[for=fulfillment-delivery]").tap()
    assert await page.locator("#delivery_address").is_visible()
    assert await page.locator("#table").is_hidden()
    await page.locator("label[for=fulfillment-dine_in]").tap()
    assert await page.locator("#table").is_visible()
    assert await page.locator("#delivery_address").is_hidden()

    # Errors in plain words, the server's (the form leaves the browser's own checks out).
    assert await page.evaluate("document.getElementById('order-form').noValidate")
    await page.fill("#email", "not-an-email")
    await page.locator("button.primary-action").tap()
    await page.wait_for_selector("#form-errors")
    errors = await page.inner_text("#form-errors")
    assert "Please enter your name." in errors
    assert not re.search(r"Expected|\$\.|`", errors), errors
    await page.fill("#name", "Ada")
    await page.locator("button.primary-action").tap()
    await page.wait_for_selector("#table-error")
    errors = await page.inner_text("#form-errors")
    assert "Please enter your table number." in errors
    assert "An email address must have an @-sign." in errors
    assert not re.search(r"Expected|\$\.|`", errors), errors
    assert await page.get_attribute("#table", "aria-invalid") == "true"

    # Thumb-sized targets: every visible control, radio choices included.
    small = await page.evaluate("""() => Array.from(document.querySelectorAll(
        'main button, main a.button, main input:not([type=hidden]):not([type=radio])' +
        ':not([type=checkbox]), main label.choice, main label.allergy-check, main textarea'))
        .filter(el => { const r = el.getBoundingClientRect();
                        return r.width > 0 && (r.height < 44 || r.width < 44); })
        .map(el => el.outerHTML.slice(0, 70))""")
    assert small == []
    assert page.errors == []


async def test_allergies_reach_the_ticket_as_a_badge_nothing_else_uses(
        browser: Any, web: RunningProcess, sandbox: RunningSandbox) -> None:
    page = await phone(browser, web)
    await page.goto("/r/demo")
    await page.locator("#add-3").tap()
    await page.locator("#inc-3").wait_for()
    await page.fill("#note-3", "well done")
    await page.locator("label:has(#allergic-3)").tap()
    await page.fill("#name", "Ada")
    await page.fill("#email", "allergy@example.com")
    await page.locator("button.primary-action").tap()  # ticked, but no words: asked for them
    await page.wait_for_selector("#allergy-3-error")
    assert "say what the allergy is" in await page.inner_text("#allergy-3-error")
    await page.fill("#allergy-3", "peanuts")
    await page.locator("label[for=has_allergy]").tap()
    await page.fill("#allergy", "sesame")
    await page.locator("button.primary-action").tap()
    await page.wait_for_url(re.compile(r".*/orders/TEMP-\w+$"), timeout=15_000)
    ref = page.url.rsplit("/", 1)[1]
    await pay(web, sandbox, ref)

    context = await logged_in_context(browser, web.url, "kitchen@demo.test", viewport=TABLET)
    kitchen = await context.new_page()
    await kitchen.goto("/kitchen/demo")
    card = kitchen.locator(f"#card-{ref}")
    badges = card.locator(".allergy")
    assert await badges.count() == 2
    texts = [" ".join(text.split()) for text in await badges.all_inner_texts()]
    # the order's allergy, then the dish's, naming its dish
    assert texts[0].upper() == "⚠ ALLERGY: SESAME"
    assert texts[1].upper() == "⚠ ALLERGY — MARGHERITA PIZZA: PEANUTS", texts
    # Read from the page as it is when asked: the board may be swapped for a fresher one
    # between finding an element and reading it (a detached element has no style).
    styles = """selector => { const el = document.querySelector(selector);
                              const s = el && el.isConnected ? getComputedStyle(el) : null;
                              return s && s.color ? [s.backgroundColor, s.color, s.fontWeight]
                                                  : null; }"""

    async def style_of(selector: str) -> list[str]:
        found = await kitchen.wait_for_function(styles, arg=selector, timeout=5_000)
        return list(await found.json_value())

    badge = await style_of(f"#card-{ref} .allergy")
    note = await style_of(f"#card-{ref} .line-notes")
    assert badge != note and badge[0] == "rgb(224, 49, 49)" and int(badge[2]) >= 800
    ticket = await context.request.get(f"/kitchen/demo/orders/{ref}/ticket")
    printed = await ticket.text()
    assert "*** Allergy: sesame ***" in printed
    assert "*** Allergy — Margherita pizza: peanuts ***" in printed
    assert 'class="print-allergy"' in printed
    async with httpx.AsyncClient(base_url=web.url) as client:
        api = (await client.get(f"/api/orders/{ref}")).json()
    assert api["allergy"] == "sesame" and api["items"][0]["allergy"] == "peanuts"
    assert page.errors == []
    await context.close()


async def test_the_status_link_outlives_the_archive(browser: Any, web: RunningProcess) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    order = await make_paid_order(status="completed", completed_at=old, paid_at=old,
                                  accepted_at=old, promised_at=old + timedelta(minutes=15))
    assert await archive_closed_orders(after_days=30) == 1
    assert await PaidOrder.objects().get(PaidOrder.id == order.id) is None
    async with httpx.AsyncClient(base_url=web.url) as client:
        api = await client.get(f"/api/orders/{order.public_id}")
        assert api.status_code == 200, api.text
        assert api.json()["status"] == "completed"
        assert api.json()["ticket_number"] == order.ticket_number
    page = await phone(browser, web)
    response = await page.goto(f"/orders/{order.public_id}")
    assert response is not None and response.status == 200
    assert (await page.inner_text(".order-number")).strip() == f"#{order.ticket_number}"
    assert await page.locator(".progress-steps li").last.inner_text() == "Collected"
    await page.wait_for_timeout(1000)  # the live stream connects rather than failing
    assert page.errors == []
