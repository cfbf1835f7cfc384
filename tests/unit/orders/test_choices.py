"""A diner's options for a dish, checked against its modifier groups, and priced: the unit is
the item's price plus the chosen options' deltas; the names read "Size: L; Extras: …"."""

from __future__ import annotations

import pytest

from app.orders.choices import ChoiceInvalid, Group, Option, choose, label
from app.orders.models import LineModifier, OrderLine, with_tax

SIZE = Group(1, "Size", 1, 1, True)
EXTRAS = Group(2, "Extras", 0, 3, False)
OPTIONS = [Option(10, 1, "S", 0), Option(11, 1, "M", 200), Option(12, 1, "L", 400),
           Option(20, 2, "Cheese", 100), Option(21, 2, "Olives", 80),
           Option(22, 2, "Chili", 50), Option(23, 2, "Truffle", 900, available=False)]


def _choose(*chosen: int) -> list[LineModifier]:
    return choose("Pizza", [SIZE, EXTRAS], OPTIONS, list(chosen))


def test_a_valid_choice_is_frozen_in_menu_order_with_names_and_deltas() -> None:
    found = _choose(21, 12, 20)
    assert [(m.group, m.name, m.delta, m.option) for m in found] == [
        ("Size", "L", 400, 12), ("Extras", "Cheese", 100, 20), ("Extras", "Olives", 80, 21)]
    assert label(found) == "Size: L; Extras: Cheese, Olives"


@pytest.mark.parametrize(("chosen", "message"), [
    ((), "choose 1 Size for Pizza"),  # required group left out
    ((10, 11), "choose at most 1 Size"),  # two sizes
    ((10, 20, 21, 22, 20), "chosen twice"),
    ((10, 20, 21, 22, 11), "at most 1 Size"),
    ((10, 99), "option 99 is not an option of Pizza"),  # another item's option, or none
    ((10, 23), "Truffle is sold out"),
])
def test_a_choice_that_breaks_a_rule_is_refused(chosen: tuple[int, ...], message: str) -> None:
    with pytest.raises(ChoiceInvalid, match=message):
        _choose(*chosen)


def test_more_extras_than_the_group_allows_is_refused() -> None:
    with pytest.raises(ChoiceInvalid, match="at most 3 Extras"):
        choose("Pizza", [SIZE, EXTRAS], [*OPTIONS, Option(24, 2, "Basil", 0)],
               [10, 20, 21, 22, 24])


def test_an_item_without_groups_takes_no_options() -> None:
    assert choose("Soup", [], [], []) == []
    with pytest.raises(ChoiceInvalid):
        choose("Soup", [], [], [10])


def test_the_line_is_priced_at_the_base_plus_the_deltas_with_vat_on_the_whole() -> None:
    modifiers = _choose(12, 20)
    line = OrderLine(menu_item_id=1, name="Pizza", unit_amount=900 + sum(
        m.delta for m in modifiers), quantity=2, tax_rate=700, modifiers=modifiers)
    assert line.line_total == 2 * (900 + 400 + 100)
    [taxed] = with_tax([line], "included")
    assert taxed.gross_amount == 2800 and taxed.net_amount + taxed.tax_amount == 2800
    assert taxed.modifiers == modifiers  # kept through pricing
