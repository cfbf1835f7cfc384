"""Which field of the menu's form each checkout mistake is about: the box of errors links
its message there (`href="#field"`, as GOV.UK's error summary) and, without JavaScript, the
refused page puts the focus on the first (static/js/menu.js does it after an htmx swap).
A mistake with no field of its own (a dish gone, a choice missing) has none: said in the box."""

from __future__ import annotations

from collections.abc import Collection

# The fields marked `aria-invalid` by their key (components/checkout_fields.html,
# order_time.html, menu_item.html, line_note_fields.html); a prefix ending in "-" stands for
# a field per dish or basket line.
SAME_ID = ("name", "email", "phone", "delivery_address", "table", "allergy", "notes",
           "scheduled_for", "allergy-")
OTHER_ID = {"tip": "tip_custom", "tip_custom": "tip_custom"}  # components/tip_choice.html


def field_of(key: str) -> str:
    """The id of the input an error key is about, or "" when it has none."""
    if key in OTHER_ID:
        return OTHER_ID[key]
    if key.startswith("qty-"):  # a line with options has no quantity box, only its dish
        return key if key[4:].isascii() and key[4:].isdigit() else ""
    if any(key == name or (name.endswith("-") and key.startswith(name)) for name in SAME_ID):
        return key
    return ""


def error_fields(errors: dict[str, str], not_shown: Collection[str] = ()) -> dict[str, str]:
    """Each error key's field id, "" for none or one the page does not show (the quantity box
    of a dish sold out or with options: components/menu_item.html)."""
    return {key: field if (field := field_of(key)) not in not_shown else ""
            for key in errors}


def first_field(fields: dict[str, str]) -> str:
    """The first wrong field in page order (`fields` comes in page order), or ""."""
    return next((field for field in fields.values() if field), "")
