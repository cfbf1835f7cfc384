"""Which field each checkout mistake links to (and, without JavaScript, focuses): only a field
the form shows."""

from __future__ import annotations

from app.orders.error_fields import error_fields, first_field


def test_each_mistake_names_its_field_or_none() -> None:
    errors = {"gone-3": "Soup is no longer on the menu.", "qty-7": "at most 99",
              "qty-7:12,13": "at most 99", "allergy-7:12": "say what", "name": "required",
              "fulfillment": "not offered", "tip": "check the tip"}
    assert error_fields(errors) == {
        "gone-3": "", "qty-7": "qty-7", "qty-7:12,13": "",  # a line with options: no box
        "allergy-7:12": "allergy-7:12", "name": "name", "fulfillment": "",
        "tip": "tip_custom"}


def test_a_field_the_form_does_not_show_is_no_link_and_takes_no_focus() -> None:
    errors = {"qty-7": "at most 99", "tip": "check the tip", "email": "no @"}
    fields = error_fields(errors, ["qty-7", "tip_custom"])
    assert fields == {"qty-7": "", "tip": "", "email": "email"}
    assert first_field(fields) == "email"
    assert first_field(error_fields({"gone-3": "gone"})) == ""  # then the box of errors
