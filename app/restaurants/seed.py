"""The demo data set: two restaurants with menus, an owner and a kitchen login each, and the
platform admin. Idempotent. VAT as a German restaurant charges it on takeaway: prices include
VAT, food at 7 % (the restaurants' default rate), drinks at 19 %; legal details for receipts.
Hours: open every day all day on the restaurant's clock (so tests that order now always can),
scheduling up to 7 days ahead, DEMO_SLOT_CAPACITY orders per slot, and one closure a month
ahead (beyond the scheduling window, so it never gets in a test's way). Set once: an owner's
changes survive re-seeding.

Each dish declares its EU allergens; one dish of each restaurant is built to order with a
required group and an optional one ("Pizza your way": Size S/M/L, Extras up to 3)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from app.accounts.passwords import hash_password, verify_password
from app.accounts.tables import StaffUser
from app.infra import db
from app.piccolo_conf import DB
from app.restaurants import hours
from app.restaurants.tables import (
    MenuItem,
    ModifierGroup,
    ModifierOption,
    Restaurant,
    RestaurantClosure,
)

ADMIN_EMAIL = "admin@orderpass.test"

DEMO_RESTAURANTS: list[dict[str, Any]] = [
    {
        "slug": "demo", "name": "Demo Bistro", "currency": "eur", "timezone": "Europe/Berlin",
        "phone": "+49 30 1234567", "email": "hello@demo.test",
        "address": "Torstraße 1, 10119 Berlin", "default_prep_minutes": 15,
        "legal_name": "Demo Bistro GmbH", "legal_address": "Torstraße 1, 10119 Berlin, Germany",
        "tax_id": "DE123456789",
        "menu": [
            ("Starters", "Tomato soup", "Slow-roasted tomatoes, basil oil", 650),
            ("Starters", "Burrata", "With peaches and hazelnuts", 1150),
            ("Mains", "Margherita pizza", "San Marzano, fior di latte, basil", 1100),
            ("Mains", "Mushroom risotto", "Carnaroli, porcini, parmesan", 1450),
            ("Mains", "Steak frites", "Flank steak, fries, green pepper sauce", 2350),
            ("Desserts", "Tiramisu", "Mascarpone, espresso, cocoa", 700),
            ("Drinks", "Sparkling water", "0.5 l", 350),
            ("Drinks", "Lemonade", "House-made, 0.4 l", 450),
            ("Mains", "Pizza your way", "Tomato and mozzarella; choose a size and extras",
             900),
        ],
        "allergens": {"Tomato soup": ["celery"], "Burrata": ["milk", "nuts"],
                      "Margherita pizza": ["gluten", "milk"],
                      "Mushroom risotto": ["milk", "sulphites"],
                      "Steak frites": ["mustard"], "Tiramisu": ["gluten", "eggs", "milk"],
                      "Pizza your way": ["gluten", "milk"]},
        "groups": {"Pizza your way": [
            ("Size", True, 1, 1, [("S", 0), ("M", 200), ("L", 400)]),
            ("Extras", False, 0, 3, [("Cheese", 100), ("Olives", 80), ("Chili", 50),
                                     ("Basil", 0)])]},
    },
    {
        "slug": "demo-2", "name": "Demo Noodle Bar", "currency": "eur", "timezone": "Europe/Berlin",
        "phone": "+49 30 7654321", "email": "hello@demo-2.test",
        "address": "Kastanienallee 2, 10435 Berlin", "default_prep_minutes": 12,
        "legal_name": "Demo Noodle Bar UG (haftungsbeschränkt)",
        "legal_address": "Kastanienallee 2, 10435 Berlin, Germany", "tax_id": "DE987654321",
        "menu": [
            ("Bowls", "Tonkotsu ramen", "Pork broth, chashu, egg", 1450),
            ("Bowls", "Miso ramen", "Vegetarian, corn, tofu", 1300),
            ("Small plates", "Gyoza", "Six pork dumplings", 650),
            ("Small plates", "Edamame", "Sea salt", 450),
            ("Drinks", "Iced green tea", "0.4 l", 400),
            ("Bowls", "Ramen your way", "Wheat noodles; choose a broth and toppings", 1200),
        ],
        "allergens": {"Tonkotsu ramen": ["gluten", "eggs", "soybeans", "sesame"],
                      "Miso ramen": ["gluten", "soybeans", "sesame"],
                      "Gyoza": ["gluten", "soybeans"], "Edamame": ["soybeans"],
                      "Ramen your way": ["gluten", "soybeans"]},
        "groups": {"Ramen your way": [
            ("Broth", True, 1, 1, [("Shoyu", 0), ("Miso", 0), ("Spicy miso", 100)]),
            ("Toppings", False, 0, 3, [("Egg", 150), ("Chashu", 250), ("Corn", 50),
                                       ("Nori", 50)])]},
    },
]


DEMO_SLOT_CAPACITY = 4
DEMO_CLOSURE_IN_DAYS = 30  # one day's closure this far ahead, "Staff holiday"
FOOD_VAT = 700  # the demo restaurants' default rate (hundredths of a percent)
DRINKS_VAT = 1900  # items of the "Drinks" category
VAT_FIELDS = ("legal_name", "legal_address", "tax_id")


@dataclass(frozen=True)
class DemoLogin:
    email: str
    restaurant: str


async def seed_demo(password: str) -> list[DemoLogin]:
    """Create or refresh the demo restaurants, menus and logins; safe to run repeatedly."""
    logins: list[DemoLogin] = []
    async with DB.transaction():
        for spec in DEMO_RESTAURANTS:
            restaurant = await Restaurant.objects().get(Restaurant.slug == spec["slug"])
            before_vat = restaurant is not None and not restaurant.legal_name
            if restaurant is None:
                restaurant = Restaurant(
                    slug=spec["slug"], name=spec["name"], currency=spec["currency"],
                    timezone=spec["timezone"], phone=spec["phone"], email=spec["email"],
                    address=spec["address"], default_prep_minutes=spec["default_prep_minutes"],
                    tax_mode="included", default_tax_rate=FOOD_VAT,
                    **{name: spec[name] for name in VAT_FIELDS})
                await restaurant.save()
            elif before_vat:  # a demo from before VAT existed
                await Restaurant.update({
                    Restaurant.tax_mode: "included", Restaurant.default_tax_rate: FOOD_VAT,
                    **{getattr(Restaurant, name): spec[name] for name in VAT_FIELDS}}).where(
                    Restaurant.id == restaurant.id)
            await _ensure_hours(int(restaurant.id))
            existing = {row["name"] for row in await MenuItem.select(MenuItem.name).where(
                MenuItem.restaurant == restaurant.id)}
            for position, (category, name, description, price) in enumerate(spec["menu"]):
                if name not in existing:
                    await MenuItem.insert(MenuItem(
                        restaurant=restaurant.id, category=category, name=name,
                        description=description, price_amount=price, position=position,
                        tax_rate=DRINKS_VAT if category == "Drinks" else None))
            await _allergens_and_groups(restaurant.id, spec)
            if before_vat:  # its drinks get theirs once; an owner's later choice is kept
                await MenuItem.update({MenuItem.tax_rate: DRINKS_VAT}).where(
                    (MenuItem.restaurant == restaurant.id) & (MenuItem.category == "Drinks")
                    & MenuItem.tax_rate.is_null())
            for role in ("owner", "kitchen"):
                email = f"{role}@{spec['slug']}.test"
                await _ensure_user(email, password, role=role, restaurant_id=restaurant.id)
                logins.append(DemoLogin(email=email, restaurant=spec["slug"]))
        await _ensure_user(ADMIN_EMAIL, password, role="admin", restaurant_id=None)
        logins.append(DemoLogin(email=ADMIN_EMAIL, restaurant="(admin)"))
    return logins


async def _ensure_hours(restaurant_id: int) -> None:
    """Demo hours and a closure, unless the restaurant has hours (or a closure) already."""
    await db.execute(
        "UPDATE restaurant SET weekly_hours = $2::jsonb, slot_capacity = $3, schedule_days = 7 "
        "WHERE id = $1 AND weekly_hours = '[]'::jsonb",
        restaurant_id, json.dumps(hours.to_rows(hours.Interval(*row) for row in hours.ALL_WEEK)),
        DEMO_SLOT_CAPACITY)
    if not await RestaurantClosure.exists().where(RestaurantClosure.restaurant == restaurant_id):
        day = datetime.now(UTC).date() + timedelta(days=DEMO_CLOSURE_IN_DAYS)
        await RestaurantClosure.insert(RestaurantClosure(
            restaurant=restaurant_id, starts_on=day, ends_on=day, reason="Staff holiday",
            created_at=datetime.now(UTC)))


async def _allergens_and_groups(restaurant_id: int, spec: dict[str, Any]) -> None:
    """The dishes' allergens, and the modifier groups of a dish that has none yet."""
    items = {row["name"]: row for row in await MenuItem.select(
        MenuItem.id, MenuItem.name, MenuItem.allergens).where(
        MenuItem.restaurant == restaurant_id)}
    for name, codes in spec["allergens"].items():
        if name in items and not items[name]["allergens"]:
            await MenuItem.update({MenuItem.allergens: codes}).where(
                MenuItem.id == items[name]["id"])
    for name, groups in spec["groups"].items():
        item_id = items[name]["id"] if name in items else None
        if item_id is None or await ModifierGroup.exists().where(
                ModifierGroup.menu_item == item_id):
            continue
        for position, (group, required, low, high, options) in enumerate(groups):
            row = ModifierGroup(menu_item=item_id, name=group, required=required,
                                min_choices=low, max_choices=high, position=position)
            await row.save()
            for index, (option, delta) in enumerate(options):
                await ModifierOption(modifier_group=row.id, name=option, price_delta=delta,
                                     position=index).save()


@lru_cache(maxsize=4)
def _demo_hash(password: str) -> str:
    """One Argon2 hash per password per process: re-seeding (tests do it often) stays cheap."""
    return hash_password(password)


async def _ensure_user(email: str, password: str, role: str, restaurant_id: int | None) -> None:
    user = await StaffUser.objects().get(StaffUser.email == email)
    if user is None:
        await StaffUser.insert(StaffUser(
            email=email, password_hash=_demo_hash(password), role=role,
            restaurant=restaurant_id))
    elif not verify_password(user.password_hash, password):
        # The demo password follows ORDERPASS_DEMO_PASSWORD across runs.
        user.password_hash = _demo_hash(password)
        await user.save([StaffUser.password_hash])
