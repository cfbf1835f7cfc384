"""The tip's example amount is written as the diner's language writes numbers: a German
diner reads "z. B. 2,50" (and may type "2,50"), not "2.50"."""

from __future__ import annotations

import re

import httpx

from tests.helpers.orders import menu

GERMAN = {"Accept-Language": "de"}


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_a_german_diner_reads_the_tip_example_with_a_decimal_comma(
        client: httpx.AsyncClient) -> None:
    await client.get("/r/demo", headers=GERMAN)
    items = {item["name"]: item["id"] for item in (await menu(client))["items"]}
    form = {"_csrf_token": client.cookies["csrftoken"],
            f"qty-{items['Margherita pizza']}": "2", "name": "Ada", "email": "ada@example.com",
            "fulfillment": "pickup", "tip": "custom", "tip_custom": "abc"}
    page = text_of((await client.get("/r/demo", headers=GERMAN)).text)
    assert "Trinkgeld (EUR, z. B. 2,50)" in page, page
    refused = await client.post("/r/demo/checkout", data=form, headers=GERMAN)
    assert refused.status_code == 422
    assert "Bitte geben Sie das Trinkgeld als Betrag ein, z. B. 2,50." in text_of(refused.text)
    english = await client.post("/r/demo/checkout", data=form)
    assert "Please enter the tip as an amount, like 2.50." in text_of(english.text)
