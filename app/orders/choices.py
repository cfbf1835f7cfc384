"""A diner's choice of options for one menu item, checked against its modifier groups: every
option belongs to the item and is available, each group gets between its minimum and maximum
(a required group at least one). Pure: intake and the cart call it with the menu they read."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.orders.models import LineModifier
from app.restaurants.allergens import contains, english


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    min_choices: int
    max_choices: int
    required: bool


@dataclass(frozen=True)
class Option:
    id: int
    group: int
    name: str
    delta: int
    available: bool = True
    allergens: tuple[str, ...] = ()  # the allergen codes it adds to its dish


class ChoiceInvalid(ValueError):
    """What is wrong with the choice, in words for the diner."""


def choose(item_name: str, groups: list[Group], options: list[Option], chosen: list[int]
           ) -> list[LineModifier]:
    """The chosen options as frozen modifiers, in the menu's order; ChoiceInvalid if the
    choice breaks a rule."""
    by_id = {option.id: option for option in options}
    if len(set(chosen)) != len(chosen):
        raise ChoiceInvalid("an option is chosen twice")
    for option_id in chosen:
        option = by_id.get(option_id)
        if option is None:
            raise ChoiceInvalid(f"option {option_id} is not an option of {item_name}")
        if not option.available:
            raise ChoiceInvalid(f"{option.name} is sold out")
    counts = Counter(by_id[option_id].group for option_id in chosen)
    for group in groups:
        count = counts.get(group.id, 0)
        low = _least(group)
        if count < low:
            raise ChoiceInvalid(f"choose {_how_many(low, group.max_choices)} "
                                f"{group.name} for {item_name}")
        if count > group.max_choices:
            raise ChoiceInvalid(f"choose at most {group.max_choices} {group.name} "
                                f"for {item_name}")
    picked = set(chosen)
    names = {group.id: group.name for group in groups}
    return [LineModifier(group=names[option.group], name=option.name, delta=option.delta,
                         option=option.id, allergens=option.allergens)
            for option in options if option.id in picked]


def _least(group: Group) -> int:
    """How many options the group needs (a required group at least one)."""
    return max(group.min_choices, 1 if group.required else 0)


def choosable(groups: list[Group], options: list[Option]) -> bool:
    """Whether some choice passes `choose`: every group has at least as many available
    options as it needs. A dish whose required size is all sold out is sold out itself."""
    left = Counter(option.group for option in options if option.available)
    return all(left.get(group.id, 0) >= _least(group) for group in groups)


def of_views(item_groups: Iterable[Any]) -> tuple[list[Group], list[Option]]:
    """One item's groups as the menu reads them (app.restaurants.services.GroupView, each
    with its options) in this module's terms."""
    item_groups = list(item_groups)
    return ([Group(group.id, group.name, group.min_choices, group.max_choices, group.required)
             for group in item_groups],
            [Option(option.id, group.id, option.name, option.price_delta, option.available,
                    tuple(option.allergens))
             for group in item_groups for option in group.options])


def _how_many(low: int, high: int) -> str:
    return str(low) if low == high else f"{low} to {high}"


def label(modifiers: Iterable[LineModifier], *, allergens: bool = False,
          diner: bool = False) -> str:
    """"Size: L; Extras: Cheese, Olives": how a line's options read on one line (the Stripe
    line item's name too). `allergens`: each option followed by those it added, in English
    ("Extras: Pesto (contains Nuts)"), as the kitchen reads them; `diner`: the same in the
    current language ("Extras: Pesto (enthält Schalenfrüchte)"), as the diner reads them."""
    text, group = "", None
    for modifier in modifiers:
        name = modifier.name
        if diner and (said := contains(modifier.allergens)):
            name += f" ({said})"
        elif allergens and (added := english(modifier.allergens)):
            name += f" (contains {', '.join(added)})"
        if modifier.group == group:
            text += f", {name}"
        else:
            text += ("; " if text else "") + f"{modifier.group}: {name}"
            group = modifier.group
    return text
