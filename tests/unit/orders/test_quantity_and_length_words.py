"""The cart reads a quantity only in the digits 0-9: "٣" (which int() reads as 3), a sign, a
decimal point or a word is refused by its field, not taken as none (the basket then read as
empty). A table number or delivery address too long says its limit, an empty one still asks
for it, in English and German."""

from __future__ import annotations

import pytest

from app.infra import i18n
from app.orders.cart import apply_operation, parse_form, to_order
from app.orders.form_messages import plain_errors


@pytest.mark.parametrize("typed", ["\u0663", "\uff13", "1.5", "-1", "+2", "two", "1_0"])
def test_a_quantity_in_other_than_ascii_digits_is_refused_by_its_field(typed: str) -> None:
    cart = parse_form({"qty-12": typed, "qty-13": "2", "name": "Ada",
                       "email": "ada@example.com"})  # the rest of the form is right
    assert cart.quantities == {12: 0, 13: 2}
    order, errors = to_order(cart, "demo")
    assert order is None
    assert plain_errors(errors) == {
        "qty-12": "Quantity must be a whole number written with 0 to 9, like 2 or 10."}
    with i18n.use("de"):
        assert plain_errors(errors) == {
            "qty-12": ("Die Menge muss eine ganze Zahl sein, geschrieben mit 0 bis 9, z. B. 2 "
                       "oder 10.")}


def test_a_line_with_options_is_refused_too() -> None:
    order, errors = to_order(parse_form({"qty-12-3.4": "\u0663", "name": "Ada",
                                         "email": "ada@example.com"}), "demo")
    assert order is None and list(errors) == ["qty-12-3.4"]


@pytest.mark.parametrize("typed", ["", "  ", "0", " 3 "])
def test_empty_and_ascii_quantities_are_read_as_before(typed: str) -> None:
    cart = parse_form({"qty-12": typed})
    assert cart.bad_quantities == {}
    assert cart.quantities == {12: int(typed.strip() or 0)}


def test_a_button_on_the_dish_sets_its_quantity_anew() -> None:
    cart = parse_form({"qty-12": "\u0663"})
    apply_operation(cart, "add:12")
    assert cart.quantities == {12: 1} and cart.bad_quantities == {}


def test_too_long_says_the_limit_and_empty_still_asks() -> None:
    errors = {"table": "Expected `str` of length <= 40",
              "delivery_address": "Expected `str` of length <= 300"}
    assert plain_errors(errors) == {
        "table": "A table number can be 40 characters at most.",
        "delivery_address": "A delivery address can be 300 characters at most."}
    with i18n.use("de"):
        assert plain_errors(errors) == {
            "table": "Eine Tischnummer darf höchstens 40 Zeichen lang sein.",
            "delivery_address": "Eine Lieferadresse darf höchstens 300 Zeichen lang sein."}
    empty = {"table": "a table number is required for dine-in",
             "delivery_address": "a delivery address is required for delivery"}
    assert plain_errors(empty) == {"table": "Please enter your table number.",
                                   "delivery_address": "Please enter the address we should "
                                                       "deliver to."}
