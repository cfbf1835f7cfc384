"""The admin takes only a currency Stripe can charge in: "zzz" (three letters, no currency)
and an ISO 4217 code Stripe does not support are refused by the field (422), saying which
code and what to write instead, and nothing is saved, on creation and on edit alike."""

from __future__ import annotations

import httpx
import pytest

from app.restaurants.tables import Restaurant

VALID = {"slug": "coin-place", "name": "Coin Place", "currency": "eur",
         "timezone": "Europe/Berlin", "default_prep_minutes": "15",
         "auto_reject_minutes": "10", "capture_mode": "automatic", "accepting_orders": "on"}


def _currency_error(page: httpx.Response) -> str:
    assert page.status_code == 422, page.text[:500]
    return page.text.split('id="currency-error"')[1].split(">", 1)[1].split("<")[0].strip()


@pytest.mark.parametrize(("typed", "says"), [
    ("zzz", "zzz is not a currency Stripe supports; use a three-letter ISO code such as eur."),
    ("ZZZ", "zzz is not a currency Stripe supports; use a three-letter ISO code such as eur."),
    # a real ISO 4217 code (Babel knows it) that Stripe does not charge in
    ("irr", "irr is not a currency Stripe supports; use a three-letter ISO code such as eur."),
])
async def test_a_currency_stripe_does_not_support_is_refused_and_nothing_saved(
        admin: tuple[httpx.AsyncClient, str], typed: str, says: str) -> None:
    client, token = admin
    before = await Restaurant.count()
    created = await client.post("/admin/restaurants",
                                data={**VALID, "_csrf_token": token, "currency": typed})
    assert _currency_error(created) == says
    assert await Restaurant.count() == before
    assert await Restaurant.objects().get(Restaurant.slug == "coin-place") is None

    edited = await client.post("/admin/restaurants/demo", data={
        **VALID, "_csrf_token": token, "name": "Demo Bistro Renamed", "currency": typed})
    assert _currency_error(edited) == says
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None
    assert (demo.currency, demo.name) == ("eur", "Demo Bistro")  # nothing written


async def test_a_supported_currency_is_taken_in_lower_case(
        admin: tuple[httpx.AsyncClient, str]) -> None:
    client, token = admin
    created = await client.post("/admin/restaurants",
                                data={**VALID, "_csrf_token": token, "currency": "CHF"})
    assert created.status_code == 303, created.text[:500]
    place = await Restaurant.objects().get(Restaurant.slug == "coin-place")
    assert place is not None and place.currency == "chf"


async def test_the_currency_of_a_restaurant_with_dishes_or_orders_stays(
        admin: tuple[httpx.AsyncClient, str]) -> None:
    """Prices are numbers in the restaurant's currency: switched from eur to isk, a €14.50
    dish became 14.50 kr. A restaurant with dishes keeps its currency (the rest of the form
    is refused too: nothing half-written); a new one without any may still change it."""
    client, token = admin
    edited = await client.post("/admin/restaurants/demo", data={
        **VALID, "slug": "demo", "_csrf_token": token, "name": "Demo Renamed", "currency": "isk"})
    assert _currency_error(edited) == ("The currency stays eur: this restaurant has dishes or "
                                       "orders priced in it. A restaurant in another currency "
                                       "is a new restaurant.")
    demo = await Restaurant.objects().get(Restaurant.slug == "demo")
    assert demo is not None and (demo.currency, demo.name) == ("eur", "Demo Bistro")

    created = await client.post("/admin/restaurants",
                                data={**VALID, "_csrf_token": token, "currency": "eur"})
    assert created.status_code == 303, created.text[:500]
    changed = await client.post("/admin/restaurants/coin-place", data={  # not live: no box
        **VALID, "_csrf_token": token, "currency": "chf", "accepting_orders": ""})
    assert changed.status_code == 303, changed.text[:500]
    place = await Restaurant.objects().get(Restaurant.slug == "coin-place")
    assert place is not None and place.currency == "chf"
