"""A person in a browser meets an error as a page in the site's layout, in their language,
saying what happened and what to do (an outside try saw raw JSON on a phone: an old order
link, a cook on another restaurant's screen, a cook on the owner's settings). Machines keep
their JSON: the API, htmx fragments, streams."""

from __future__ import annotations

import httpx
from litestar import Litestar

from tests.helpers.accounts import login, staff_session
from tests.helpers.security_headers import assert_secure_headers

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_an_unknown_restaurant_or_order_is_a_page_saying_so(
        client: httpx.AsyncClient) -> None:
    for path, detail in [("/r/nope", "no restaurant called"),
                         ("/orders/TEMP-bogus", "We could not find that order")]:
        page = await client.get(path, headers=BROWSER)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "<h1 id=\"error-title\">We could not find that page</h1>" in page.text, path
        assert detail in page.text, path
        assert '"status_code"' not in page.text
        assert f'href="{path}"' not in page.text  # no "Try again": it would not be there
        assert 'href="/"' in page.text
        assert_secure_headers(page)


async def test_a_cook_on_another_restaurants_screen_gets_a_page(
        client: httpx.AsyncClient) -> None:
    await login(client, "kitchen@demo.test")
    page = await client.get("/kitchen/demo-2", headers=BROWSER)
    assert page.status_code == 404  # as for a restaurant that does not exist
    assert "We could not find that page" in page.text and "no such restaurant" in page.text
    assert "Demo Noodle Bar" not in page.text
    assert "Try again" not in page.text


async def test_a_cook_on_an_owners_page_gets_a_page(client: httpx.AsyncClient) -> None:
    await login(client, "kitchen@demo.test")
    page = await client.get("/manage/demo/settings", headers=BROWSER)
    assert page.status_code == 403
    assert "Not allowed here" in page.text and "owners only" in page.text
    assert "Try again" not in page.text  # a no stays a no: only Home


async def test_a_no_links_a_staff_member_to_the_pages_they_may_use(
        client: httpx.AsyncClient, app: Litestar) -> None:
    """A cook on /manage had only "Home" (the diners' list) and no way to their kitchen
    screen (outside try); an owner on the admin's pages gets their own restaurant's."""
    await login(client, "kitchen@demo.test")
    page = await client.get("/manage/demo", headers=BROWSER)
    assert page.status_code == 403
    assert '<a href="/kitchen/demo">Your kitchen screen</a>' in page.text
    async with staff_session(app, "owner@demo.test") as owner:
        page = await owner.get("/admin/orders", headers=BROWSER)
    assert page.status_code == 403
    assert '<a href="/manage/demo">Your restaurant\'s pages</a>' in page.text


async def test_the_home_page_links_a_logged_in_cook_to_their_kitchen(
        client: httpx.AsyncClient) -> None:
    assert "/kitchen/" not in (await client.get("/", headers=BROWSER)).text  # a diner
    await login(client, "kitchen@demo.test")
    home = await client.get("/", headers=BROWSER)
    assert home.status_code == 200
    assert '<a href="/kitchen/demo">Your kitchen screen</a>' in home.text


async def test_the_page_speaks_the_diners_language(client: httpx.AsyncClient) -> None:
    page = await client.get("/r/nope", headers={**BROWSER, "accept-language": "de"})
    assert page.status_code == 404
    assert '<html lang="de">' in page.text
    assert "We could not find that page" not in page.text


async def test_machines_keep_their_json(client: httpx.AsyncClient) -> None:
    api = await client.get("/api/restaurants/nope/menu", headers=BROWSER)
    assert api.status_code == 404 and api.json()["status_code"] == 404
    fragment = await client.get("/r/nope", headers={**BROWSER, "hx-request": "true"})
    assert fragment.status_code == 404 and fragment.json()["status_code"] == 404
    plain = await client.get("/r/nope")  # no Accept: text/html (curl, scripts)
    assert plain.status_code == 404 and "no restaurant called" in plain.json()["detail"]
