"""The checks of an order's fields that need no menu: the diner's name, email and phone, and
the address or table a way of getting the food needs. Intake makes them on every order; the
API (a body its schema refused) and the menu's checkout (a form that is no order yet) make
them too, so one answer names every mistake instead of one per try."""

from __future__ import annotations

import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email

from app.restaurants.editing import phone_problem


def _visible(text: str) -> bool:
    """Has a character one can see: not only spaces, controls or format characters."""
    return any(unicodedata.category(char)[0] not in "CZ" for char in text)


def email_problem(address: str) -> tuple[str, str]:
    """(the address normalised, "") or ("", what is wrong with it)."""
    try:
        return validate_email(address, check_deliverability=False).normalized, ""
    except EmailNotValidError as error:
        return "", str(error)


def customer_problems(name: str, email: str, phone: str) -> tuple[dict[str, str], str]:
    """The diner's fields that are wrong, by the API's keys (`customer.email`), and the
    email address normalised ("" when it is wrong)."""
    problems: dict[str, str] = {}
    if not _visible(name):  # zero-width characters alone are no name
        problems["customer.name"] = "your name is required"
    normalised, problem = email_problem(email)
    if problem:
        problems["customer.email"] = problem
    # Optional, but when given it must be one a phone can dial: the rule the owner's own
    # number meets in the settings (app/restaurants/editing.py).
    if (phone := phone.strip()) and (problem := phone_problem(phone)):
        problems["customer.phone"] = problem
    return problems, normalised


def details_problems(fulfillment: str, delivery_address: str, table: str) -> dict[str, str]:
    """What the chosen way of getting the food needs and was not given."""
    if fulfillment == "delivery" and not delivery_address.strip():
        return {"delivery_address": "a delivery address is required for delivery"}
    if fulfillment == "dine_in" and not table.strip():
        return {"table": "a table number is required for dine-in"}
    return {}


def body_problems(body: Any) -> list[dict[str, Any]]:
    """`customer_problems` and `details_problems` of an order body the schema refused (its
    text fields as sent; a field of the wrong type is the schema's to name), as field
    problems: the 400 names an email without an @-sign beside the empty name."""
    if not isinstance(body, dict):
        return []

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) and "\x00" not in value else None

    customer = body.get("customer")
    found: dict[str, str] = {}
    if isinstance(customer, dict):
        given = {key: text(customer.get(key, "")) for key in ("name", "email", "phone")}
        problems, _ = customer_problems(*(value or "" for value in given.values()))
        found |= {key: message for key, message in problems.items()
                  if given[key.removeprefix("customer.")] is not None}
    fulfillment, address, table = (text(body.get(key, "")) for key in
                                   ("fulfillment", "delivery_address", "table"))
    if fulfillment is not None and address is not None and table is not None:
        found |= details_problems(fulfillment, address, table)
    return [{"key": key, "message": message, "source": "body"}
            for key, message in found.items()]
