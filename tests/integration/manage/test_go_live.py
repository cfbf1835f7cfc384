"""A restaurant the admin creates starts not live (outside try: with only a slug, a name and one
dish it was listed and took paid orders into a kitchen nobody watched, at 0 % VAT, open around
the clock): unlisted, its menu saying it is not taking orders yet, intake refusing with 409.
Its overview shows the setup checklist, each step linked and said done or missing, and never
"accepting"; going live is refused (409) naming the steps still to do, and once they are done
it goes live: listed, taking orders. The settings cannot open orders before that."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from app.restaurants.tables import Restaurant, RestaurantClosure
from tests.helpers.accounts import add_invitation, add_member, login
from tests.helpers.admin import ADMIN
from tests.helpers.orders import menu

NEW_PLACE = {"slug": "new-place", "name": "New Place", "currency": "eur",
             "timezone": "Europe/Berlin", "default_prep_minutes": "15",
             "auto_reject_minutes": "10", "capture_mode": "automatic", "tax_settings": "1",
             "tax_mode": "included", "default_tax_rate": "0", "tips_enabled": "on",
             "accepting_orders": "on"}  # as the old form sent it: ignored, not live yet
# The owner's settings form for New Place, filled in (the VAT rate reviewed, the seller named).
SETTINGS = {"name": "New Place", "timezone": "Europe/Berlin", "phone": "", "email": "",
            "address": "Torstraße 9, 10119 Berlin", "default_prep_minutes": "15",
            "auto_reject_minutes": "10", "capture_mode": "automatic", "tax_settings": "1",
            "tax_mode": "included", "default_tax_rate": "7", "legal_name": "New Place GmbH",
            "legal_address": "Torstraße 9, 10119 Berlin", "tax_id": "DE987654321"}
STEPS = ("menu", "hours", "tax", "seller", "kitchen")


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def listed(home: httpx.Response) -> list[str]:
    assert home.status_code == 200, home.text[:500]
    return re.findall(r'class="restaurant-link" href="/r/([^"]+)"', home.text)


def steps_of(html: str) -> dict[str, tuple[bool, str]]:
    """Each checklist step: done or not, and the page its link opens."""
    found = {}
    for key, done, body in re.findall(
            r'<li id="setup-([a-z]+)" class="setup-step[^"]*" data-done="(yes|no)">(.*?)</li>',
            html, re.S):
        link = re.search(r'href="([^"]+)"', body)
        assert link, body
        found[key] = (done == "yes", link.group(1))
    return found


def order_for(item_id: int) -> dict[str, object]:
    return {"restaurant": "new-place", "items": [{"menu_item_id": item_id, "quantity": 1}],
            "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
            "fulfillment": "pickup"}


async def _create_with_a_dish(client: httpx.AsyncClient, token: str) -> int:
    created = await client.post("/admin/restaurants", data={**NEW_PLACE, "_csrf_token": token})
    assert created.status_code == 303, created.text[:500]
    added = await client.post("/admin/restaurants/new-place/menu", data={
        "_csrf_token": token, "name": "Schnitzel", "category": "Mains", "price": "12.50",
        "available": "on"})
    assert added.status_code == 303, added.text[:500]
    return int((await menu(client, "new-place"))["items"][0]["id"])


async def test_a_new_restaurant_is_not_live_until_its_checklist_is_done(
        client: httpx.AsyncClient) -> None:
    token = await login(client, ADMIN)
    dish = await _create_with_a_dish(client, token)

    # Diners: not on the home page, the menu says not yet and offers no time, the API refuses.
    assert listed(await client.get("/")) == ["demo", "demo-2"]
    page = text_of((await client.get("/r/new-place")).text)
    assert "New Place is not taking orders yet." in page
    assert "As soon as possible" not in page
    assert (await menu(client, "new-place"))["restaurant"]["accepting_orders"] is False
    refused = await client.post("/api/orders", json=order_for(dish))
    assert refused.status_code == 409, refused.text
    assert "not taking orders" in refused.text

    # The overview: no "accepting", the checklist with what is missing, each linked.
    overview = await client.get("/manage/new-place")
    assert overview.status_code == 200
    said = text_of(overview.text)
    assert "accepting" not in said and "not live yet" in said
    steps = steps_of(overview.text)
    assert steps == {"menu": (True, "/manage/new-place/menu"),
                     "hours": (False, "/manage/new-place/hours"),
                     "tax": (False, "/manage/new-place/settings"),
                     "seller": (False, "/manage/new-place/settings"),
                     "kitchen": (False, "/manage/new-place/staff")}
    assert "The default VAT rate is 0 %" in said
    assert "diners could order around the clock" in said

    # Going live now: refused, naming the four steps still to do; nothing changed.
    early = await client.post("/manage/new-place/go-live", data={"_csrf_token": token})
    assert early.status_code == 409, early.text[:500]
    alert = re.search(r'<div class="form-errors" role="alert" id="go-live-refused".*?</div>',
                      early.text, re.S)
    assert alert, early.text[:2000]
    assert re.findall(r'href="#setup-([a-z]+)"', alert.group(0)) == [
        "hours", "tax", "seller", "kitchen"]
    assert "new-place" not in listed(await client.get("/"))

    # The settings cannot open orders before going live either.
    sneaky = await client.post("/manage/new-place/settings", data={
        **SETTINGS, "accepting_orders": "on", "_csrf_token": token})
    assert sneaky.status_code == 422, sneaky.text[:500]
    assert "Not live yet" in sneaky.text
    assert (await client.post("/api/orders", json=order_for(dish))).status_code == 409

    # Do the steps: VAT and seller, hours kept empty on purpose, a kitchen invitation.
    saved = await client.post("/manage/new-place/settings",
                              data={**SETTINGS, "_csrf_token": token})
    assert saved.status_code == 303, saved.text[:500]
    hours = await client.post("/manage/new-place/hours", data={
        "_csrf_token": token, **{f"day_{day}": "" for day in range(7)},
        "schedule_days": "7", "slot_capacity": "0"})
    assert hours.status_code == 303, hours.text[:500]
    invited = await client.post("/manage/new-place/staff/invitations", data={
        "_csrf_token": token, "email": "cook@new-place.test", "role": "kitchen"})
    assert invited.status_code in (200, 303), invited.text[:500]
    steps = steps_of((await client.get("/manage/new-place")).text)
    assert {key: done for key, (done, _) in steps.items()} == dict.fromkeys(STEPS, True)

    live = await client.post("/manage/new-place/go-live", data={"_csrf_token": token})
    assert live.status_code == 303 and live.headers["location"] == "/manage/new-place?live=1"
    overview = await client.get(live.headers["location"])
    said = text_of(overview.text)
    assert "New Place is live" in said and "accepting" in said
    assert 'id="setup"' not in overview.text

    assert listed(await client.get("/")) == ["demo", "demo-2", "new-place"]
    page = text_of((await client.get("/r/new-place")).text)
    assert "not taking orders" not in page and "Place order and pay" in page
    ordered = await client.post("/api/orders", json=order_for(dish))
    assert ordered.status_code in (201, 202), ordered.text

    # A second tap changes nothing; pausing a live restaurant keeps it listed, as before.
    again = await client.post("/manage/new-place/go-live", data={"_csrf_token": token})
    assert again.status_code == 303
    paused = await client.post("/manage/new-place/settings",
                               data={**SETTINGS, "_csrf_token": token})  # box unticked
    assert paused.status_code == 303
    assert "new-place" in listed(await client.get("/"))
    assert (await client.post("/api/orders", json=order_for(dish))).status_code == 409


async def test_only_the_vat_fields_and_the_hours_form_confirm_their_steps(
        client: httpx.AsyncClient) -> None:
    """Saving a restaurant's name or other settings confirms neither its VAT nor its hours:
    VAT is confirmed only by a post that carries the VAT fields (its `tax_settings` fieldset,
    which says saving it confirms), the hours only by the hours form."""
    token = await login(client, ADMIN)
    await _create_with_a_dish(client, token)  # at 0 %: VAT to confirm
    no_vat = {key: value for key, value in NEW_PLACE.items()
              if key not in ("slug", "accepting_orders", "tax_settings", "tax_mode",
                             "default_tax_rate", "tips_enabled")}
    renamed = await client.post("/admin/restaurants/new-place", data={
        **no_vat, "name": "New Place Berlin", "_csrf_token": token})
    assert renamed.status_code == 303, renamed.text[:500]
    # The admin's form carries the VAT fields, and says saving them confirms the rate.
    admin_form = text_of((await client.get("/admin/restaurants/new-place")).text)
    assert "New Place Berlin" in admin_form
    assert "Not confirmed yet" in admin_form and "keep 0 % and save to confirm it" in admin_form
    await add_member("owner@new-place.test", "owner", "new-place")
    await client.post("/logout", data={"_csrf_token": token})
    token = await login(client, "owner@new-place.test")
    other = {key: value for key, value in SETTINGS.items()
             if key not in ("tax_settings", "tax_mode", "default_tax_rate")}
    saved = await client.post("/manage/new-place/settings", data={
        **other, "name": "New Place Mitte", "timezone": "Europe/Vienna", "_csrf_token": token})
    assert saved.status_code == 303, saved.text[:500]
    overview = await client.get("/manage/new-place")
    assert "New Place Mitte" in overview.text
    steps = steps_of(overview.text)
    assert steps["tax"][0] is False and steps["hours"][0] is False
    assert "The default VAT rate is 0 %" in text_of(overview.text)
    settings = text_of((await client.get("/manage/new-place/settings")).text)
    assert "keep 0 % and save to confirm it" in settings

    # The settings saved with the VAT fields (0 % kept on purpose): VAT confirmed; hours not.
    confirmed = await client.post("/manage/new-place/settings", data={
        **other, "tax_settings": "1", "tax_mode": "included", "default_tax_rate": "0",
        "_csrf_token": token})
    assert confirmed.status_code == 303, confirmed.text[:500]
    steps = steps_of((await client.get("/manage/new-place")).text)
    assert steps["tax"][0] is True and steps["hours"][0] is False
    assert steps["seller"][0] is True  # the legal details are in the same fieldset
    assert "Not confirmed yet" not in text_of(
        (await client.get("/manage/new-place/settings")).text)

    # The hours form saved with every day empty (around the clock on purpose): confirmed.
    hours = await client.post("/manage/new-place/hours", data={
        "_csrf_token": token, **{f"day_{day}": "" for day in range(7)},
        "schedule_days": "7", "slot_capacity": "0"})
    assert hours.status_code == 303, hours.text[:500]
    assert steps_of((await client.get("/manage/new-place")).text)["hours"][0] is True


async def test_the_new_restaurant_form_says_which_vat_rate_counts_as_confirmed(
        client: httpx.AsyncClient) -> None:
    """A rate other than 0 % typed when the admin creates the restaurant confirms its VAT
    step; the form says so, and 0 % is left for the owner to confirm."""
    token = await login(client, ADMIN)
    blank = text_of((await client.get("/admin/restaurants/new")).text)
    assert ("A rate other than 0 % typed here confirms the VAT step of the owner's setup "
            "checklist; at 0 % the owner confirms it in the settings.") in blank
    created = await client.post("/admin/restaurants", data={
        **NEW_PLACE, "default_tax_rate": "19", "_csrf_token": token})
    assert created.status_code == 303, created.text[:500]
    steps = steps_of((await client.get("/manage/new-place")).text)
    assert steps["tax"][0] is True and steps["hours"][0] is False
    zero = await client.post("/admin/restaurants", data={
        **NEW_PLACE, "slug": "zero-place", "_csrf_token": token})
    assert zero.status_code == 303, zero.text[:500]
    assert steps_of((await client.get("/manage/zero-place")).text)["tax"][0] is False


async def test_only_an_owner_goes_live_and_a_manager_sees_the_checklist(
        client: httpx.AsyncClient) -> None:
    token = await login(client, ADMIN)
    await _create_with_a_dish(client, token)
    invited = await client.post("/manage/new-place/staff/invitations", data={
        "_csrf_token": token, "email": "boss@new-place.test", "role": "manager"})
    assert invited.status_code in (200, 303), invited.text[:500]
    overview = await client.get("/manage/new-place")
    assert steps_of(overview.text)["kitchen"][0] is True  # an open invitation counts
    assert 'action="/manage/new-place/go-live"' in overview.text  # the admin is above owner


async def test_the_owners_alone_are_nobody_to_run_the_kitchen_unless_they_say_so(
        client: httpx.AsyncClient) -> None:
    """The owner's own account made "Someone to run the kitchen" done before any cook
    existed (outside try): only a kitchen or manager account or invitation counts, or the
    owner saying, on purpose, that they run the kitchen screen themselves."""
    token = await login(client, ADMIN)
    await _create_with_a_dish(client, token)
    await client.post("/manage/new-place/settings", data={**SETTINGS, "_csrf_token": token})
    await client.post("/manage/new-place/hours", data={
        "_csrf_token": token, **{f"day_{day}": "" for day in range(7)},
        "schedule_days": "7", "slot_capacity": "0"})
    await add_member("owner@new-place.test", "owner", "new-place")
    await add_invitation("partner@new-place.test", "owner", "new-place")
    await client.post("/logout", data={"_csrf_token": token})
    token = await login(client, "owner@new-place.test")
    overview = await client.get("/manage/new-place")
    assert steps_of(overview.text)["kitchen"][0] is False
    step = re.search(r'<li id="setup-kitchen".*?</li>', overview.text, re.S)
    assert step and "Nobody but the owners can open the kitchen screen" in text_of(step.group(0))
    assert "I'll run the kitchen screen myself" in html.unescape(text_of(step.group(0)))
    early = await client.post("/manage/new-place/go-live", data={"_csrf_token": token})
    assert early.status_code == 409
    assert re.findall(r'href="#setup-([a-z]+)"', early.text) == ["kitchen"]

    # The owner runs the kitchen screen themselves, on purpose: done, and they go live.
    myself = await client.post("/manage/new-place/go-live/kitchen",
                               data={"_csrf_token": token, "myself": "1"})
    assert myself.status_code == 303
    assert myself.headers["location"] == "/manage/new-place#setup-kitchen"
    overview = await client.get("/manage/new-place")
    assert steps_of(overview.text)["kitchen"][0] is True
    assert "You run the kitchen screen yourself (chosen on purpose)." in text_of(overview.text)
    # Taken back: to do again, until a cook is invited.
    await client.post("/manage/new-place/go-live/kitchen",
                      data={"_csrf_token": token, "myself": "0"})
    assert steps_of((await client.get("/manage/new-place")).text)["kitchen"][0] is False
    await add_member("cook@new-place.test", "kitchen", "new-place")
    overview = await client.get("/manage/new-place")
    assert steps_of(overview.text)["kitchen"][0] is True
    assert "For the kitchen screen: 1 kitchen or manager account." in text_of(overview.text)
    live = await client.post("/manage/new-place/go-live", data={"_csrf_token": token})
    assert live.status_code == 303


async def test_only_an_owner_says_they_run_the_kitchen_themselves(
        client: httpx.AsyncClient) -> None:
    token = await login(client, ADMIN)
    await _create_with_a_dish(client, token)
    await add_member("boss@new-place.test", "manager", "new-place")
    await client.post("/logout", data={"_csrf_token": token})
    token = await login(client, "boss@new-place.test")
    assert "run the kitchen screen myself" not in (await client.get("/manage/new-place")).text
    refused = await client.post("/manage/new-place/go-live/kitchen",
                                data={"_csrf_token": token, "myself": "1"})
    assert refused.status_code in (403, 404)
    row = await Restaurant.select(Restaurant.kitchen_confirmed).where(
        Restaurant.slug == "new-place").first()
    assert row == {"kitchen_confirmed": False}


async def test_the_demo_restaurants_stay_live(client: httpx.AsyncClient) -> None:
    await login(client, ADMIN)
    overview = await client.get("/manage/demo")
    assert 'id="setup"' not in overview.text
    assert "accepting" in text_of(overview.text)
    assert listed(await client.get("/")) == ["demo", "demo-2"]


async def test_a_live_restaurant_closed_now_is_not_said_to_be_accepting(
        client: httpx.AsyncClient) -> None:
    """Closed today (a closure): diners see "closed"; the overview said "accepting"."""
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None
    today = datetime.now(UTC).astimezone(ZoneInfo(demo.timezone)).date()
    await RestaurantClosure(restaurant=demo.id, starts_on=today, ends_on=today + timedelta(1),
                            reason="holiday").save()
    await login(client, ADMIN)
    orders_now = re.search(r'<li id="orders-now">(.*?)</li>',
                           (await client.get("/manage/demo")).text, re.S)
    assert orders_now
    said = text_of(orders_now.group(1))
    assert "closed now" in said and "accepting" not in said, said
    assert "holiday" in said


# What a browser's form post asks for (htmx and scripts ask for */* or JSON).
BROWSER_POST = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def go_live_form(html_text: str) -> str:
    form = re.search(r'<form [^>]*id="go-live".*?</form>', html_text, re.S)
    assert form, html_text[:2000]
    return form.group(0)


async def test_go_live_is_disabled_with_its_reason_while_steps_are_missing(
        client: httpx.AsyncClient) -> None:
    """Outside try: "Go live" was a live button beside "5 steps still to do"; pressing it only
    to be refused. While a step is missing it is disabled, the reason beside it and tied to
    it (aria-describedby); with every step done it is a button to press."""
    token = await login(client, ADMIN)
    await _create_with_a_dish(client, token)
    form = go_live_form((await client.get("/manage/new-place")).text)
    button = re.search(r"<button [^>]*>Go live</button>", form)
    assert button and " disabled" in button.group(0), form
    assert 'aria-describedby="go-live-hint"' in button.group(0), form
    hint = re.search(r'<[a-z]+ [^>]*id="go-live-hint"[^>]*>(.*?)</', form, re.S)
    assert hint, form
    assert text_of(hint.group(1)) == "Finish the steps above to go live: 4 steps still to do."

    await client.post("/manage/new-place/settings", data={**SETTINGS, "_csrf_token": token})
    await client.post("/manage/new-place/hours", data={
        "_csrf_token": token, **{f"day_{day}": "" for day in range(7)},
        "schedule_days": "7", "slot_capacity": "0"})
    hint = text_of(go_live_form((await client.get("/manage/new-place")).text))
    assert "Finish the steps above to go live: 1 step still to do." in hint
    await client.post("/manage/new-place/staff/invitations", data={
        "_csrf_token": token, "email": "cook@new-place.test", "role": "kitchen"})
    form = go_live_form((await client.get("/manage/new-place")).text)
    button = re.search(r"<button [^>]*>Go live</button>", form)
    assert button and "disabled" not in button.group(0) and "go-live-hint" not in form, form


async def test_a_refused_go_live_from_a_browser_goes_back_to_the_overview(
        client: httpx.AsyncClient) -> None:
    """A browser posting "Go live" anyway (a page left open while a step was undone) was
    answered 409 with the overview at the post's address, so reloading posted again. It is
    sent back to the overview (303), which names the steps still to do; nothing changed.
    htmx and other callers keep the 409 with the overview."""
    token = await login(client, ADMIN)
    await _create_with_a_dish(client, token)
    refused = await client.post("/manage/new-place/go-live", data={"_csrf_token": token},
                                headers=BROWSER_POST)
    assert refused.status_code == 303, refused.text[:500]
    assert refused.headers["location"] == "/manage/new-place?refused=1"
    overview = await client.get(refused.headers["location"], headers=BROWSER_POST)
    assert overview.status_code == 200
    alert = re.search(r'<div class="form-errors" role="alert" id="go-live-refused".*?</div>',
                      overview.text, re.S)
    assert alert, overview.text[:2000]
    assert "Not live yet: 4 steps still to do." in text_of(alert.group(0))
    assert re.findall(r'href="#setup-([a-z]+)"', alert.group(0)) == [
        "hours", "tax", "seller", "kitchen"]
    row = await Restaurant.select(Restaurant.live_since, Restaurant.accepting_orders).where(
        Restaurant.slug == "new-place").first()
    assert row == {"live_since": None, "accepting_orders": False}
    assert "new-place" not in listed(await client.get("/"))
    # Without the flag (or once the steps are done) the overview names no refusal.
    assert 'id="go-live-refused"' not in (await client.get("/manage/new-place")).text

    swap = await client.post("/manage/new-place/go-live", data={"_csrf_token": token},
                             headers={"HX-Request": "true", "Accept": "text/html"})
    assert swap.status_code == 409 and 'id="go-live-refused"' in swap.text
