"""A diner's phone number is checked as the owner's own is in the settings
(`app.restaurants.editing.phone_problem`): something a phone cannot dial is refused, by the
API (400 naming `customer.phone`) and by the menu's checkout (422, the field's message in the
diner's language), and nothing is kept. Each message says what is wrong (a character, a "+"
after the start, too few or too many digits, only zeros), not the rules again. No phone at
all stays allowed."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from arq.connections import ArqRedis

from app.orders.temp_store import KEY_PREFIX
from tests.helpers.orders import menu, temp_keys, valid_order

# Input rules and wording: no server version changes them (not in the standalone run).
pytestmark = pytest.mark.server_agnostic

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


HINT = "Enter a phone number like +49 30 1234567: "
HINT_DE = "Bitte geben Sie eine Telefonnummer wie +49 30 1234567 ein: "
# (phone, what the API and the English form say, what the German form says): one cause each.
CAUSES = [
    ("call me maybe", 'a phone number may not contain "c".',
     'eine Telefonnummer darf "c" nicht enthalten.'),
    ("030 1234567 x", 'a phone number may not contain "x".',
     'eine Telefonnummer darf "x" nicht enthalten.'),
    ("030 12+34567", 'a "+" may only come first.', 'ein "+" darf nur am Anfang stehen.'),
    ("+()", "'+()' has no digits; a phone number has at least 5.",
     "'+()' enthält keine Ziffern; eine Telefonnummer hat mindestens 5."),
    ("1", "'1' has only 1 digit; a phone number has at least 5.",
     "'1' hat nur 1 Ziffer; eine Telefonnummer hat mindestens 5."),
    ("123", "'123' has only 3 digits; a phone number has at least 5.",
     "'123' hat nur 3 Ziffern; eine Telefonnummer hat mindestens 5."),
    ("+49 30 1234567890123", "'+49 30 1234567890123' has 17 digits; a phone number has at "
     "most 15 digits, not counting a leading 00.",
     "'+49 30 1234567890123' hat 17 Ziffern; eine Telefonnummer hat höchstens 15 Ziffern, "
     "eine führende 00 nicht mitgezählt."),
    ("000 000", "'000 000' is only zeros.", "'000 000' besteht nur aus Nullen."),
]


@pytest.mark.parametrize(("phone", "says"), [(phone, says) for phone, says, _ in CAUSES])
async def test_the_api_refuses_a_phone_nobody_can_dial(client: httpx.AsyncClient,
                                                       redis: ArqRedis, phone: str,
                                                       says: str) -> None:
    body = await valid_order(client)
    body["customer"]["phone"] = phone
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 400, response.text
    problems = {problem["key"]: problem["message"] for problem in response.json()["extra"]}
    assert problems.get("customer.phone") == HINT + says, problems
    assert await temp_keys(redis) == []


@pytest.mark.parametrize("phone", ["", "+49 30 1234567", "(030) 123-4567", "0049 30 1234567"])
async def test_the_api_takes_a_real_phone_or_none(client: httpx.AsyncClient,
                                                  phone: str) -> None:
    body = await valid_order(client)
    body["customer"]["phone"] = phone
    response = await client.post("/api/orders", json=body)
    assert response.status_code == 201, response.text


async def _form(client: httpx.AsyncClient, phone: str, headers: dict[str, str]
                ) -> dict[str, str]:
    await client.get("/r/demo", headers=headers)
    soup = next(item for item in (await menu(client))["items"] if not item["groups"])
    return {"_csrf_token": client.cookies["csrftoken"], f"qty-{soup['id']}": "1",
            "name": "Ada Lovelace", "email": "ada@example.com", "fulfillment": "pickup",
            "phone": phone}


@pytest.mark.parametrize(("phone", "english", "german"), CAUSES)
@pytest.mark.parametrize("language", ["en", "de"])
async def test_the_checkout_form_says_what_is_wrong_in_the_diners_language(
        client: httpx.AsyncClient, redis: ArqRedis, language: str, phone: str, english: str,
        german: str) -> None:
    headers = GERMAN if language == "de" else {}
    says = HINT_DE + german if language == "de" else HINT + english
    form = await _form(client, phone, headers)
    response = await client.post("/r/demo/checkout", data=form, headers=headers,
                                 follow_redirects=False)
    assert response.status_code == 422, response.text[:500]
    assert 'id="phone-error"' in response.text or 'aria-describedby="phone' in response.text
    message = re.search(r'id="phone-error"[^>]*>([^<]*)<', response.text)
    assert message is not None, response.text[-3000:]
    assert html.unescape(message.group(1)).strip() == says
    assert await redis.keys(f"{KEY_PREFIX}*") == []
