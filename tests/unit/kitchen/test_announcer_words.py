"""What the kitchen screen's live region says of a new order comes from the catalog, English
and German, with the placeholders kitchen.js fills in ({number}, {items}, {count},
{fulfilment}) kept whole."""

from __future__ import annotations

import re

import pytest

from app.infra import i18n
from app.templating import environment


def said(language: str) -> dict[str, str]:
    with i18n.use(language):
        html = environment().get_template("kitchen_announcer.html").render()
    return dict(re.findall(r'data-([\w-]+)="([^"]*)"', html))


@pytest.mark.parametrize(("language", "expected"), [
    ("en", {"new-order": "New order #{number}: {items}, {fulfilment}",
            "new-order-allergy": "New order #{number}: {items}, {fulfilment}, allergy",
            "item-one": "{count} item", "item-other": "{count} items",
            "pickup": "pickup", "delivery": "delivery", "dine-in": "dine-in"}),
    ("de", {"new-order": "Neue Bestellung #{number}: {items}, {fulfilment}",
            "new-order-allergy": "Neue Bestellung #{number}: {items}, {fulfilment}, Allergie",
            "item-one": "{count} Artikel", "item-other": "{count} Artikel",
            "pickup": "Abholung", "delivery": "Lieferung", "dine-in": "Essen vor Ort"}),
])
def test_the_new_order_words_in_each_language(language: str, expected: dict[str, str]) -> None:
    assert said(language) == expected
