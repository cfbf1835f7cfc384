"""Writes a menu item's modifier groups and options as the editor submitted them, inside the
caller's transaction: rows are matched by name (an option kept keeps its id, so a diner's
basket stays valid across an edit), updated, added, and the ones left out deleted. Orders
already placed keep what they froze (order_item.modifiers)."""

from __future__ import annotations

from typing import Any

from app.restaurants.modifiers import GroupIn
from app.restaurants.tables import ModifierGroup, ModifierOption


async def groups_of(item_id: int) -> list[dict[str, Any]]:
    """The item's groups with their options, in order (the editor's form values)."""
    groups = await ModifierGroup.select().where(ModifierGroup.menu_item == item_id).order_by(
        ModifierGroup.position).order_by(ModifierGroup.id)
    if not groups:
        return []
    options = await ModifierOption.select().where(
        ModifierOption.modifier_group.is_in([group["id"] for group in groups])).order_by(
        ModifierOption.position).order_by(ModifierOption.id)
    for group in groups:
        group["options"] = [option for option in options
                            if option["modifier_group"] == group["id"]]
    return groups


async def write_groups(item_id: int, groups: list[GroupIn]) -> None:
    existing = {group["name"]: group for group in await groups_of(item_id)}
    wanted = {group.name for group in groups}
    gone = [group["id"] for name, group in existing.items() if name not in wanted]
    if gone:
        await ModifierGroup.delete().where(ModifierGroup.id.is_in(gone))
    for position, group in enumerate(groups):
        columns: dict[Any, Any] = {ModifierGroup.required: group.required,
                   ModifierGroup.min_choices: group.min_choices,
                   ModifierGroup.max_choices: group.max_choices,
                   ModifierGroup.position: position}
        found = existing.get(group.name)
        if found is None:
            row = ModifierGroup(menu_item=item_id, name=group.name,
                                **{column._meta.name: value for column, value in columns.items()})
            await row.save()
            group_id, old_options = int(row.id), {}
        else:
            group_id = int(found["id"])
            await ModifierGroup.update(columns).where(ModifierGroup.id == group_id)
            old_options = {option["name"]: option for option in found["options"]}
        await _write_options(group_id, group, old_options)


async def _write_options(group_id: int, group: GroupIn,
                         old: dict[str, dict[str, Any]]) -> None:
    names = {option.name for option in group.options}
    gone = [option["id"] for name, option in old.items() if name not in names]
    if gone:
        await ModifierOption.delete().where(ModifierOption.id.is_in(gone))
    for position, option in enumerate(group.options):
        found = old.get(option.name)
        if found is None:
            await ModifierOption(modifier_group=group_id, name=option.name,
                                 price_delta=option.delta, position=position,
                                 allergens=list(option.allergens)).save()
        else:
            await ModifierOption.update({ModifierOption.price_delta: option.delta,
                                         ModifierOption.position: position,
                                         ModifierOption.allergens: list(option.allergens)}
                                        ).where(
                ModifierOption.id == found["id"])
