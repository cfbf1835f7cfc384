"""Every page names its icon, and the icon is there: browsers otherwise ask for
/favicon.ico on every page and log a 404 in the console (seen by an outside try)."""

from __future__ import annotations

import re

import httpx

from tests.helpers.orders import make_paid_order


async def test_pages_link_an_icon_that_is_served(client: httpx.AsyncClient) -> None:
    order = await make_paid_order()
    for path in ("/", "/r/demo", f"/orders/{order.public_id}", "/login"):
        page = await client.get(path)
        assert page.status_code == 200, path
        icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.text)
        assert icon is not None, path
        served = await client.get(icon.group(1))
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("image/svg+xml")
        assert served.text.startswith("<svg")
