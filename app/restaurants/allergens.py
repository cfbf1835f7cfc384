"""The 14 allergens EU law (Regulation 1169/2011, Annex II) requires a menu to declare: the
codes stored on a menu item, in the order the regulation lists them, and their labels."""

from __future__ import annotations

from collections.abc import Iterable

ALLERGENS: dict[str, str] = {
    "gluten": "Gluten", "crustaceans": "Crustaceans", "eggs": "Eggs", "fish": "Fish",
    "peanuts": "Peanuts", "soybeans": "Soybeans", "milk": "Milk", "nuts": "Nuts",
    "celery": "Celery", "mustard": "Mustard", "sesame": "Sesame", "sulphites": "Sulphites",
    "lupin": "Lupin", "molluscs": "Molluscs",
}


def known(codes: Iterable[str]) -> list[str]:
    """The known codes among `codes`, once each, in the regulation's order."""
    wanted = set(codes)
    return [code for code in ALLERGENS if code in wanted]


def labels(codes: Iterable[str]) -> list[str]:
    return [ALLERGENS[code] for code in known(codes)]
