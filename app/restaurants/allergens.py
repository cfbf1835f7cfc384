"""The 14 allergens EU law (Regulation 1169/2011, Annex II) requires a menu to declare: the
codes stored on a menu item, in the order the regulation lists them, and their labels."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from app.infra import i18n
from app.infra.i18n import N_

ALLERGENS: dict[str, str] = {
    "gluten": N_("Gluten"), "crustaceans": N_("Crustaceans"), "eggs": N_("Eggs"),
    "fish": N_("Fish"), "peanuts": N_("Peanuts"), "soybeans": N_("Soybeans"),
    "milk": N_("Milk"), "nuts": N_("Nuts"), "celery": N_("Celery"), "mustard": N_("Mustard"),
    "sesame": N_("Sesame"), "sulphites": N_("Sulphites"), "lupin": N_("Lupin"),
    "molluscs": N_("Molluscs"),
}


def known(codes: Iterable[str]) -> list[str]:
    """The known codes among `codes`, once each, in the regulation's order."""
    wanted = set(codes)
    return [code for code in ALLERGENS if code in wanted]


def labels(codes: Iterable[str]) -> list[str]:
    """Their names in the current language (a diner's page settles it)."""
    return [i18n.gettext(ALLERGENS[code]) for code in known(codes)]


def contains(codes: Iterable[str]) -> str:
    """"contains Nuts, Milk" in the current language (the diner's), "" for none: as the
    menu says it beside an option, and the diner's order lines after it."""
    said = labels(codes)
    return i18n.gettext(N_("contains %(allergens)s")) % {"allergens": ", ".join(said)} \
        if said else ""


def english(codes: Iterable[str]) -> list[str]:
    """Their English names, whatever the current language (the owner's editor, the kitchen)."""
    return [ALLERGENS[code] for code in known(codes)]


@cache
def _by_name() -> dict[str, str]:
    """Code by lower-cased name: the code, the English and every translated name."""
    names = {code: code for code in ALLERGENS}
    for language in i18n.SUPPORTED:
        catalog = i18n.translations(language)
        names.update({catalog.gettext(label).lower(): code
                      for code, label in ALLERGENS.items()})
    return names


def code_of(name: str) -> str | None:
    """The code an owner means by `name` ("nuts", "Schalenfrüchte"), None if no allergen."""
    return _by_name().get(" ".join(name.split()).lower())


def order_contains(lines: Iterable[Any]) -> str:
    """"Gluten, Eggs, Nuts (Pesto)": the allergens an order's lines contain, in the current
    language and the regulation's order; one only an option brings names those options, so a
    diner with an allergy sees where it comes from. Each line has `item.allergens` (the
    dish's, as the menu shows them) and `modifiers` (with the `allergens` each added)."""
    dish: set[str] = set()
    options: dict[str, list[str]] = {}
    for line in lines:
        dish.update(line.item.allergens or ())
        for modifier in line.modifiers:
            for code in modifier.allergens:
                if modifier.name not in options.setdefault(code, []):
                    options[code].append(modifier.name)
    return ", ".join(
        i18n.gettext(label) if code in dish
        else f"{i18n.gettext(label)} ({', '.join(options[code])})"
        for code, label in ALLERGENS.items() if code in dish or code in options)
