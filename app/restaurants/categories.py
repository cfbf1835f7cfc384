"""Menu categories of a restaurant: add, rename (its items follow: the foreign key cascades),
move up or down, delete when empty. Each write is one transaction; problems name the field."""

from __future__ import annotations

import unicodedata

import asyncpg

from app.infra.form_input import text_error
from app.infra.logging import get_logger
from app.piccolo_conf import DB
from app.restaurants.editing import FormInvalid, NotFound, moved
from app.restaurants.tables import MenuCategory, MenuItem, Restaurant

log = get_logger("orderpass.menu.categories")
MAX_NAME = 80


async def list_categories(restaurant: Restaurant) -> list[MenuCategory]:
    return await MenuCategory.objects().where(
        MenuCategory.restaurant == restaurant.id).order_by(MenuCategory.position).order_by(
        MenuCategory.id)


async def get_category(restaurant: Restaurant, category_id: int) -> MenuCategory:
    found = await MenuCategory.objects().get((MenuCategory.id == category_id)
                                             & (MenuCategory.restaurant == restaurant.id))
    if found is None:
        raise NotFound(f"no category {category_id}")
    return found


def _name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise FormInvalid({"name": "Required."}, {"name": name})
    if len(name) > MAX_NAME:
        raise FormInvalid({"name": f"At most {MAX_NAME} characters."}, {"name": name[:200]})
    if problem := text_error(name):  # a heading diners read on the menu
        raise FormInvalid({"name": problem}, {"name": name.replace("\x00", "")})
    return name


# Characters that show as nothing: "Bo\u200bwls" reads as "Bowls" on the menu.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"))
CLASH = "There is a category with that name."


def _looks_as(name: str) -> str:
    """What a diner sees of a heading: case, width and invisible characters set aside, so
    "drinks", the same in full-width letters and "Dr\u200binks" are all "Drinks" to them."""
    return unicodedata.normalize("NFKC", name).translate(_INVISIBLE).casefold()


async def _refuse_lookalike(restaurant: Restaurant, name: str, *, own: int | None = None
                            ) -> None:
    """A second heading that reads as one already there is refused (the unique index only
    stops the very same spelling). Run inside the write's transaction: the restaurant's row
    is locked, so two forms sent together cannot both pass."""
    await Restaurant.raw("SELECT id FROM restaurant WHERE id = {} FOR UPDATE", restaurant.id)
    others = await MenuCategory.select(MenuCategory.id, MenuCategory.name).where(
        MenuCategory.restaurant == restaurant.id)
    if any(_looks_as(row["name"]) == _looks_as(name) for row in others if row["id"] != own):
        raise FormInvalid({"name": CLASH}, {"name": name})


async def add_category(restaurant: Restaurant, raw_name: str, *, by: str) -> MenuCategory:
    name = _name(raw_name)
    try:
        async with DB.transaction():
            await _refuse_lookalike(restaurant, name)
            last = await MenuCategory.select(MenuCategory.position).where(
                MenuCategory.restaurant == restaurant.id).order_by(
                MenuCategory.position, ascending=False).first()
            category = MenuCategory(restaurant=restaurant.id, name=name,
                                    position=(last["position"] + 1) if last else 0)
            await category.save()
    except asyncpg.UniqueViolationError:
        raise FormInvalid({"name": CLASH}, {"name": name}) from None
    log.info("category added", restaurant=restaurant.slug, category=name, by=by)
    return category


async def rename_category(restaurant: Restaurant, category_id: int, raw_name: str, *,
                          by: str) -> None:
    name = _name(raw_name)
    category = await get_category(restaurant, category_id)
    try:
        async with DB.transaction():
            await _refuse_lookalike(restaurant, name, own=int(category.id))
            await MenuCategory.update({MenuCategory.name: name}).where(
                MenuCategory.id == category.id)
    except asyncpg.UniqueViolationError:
        raise FormInvalid({"name": CLASH}, {"name": name}) from None
    log.info("category renamed", restaurant=restaurant.slug, category=name, by=by)


async def move_category(restaurant: Restaurant, category_id: int, direction: str, *,
                        by: str) -> None:
    """Swap with the neighbour above ("up") or below ("down"); positions become 0…n-1."""
    async with DB.transaction():
        ordered = await list_categories(restaurant)
        ids = [int(category.id) for category in ordered]
        if category_id not in ids:
            raise NotFound(f"no category {category_id}")
        ids = moved(ids, category_id, direction)
        for position, row_id in enumerate(ids):
            await MenuCategory.update({MenuCategory.position: position}).where(
                MenuCategory.id == row_id)
    log.info("category moved", restaurant=restaurant.slug, category=category_id,
             direction=direction, by=by)


async def delete_category(restaurant: Restaurant, category_id: int, *, by: str) -> None:
    category = await get_category(restaurant, category_id)
    async with DB.transaction():
        if await MenuItem.exists().where((MenuItem.restaurant == restaurant.id)
                                         & (MenuItem.category == category.name)):
            raise FormInvalid({"category": f"{category.name} still has dishes: move or "
                                           "delete them first."}, {})
        await MenuCategory.delete().where(MenuCategory.id == category.id)
    log.info("category deleted", restaurant=restaurant.slug, category=category.name, by=by)
