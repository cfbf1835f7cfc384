"""Reading restaurants and menus; prices always come from here, never from a client."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from app.restaurants.tables import MenuItem, Restaurant


@dataclass(frozen=True)
class MenuCategory:
    name: str
    items: list[MenuItem]


async def list_restaurants() -> list[Restaurant]:
    return await Restaurant.objects().order_by(Restaurant.name)


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


async def menu_items(restaurant_id: int) -> list[MenuItem]:
    return await MenuItem.objects().where(MenuItem.restaurant == restaurant_id).order_by(
        MenuItem.position).order_by(MenuItem.id)


def by_category(items: list[MenuItem]) -> list[MenuCategory]:
    """Categories in menu order (the first item's position decides a category's place)."""
    ordered = sorted(items, key=lambda item: (item.position, item.id))
    first_seen: dict[str, int] = {}
    for index, item in enumerate(ordered):
        first_seen.setdefault(item.category, index)
    ordered.sort(key=lambda item: (first_seen[item.category], item.position, item.id))
    return [MenuCategory(name=name, items=list(group))
            for name, group in groupby(ordered, key=lambda item: item.category)]


def tax_rate_of(item: MenuItem, restaurant: Restaurant) -> int:
    """The item's VAT rate (hundredths of a percent): its own, or the restaurant's default."""
    return item.tax_rate if item.tax_rate is not None else restaurant.default_tax_rate
