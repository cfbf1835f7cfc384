"""Modifier groups of a menu item as the editor form writes them, parsed and validated field by
field ("Size: S/M/L" required, one choice; "Extras: cheese +1.00" optional, up to 3).

Form fields per group N (0 … MAX_GROUPS-1): `group-N-name`, `group-N-required` (checkbox),
`group-N-min`, `group-N-max` and `group-N-options`, one option a line: `Name` (no extra
charge) or `Name | 1.00` (added to the item's price), then optionally the EU allergens the
option adds, by name in English or German: `Pesto | 1.00 | Nuts, Milk` (`Basil | | Nuts`
without a charge). A group whose name and options are blank is no group. Deltas are 0 or
more: a cheaper variant is the item's base price with the others dearer (Stripe refuses
negative unit amounts, and a delta below the base price could make a line negative)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.infra.form_input import ascii_int, text_error
from app.restaurants import allergens

MAX_GROUPS = 6
MAX_OPTIONS = 12
MAX_NAME = 40
# Options one order line may carry (the API's bound too): the sum of the groups' maxima.
MAX_CHOICES_PER_LINE = 10
MAX_DELTA = 1_000_000


@dataclass(frozen=True)
class OptionIn:
    name: str
    delta: int
    allergens: tuple[str, ...] = ()  # codes (app.restaurants.allergens) the option adds


@dataclass
class GroupIn:
    name: str
    required: bool
    min_choices: int
    max_choices: int
    options: list[OptionIn] = field(default_factory=list)


def _field(index: int, name: str) -> str:
    return f"group-{index}-{name}"


def _options(raw: str, parse_price: Callable[[str], int]) -> tuple[list[OptionIn], str]:
    options: list[OptionIn] = []
    seen: set[str] = set()
    for number, line in enumerate(raw.replace("\r", "").split("\n"), start=1):
        if not line.strip():
            continue
        name, _, price = line.partition("|")
        price, _, declared = price.partition("|")
        if "|" in declared:
            return options, (f"Line {number}: at most three parts, "
                             "Name | extra price | allergens.")
        name = name.strip()
        if not name:
            return options, f"Line {number}: a name before the |."
        if len(name) > MAX_NAME:
            return options, f"Line {number}: at most {MAX_NAME} characters for a name."
        if problem := text_error(name):
            return options, f"Line {number}: the name {problem[:1].lower()}{problem[1:]}"
        if name.lower() in seen:
            return options, f"Line {number}: {name!r} is listed twice."
        seen.add(name.lower())
        delta = 0
        if price.strip().startswith(("-", "\u2212")):  # "Small | -1.00"
            return options, (f"Line {number}: an option can only add to the price. For a "
                             "cheaper variant, give the dish the lowest price and add to "
                             "the others (e.g. Small, Large | 2.00).")
        if price.strip():
            try:
                delta = parse_price(price)
            except ValueError as error:
                return options, f"Line {number}: {error}"
            if delta > MAX_DELTA:
                return options, f"Line {number}: that extra charge is too high."
        codes, problem = _allergens(declared)
        if problem:
            return options, f"Line {number}: {problem}"
        options.append(OptionIn(name, delta, codes))
    if len(options) > MAX_OPTIONS:
        return options, f"At most {MAX_OPTIONS} options."
    return options, ""


def _allergens(raw: str) -> tuple[tuple[str, ...], str]:
    """The codes of "Nuts, Milk" (comma-separated names), or why one is no allergen."""
    codes: list[str] = []
    for word in raw.split(","):
        if not word.strip():
            continue
        code = allergens.code_of(word)
        if code is None:
            shown = " ".join(word.split())[:MAX_NAME]
            return (), (f"{shown!r} is not one of the 14 allergens ("
                        f"{', '.join(allergens.ALLERGENS.values())}).")
        codes.append(code)
    return tuple(allergens.known(codes)), ""


def parse_groups(form: Mapping[str, Any], parse_price: Callable[[str], int]
                 ) -> tuple[list[GroupIn], dict[str, str], dict[str, Any]]:
    """(the groups, errors by field name, the values to show again)."""
    groups: list[GroupIn] = []
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    names: set[str] = set()
    for index in range(MAX_GROUPS):
        name = str(form.get(_field(index, "name")) or "").strip()
        raw_options = str(form.get(_field(index, "options")) or "")
        required = str(form.get(_field(index, "required")) or "").lower() in ("on", "1", "true")
        raw_min = str(form.get(_field(index, "min")) or "").strip()
        raw_max = str(form.get(_field(index, "max")) or "").strip()
        values.update({_field(index, "name"): name, _field(index, "options"): raw_options,
                       _field(index, "required"): required, _field(index, "min"): raw_min,
                       _field(index, "max"): raw_max})
        if not name and not raw_options.strip():
            continue
        problems: dict[str, str] = {}
        if not name:
            problems[_field(index, "name")] = "Name the group (e.g. Size)."
        elif len(name) > MAX_NAME:
            problems[_field(index, "name")] = f"At most {MAX_NAME} characters."
        elif problem := text_error(name):
            problems[_field(index, "name")] = problem
        elif name.lower() in names:
            problems[_field(index, "name")] = "Another group of this item has that name."
        names.add(name.lower())
        options, problem = _options(raw_options, parse_price)
        if problem:
            problems[_field(index, "options")] = problem
        elif not options:
            problems[_field(index, "options")] = "List at least one option."
        low = ascii_int(raw_min or ("1" if required else "0"), high=MAX_OPTIONS)
        high = ascii_int(raw_max or "1", low=1, high=MAX_OPTIONS)
        if low is None:
            problems[_field(index, "min")] = f"A whole number from 0 to {MAX_OPTIONS}."
        if high is None:
            problems[_field(index, "max")] = f"A whole number from 1 to {MAX_OPTIONS}."
        if low is not None and high is not None:
            if low > high:
                problems[_field(index, "min")] = "At most the maximum."
            elif required and low < 1:
                problems[_field(index, "min")] = "A required group needs at least 1 choice."
            elif not required and low > 0:
                problems[_field(index, "min")] = ("An optional group has a minimum of 0 "
                                                  "(tick Required instead).")
            elif options and not problem and high > len(options):  # a list in error
                # (a line twice) counts short: the options' own error says what is wrong
                problems[_field(index, "max")] = (f"At most the number of options "
                                                  f"({len(options)}).")
        errors.update(problems)
        if not problems:
            assert low is not None and high is not None
            groups.append(GroupIn(name, required, low, high, options))
    if not errors and sum(group.max_choices for group in groups) > MAX_CHOICES_PER_LINE:
        errors["groups"] = (f"The groups' maxima add up to more than {MAX_CHOICES_PER_LINE} "
                            "choices per dish.")
    return groups, errors, values


def group_values(groups: list[dict[str, Any]], format_price: Callable[[int], str]
                 ) -> dict[str, Any]:
    """Form values for stored groups (each {"name", "required", "min_choices",
    "max_choices", "options": [{"name", "price_delta", "allergens"}]})."""
    values: dict[str, Any] = {}
    for index, group in enumerate(groups[:MAX_GROUPS]):
        values[_field(index, "name")] = group["name"]
        values[_field(index, "required")] = group["required"]
        values[_field(index, "min")] = str(group["min_choices"])
        values[_field(index, "max")] = str(group["max_choices"])
        values[_field(index, "options")] = "\n".join(
            _option_line(option, format_price) for option in group["options"])
    return values


def _option_line(option: dict[str, Any], format_price: Callable[[int], str]) -> str:
    """"Pesto | 1.00 | Nuts" (the parts it has; the price's place kept before allergens)."""
    line = option["name"]
    named = allergens.english(option.get("allergens") or [])
    if option["price_delta"] or named:
        line += f" | {format_price(option['price_delta'])}"
    if named:
        line += f" | {', '.join(named)}"
    return line
