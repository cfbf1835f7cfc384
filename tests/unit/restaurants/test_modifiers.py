"""The editor's modifier groups, field by field: min ≤ max, max ≤ options, required ⇒ min ≥ 1,
unique names, prices as the menu writes them; a blank group is no group."""

from __future__ import annotations

from app.restaurants.editing import parse_price
from app.restaurants.modifiers import GroupIn, OptionIn, group_values, parse_groups


def _parse(**fields: str) -> tuple[list[GroupIn], dict[str, str]]:
    form = {key.replace("_", "-"): value for key, value in fields.items()}
    groups, errors, _values = parse_groups(form, lambda raw: parse_price(raw, "eur"))
    return groups, errors


def test_size_and_extras_parse() -> None:
    groups, errors = _parse(group_0_name="Size", group_0_required="on", group_0_min="1",
                            group_0_max="1", group_0_options="S\nM | 1.50\r\nL | 3\n\n",
                            group_1_name="Extras", group_1_min="0", group_1_max="3",
                            group_1_options="Cheese | 1.00\nOlives|0.80\nBasil")
    assert errors == {}
    assert groups == [
        GroupIn("Size", True, 1, 1, [OptionIn("S", 0), OptionIn("M", 150), OptionIn("L", 300)]),
        GroupIn("Extras", False, 0, 3, [OptionIn("Cheese", 100), OptionIn("Olives", 80),
                                        OptionIn("Basil", 0)])]


def test_every_broken_rule_names_its_field() -> None:
    _groups, errors = _parse(
        group_0_name="Size", group_0_min="2", group_0_max="1", group_0_options="S\nM",
        group_1_name="Extras", group_1_max="3", group_1_options="Cheese",
        group_2_name="Sauce", group_2_required="on", group_2_min="0", group_2_options="Mayo",
        group_3_name="size", group_3_options="X",
        group_4_name="", group_4_options="Lonely",
        group_5_name="Dip", group_5_options="Aioli | -1\nAioli")
    assert set(errors) == {"group-0-min", "group-1-max", "group-2-min", "group-3-name",
                           "group-4-name", "group-5-options"}
    assert "number of options (1)" in errors["group-1-max"]
    assert "required group needs at least 1" in errors["group-2-min"]
    assert "Line 1" in errors["group-5-options"]


def test_duplicate_options_and_optional_minimums_are_refused() -> None:
    _groups, errors = _parse(group_0_name="Extras", group_0_min="1", group_0_max="2",
                             group_0_options="Cheese\ncheese")
    assert "listed twice" in errors["group-0-options"]
    assert "group-0-max" not in errors  # not "at most the number of options (1)"
    _groups, errors = _parse(group_0_name="Extras", group_0_max="2",
                             group_0_options="Cheese\nCheese")
    assert set(errors) == {"group-0-options"}, errors
    _groups, errors = _parse(group_0_name="Extras", group_0_min="1", group_0_max="2",
                             group_0_options="Cheese\nHam")
    assert "optional group has a minimum of 0" in errors["group-0-min"]


def test_a_cheaper_option_is_refused_with_how_to_write_it() -> None:
    """An owner typed "Small | -1.00" and read only "Enter a price of 0 or more"."""
    for typed in ("Small | -1.00", "Small | \u22121,00"):
        _groups, errors = _parse(group_0_name="Size", group_0_required="on",
                                 group_0_options=f"Large\n{typed}")
        assert errors["group-0-options"] == (
            "Line 2: an option can only add to the price. For a cheaper variant, give the dish "
            "the lowest price and add to the others (e.g. Small, Large | 2.00).")


def test_hostile_numbers_are_field_errors() -> None:
    _groups, errors = _parse(group_0_name="Size", group_0_min="²", group_0_max="9" * 500,
                             group_0_options="S")
    assert set(errors) == {"group-0-min", "group-0-max"}


def test_too_many_choices_per_dish_in_total() -> None:
    fields = {}
    for index in range(4):
        fields[f"group_{index}_name"] = f"G{index}"
        fields[f"group_{index}_max"] = "3"
        fields[f"group_{index}_options"] = "a\nb\nc"
    _groups, errors = _parse(**fields)
    assert "more than 10" in errors["groups"]


def test_stored_groups_read_back_into_the_form() -> None:
    values = group_values([{"name": "Size", "required": True, "min_choices": 1,
                            "max_choices": 1, "options": [{"name": "S", "price_delta": 0},
                                                          {"name": "L", "price_delta": 300}]}],
                          lambda amount: f"{amount / 100:.2f}")
    assert values["group-0-options"] == "S\nL | 3.00"
    groups, errors = _parse(**{key.replace("-", "_"): str(value).replace("True", "on")
                               for key, value in values.items()})
    assert errors == {} and groups[0].options[1] == OptionIn("L", 300)


def test_an_option_names_the_allergens_it_adds() -> None:
    groups, errors = _parse(group_0_name="Extras", group_0_max="4", group_0_options=(
        "Pesto | 1.00 | Nuts, nuts\nSeeds || SESAME,  sellerie ,\nTofu | 0 | soybeans\n"
        "Plain | 0.50 |"))
    assert errors == {}
    assert groups[0].options == [OptionIn("Pesto", 100, ("nuts",)),
                                 OptionIn("Seeds", 0, ("celery", "sesame")),
                                 OptionIn("Tofu", 0, ("soybeans",)), OptionIn("Plain", 50)]
    _groups, errors = _parse(group_0_name="Extras", group_0_options="Pesto\nNuts | 1 | Tree")
    assert errors["group-0-options"].startswith("Line 2: 'Tree' is not one of the 14")
