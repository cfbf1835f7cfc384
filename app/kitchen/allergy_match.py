"""Which of a line's allergens an allergy note plausibly names ("Tree nuts (severe)" → Nuts):
the kitchen ticket marks those lines strongly. The note's words against each allergen's
English and German names plus a short list of the words diners use for them; a note that
names none marks nothing (the ticket still lists what each line contains)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from app.infra import i18n
from app.restaurants.allergens import ALLERGENS, known

# Words a diner writes for an allergen besides its names (singular: a plural's "s"/"es" goes).
_WORDS: dict[str, tuple[str, ...]] = {
    "nuts": ("nut", "almond", "hazelnut", "walnut", "cashew", "pecan", "pistachio",
             "macadamia", "nuss", "nüsse", "mandel", "mandeln", "haselnuss", "haselnüsse",
             "walnuss", "walnüsse", "cashewnuss", "pistazie", "pistazien"),
    "peanuts": ("peanut", "erdnuss", "erdnüsse"),
    "milk": ("milk", "dairy", "lactose", "milch", "laktose", "käse"),
    "eggs": ("egg", "ei", "eier"),
    "gluten": ("gluten", "wheat", "coeliac", "celiac", "weizen", "zöliakie"),
    "soybeans": ("soy", "soya", "soja"),
    "fish": ("fish", "fisch"),
    "crustaceans": ("shellfish", "crustacean", "shrimp", "prawn", "krebstiere", "garnele",
                    "garnelen", "krabben"),
    "molluscs": ("mollusc", "mollusk", "mussel", "oyster", "squid", "weichtiere", "muschel",
                 "muscheln", "austern", "tintenfisch"),
    "sesame": ("sesame", "sesam"),
    "mustard": ("mustard", "senf"),
    "celery": ("celery", "sellerie"),
    "lupin": ("lupin", "lupine", "lupinen"),
    "sulphites": ("sulphite", "sulfite", "sulfites", "schwefel"),
}


@cache
def _code_by_word() -> dict[str, str]:
    words = {word: code for code, said in _WORDS.items() for word in said}
    for language in i18n.SUPPORTED:
        catalog = i18n.translations(language)
        words.update({catalog.gettext(label).lower(): code
                      for code, label in ALLERGENS.items()})
    return words


def named(note: str) -> set[str]:
    """The allergen codes `note` names ("Tree nuts (severe), no dairy" → nuts, milk)."""
    words = _code_by_word()
    found = set()
    for word in re.findall(r"[^\W\d_]+", note.lower()):
        for form in (word, word.removesuffix("s"), word.removesuffix("es")):
            if form in words:
                found.add(words[form])
                break
    return found


def matching(codes: Iterable[str], notes: Iterable[str]) -> list[str]:
    """Of `codes` (a line's allergens), those the allergy `notes` name, regulation order."""
    wanted = set().union(*(named(note) for note in notes if note))
    return known(code for code in codes if code in wanted)
