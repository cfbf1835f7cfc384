"""The owner's menu list reads as words: a dish's option groups are separated by " · "
("Size (3)· Extras (4)" had no space before the dot: outside try)."""

from __future__ import annotations

import re

import httpx

from tests.helpers.accounts import login


async def test_a_dishs_option_groups_are_spaced(client: httpx.AsyncClient) -> None:
    await login(client, "owner@demo.test")
    page = (await client.get("/manage/demo/menu")).text
    dish = re.search(r'<li id="item-\d+"[^>]*>\s*<a [^>]*>Pizza your way</a>.*?</li>', page, re.S)
    assert dish, "the demo's dish with options"
    # the words as a browser puts them together: no space between two adjacent tags
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", dish.group(0)))
    assert re.search(r"Size \(\d+\) · Extras \(\d+\)", shown), shown
