"""On a 390 px phone an option's name, price and allergens read as one text block beside its
box: "Toasted pine nuts +€1.50 · contains Nuts" wrapped as two columns ("Toasted pine nuts +"
over "€1.50", "· contains" over "Nuts" beside it; outside try), each piece a flex item of the
label. Read as the eye does: each piece of text in the label's order starts no higher than
the one before it."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from app.restaurants.tables import MenuItem, ModifierGroup, ModifierOption
from tests.helpers.server import RunningProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}

# the top of each line fragment of each text node in the label, in the label's order
_TOPS = """label => {
  const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
  const tops = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) tops.push([node.textContent.trim(), rect.top]);
  }
  return tops;
}"""


async def test_an_option_line_wraps_as_one_text_block(browser: Any, web: RunningProcess
                                                      ) -> None:
    pizza = await MenuItem.objects().get(MenuItem.name == "Pizza your way")
    assert pizza is not None
    extras = await ModifierGroup.objects().get(
        (ModifierGroup.menu_item == pizza.id) & (ModifierGroup.name == "Extras"))
    assert extras is not None
    await ModifierOption(modifier_group=extras.id, name="Toasted pine nuts", price_delta=150,
                         position=9, allergens=["nuts"]).save()
    context = await browser.new_context(base_url=web.url, locale="en-GB", **PHONE)
    page = await context.new_page()
    await page.goto("/r/demo")
    label = page.locator(".modifier-choice label", has_text="Toasted pine nuts")
    assert " ".join((await label.inner_text()).split()) == \
        "Toasted pine nuts +€1.50 · contains Nuts"
    tops = await label.evaluate(_TOPS)
    assert len({round(top) for _, top in tops}) > 1, tops  # it does wrap at this width
    for (_, before), (text, top) in pairwise(tops):
        assert top >= before - 1, (text, tops)
    await context.close()
