"""Reading restaurants and menus; prices always come from here, never from a client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby

from piccolo.columns.combination import WhereRaw

from app.infra.db import fetch
from app.restaurants.tables import MenuCategory, MenuItem, MenuPhoto, Restaurant


@dataclass(frozen=True)
class MenuSection:
    """A category of the menu with its items, as pages show it."""

    name: str
    items: list[MenuItem]


# No modifier group of the dish (`menu_item`, the subselect's row) has fewer options
# available than it needs: app.orders.choices `_least`, max(min_choices, 1 if required).
_CHOOSABLE = """NOT EXISTS (
    SELECT 1 FROM modifier_group g
    WHERE g.menu_item = "menu_item"."id"
      AND (SELECT count(*) FROM modifier_option o
           WHERE o.modifier_group = g.id AND o.available)
          < greatest(g.min_choices, CASE WHEN g.required THEN 1 ELSE 0 END))"""


async def list_restaurants() -> list[Restaurant]:
    """The restaurants a diner can order from, by name: those with at least one dish
    available on the menu (a new restaurant without a menu yet is left out). One query: the
    dishes are a subselect, not a query per restaurant. A restaurant not taking orders, its
    menu still there, is listed (the home page says so). A dish counts only if it can be
    chosen too: each of its modifier groups has as many options available as it needs (a
    required one at least one), as app.orders.choices `choosable` decides for the menu
    page, which calls a dish whose every size is sold out sold out. A restaurant still being
    set up (not live yet, app/restaurants/launch.py) is left out too."""
    orderable = MenuItem.select(MenuItem.restaurant).where(
        MenuItem.available.eq(True), MenuItem.hidden.eq(False), WhereRaw(_CHOOSABLE))
    return await Restaurant.objects().where(
        Restaurant.id.is_in(orderable), Restaurant.live_since.is_not_null()).order_by(
        Restaurant.name)


async def get_restaurant(slug: str) -> Restaurant | None:
    if "\x00" in slug:  # Postgres refuses NUL in text: no such restaurant, not a 500
        return None
    return await Restaurant.objects().get(Restaurant.slug == slug)


_slugs: dict[int, str] = {}


async def slug_of(restaurant_id: int) -> str:
    """A restaurant's slug, cached per process (a slug never changes once created): the
    `restaurant` label of every metric is the slug, readable on a dashboard."""
    slug = _slugs.get(restaurant_id)
    if slug is None:
        row = await Restaurant.select(Restaurant.slug).where(
            Restaurant.id == restaurant_id).first()
        slug = _slugs[restaurant_id] = str(row["slug"]) if row else str(restaurant_id)
    return slug


async def menu_items(restaurant_id: int, *, with_hidden: bool = False) -> list[MenuItem]:
    """The dishes diners see (and the kitchen's 86 switches list); `with_hidden`: the owner's
    editor, which lists those taken off the menu too."""
    query = MenuItem.objects().where(MenuItem.restaurant == restaurant_id)
    if not with_hidden:
        query = query.where(MenuItem.hidden.eq(False))
    return await query.order_by(MenuItem.position).order_by(MenuItem.id)


async def category_order(restaurant_id: int) -> list[str]:
    """The restaurant's category names in the order the menu shows them."""
    rows = await MenuCategory.select(MenuCategory.name).where(
        MenuCategory.restaurant == restaurant_id).order_by(MenuCategory.position).order_by(
        MenuCategory.id)
    return [str(row["name"]) for row in rows]


def by_category(items: list[MenuItem], order: list[str] | None = None) -> list[MenuSection]:
    """Categories in menu order: `order` (the category rows' positions) when given, else the
    first item's position decides a category's place."""
    ordered = sorted(items, key=lambda item: (item.position, item.id))
    first_seen: dict[str, int] = {name: index for index, name in enumerate(order or [])}
    for index, item in enumerate(ordered):
        first_seen.setdefault(item.category, len(first_seen) + index)
    ordered.sort(key=lambda item: (first_seen[item.category], item.position, item.id))
    return [MenuSection(name=name, items=list(group))
            for name, group in groupby(ordered, key=lambda item: item.category)]


@dataclass(frozen=True)
class OptionView:
    id: int
    name: str
    price_delta: int
    available: bool
    allergens: tuple[str, ...] = ()  # codes of the allergens it adds to its dish


@dataclass(frozen=True)
class GroupView:
    id: int
    name: str
    required: bool
    min_choices: int
    max_choices: int
    options: list[OptionView]

    @property
    def single(self) -> bool:
        """One choice at most: radio buttons; else checkboxes."""
        return self.max_choices == 1


_GROUPS_SQL = """
SELECT g.menu_item, g.id, g.name, g.required, g.min_choices, g.max_choices,
       coalesce(json_agg(json_build_array(o.id, o.name, o.price_delta, o.available,
                                          o.allergens)
                         ORDER BY o.position, o.id) FILTER (WHERE o.id IS NOT NULL),
                '[]'::json) AS options
FROM modifier_group g JOIN menu_item m ON m.id = g.menu_item
LEFT JOIN modifier_option o ON o.modifier_group = g.id
WHERE m.restaurant = $1
GROUP BY g.id ORDER BY g.menu_item, g.position, g.id
"""


async def modifier_groups(restaurant_id: int) -> dict[int, list[GroupView]]:
    """Every item's modifier groups with their options, in menu order, by item id."""
    found: dict[int, list[GroupView]] = {}
    for row in await fetch(_GROUPS_SQL, restaurant_id):
        options = row["options"]
        options = json.loads(options) if isinstance(options, str) else options
        found.setdefault(int(row["menu_item"]), []).append(GroupView(
            id=row["id"], name=row["name"], required=row["required"],
            min_choices=row["min_choices"], max_choices=row["max_choices"],
            options=[OptionView(option_id, name, delta, available, tuple(codes))
                     for option_id, name, delta, available, codes in options]))
    return found


def tax_rate_of(item: MenuItem, restaurant: Restaurant) -> int:
    """The item's VAT rate (hundredths of a percent): its own, or the restaurant's default."""
    return item.tax_rate if item.tax_rate is not None else restaurant.default_tax_rate


def photo_url(item: MenuItem) -> str | None:
    """Where the item's photo is served (a new upload is a new id: cached for good)."""
    return f"/menu-photos/{item.photo_id}" if item.photo_id else None


async def photo(photo_id: int) -> tuple[bytes, str] | None:
    """(the re-encoded image, its content type) of a menu photo."""
    row = await MenuPhoto.select(MenuPhoto.content, MenuPhoto.content_type).where(
        MenuPhoto.id == photo_id).first()
    return (bytes(row["content"]), str(row["content_type"])) if row else None
