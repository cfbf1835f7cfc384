"""A restaurant's settings as its owners edit them: the admin form's fields and validation
(app/restaurants/editing.py) minus the slug and the currency, which only the platform admin
sets (URLs and every price depend on them). One transaction, or nothing on bad input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.accounts.forms import FormInvalid
from app.infra.logging import get_logger
from app.orders.pricing import format_rate
from app.piccolo_conf import DB
from app.restaurants import fulfillment, launch
from app.restaurants.editing import columns_of, parse_restaurant
from app.restaurants.tables import Restaurant

log = get_logger("orderpass.manage.settings")

OWNER_FIELDS = ("name", "timezone", "phone", "email", "address", "default_prep_minutes",
                "auto_reject_minutes", "capture_mode", "accepting_orders",
                *("tax_mode", "default_tax_rate", "tips_enabled", "legal_name", "legal_address",
                  "tax_id"), "default_language", fulfillment.FIELD)


def values_of(restaurant: Restaurant) -> dict[str, Any]:
    values = {name: getattr(restaurant, name) for name in OWNER_FIELDS}
    values["default_tax_rate"] = format_rate(restaurant.default_tax_rate)
    return values


async def update(restaurant: Restaurant, form: Mapping[str, Any], *, by: str) -> None:
    # The currency is not the owner's to change: validated as it stands, never written.
    parsed = parse_restaurant({**form, "currency": restaurant.currency}, creating=False)
    values = {name: parsed.values[name] for name in OWNER_FIELDS if name in parsed.values}
    errors = {name: error for name, error in parsed.errors.items() if name in OWNER_FIELDS}
    for name in OWNER_FIELDS:  # Postgres text cannot hold NUL: a field error, not a 500
        if "\x00" in str(form.get(name) or ""):
            errors[name] = "Must not contain NUL characters."
            values[name] = str(form.get(name)).replace("\x00", "")
    launch.refuse_accepting_before_live(restaurant, values, errors)
    if errors:
        raise FormInvalid(errors, values)
    columns = columns_of(values, OWNER_FIELDS)
    if "tax_mode" in values:  # the VAT settings were shown and saved: confirmed
        columns[Restaurant.tax_confirmed] = True
    async with DB.transaction():
        await Restaurant.update(columns).where(Restaurant.id == restaurant.id)
    log.info("restaurant settings saved", restaurant=restaurant.slug, by=by,
             accepting_orders=values["accepting_orders"], capture_mode=values["capture_mode"],
             tax_mode=values.get("tax_mode"), default_tax_rate=values.get("default_tax_rate"),
             fulfillment_modes=values.get(fulfillment.FIELD))
