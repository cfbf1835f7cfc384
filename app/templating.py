"""The one Jinja environment, for pages, htmx fragments, SSE frames and emails alike: where
templates and components are found, and the money and time formats every one of them uses.

Emails render through the same environment with stricter rules (`email_environment`)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine

from app import paths
from app.orders.choices import label as modifiers_label
from app.orders.pricing import format_rate
from app.restaurants.allergens import labels as allergen_labels
from app.settings import get_settings

CURRENCY_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "chf": "CHF "}
ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk", "huf"}


def format_money(amount: int, currency: str) -> str:
    """Minor units to a display string: 1150, "eur" → "€11.50"."""
    currency = currency.lower()
    symbol = CURRENCY_SYMBOLS.get(currency, currency.upper() + " ")
    if currency in ZERO_DECIMAL:
        return f"{symbol}{amount:,}"
    return f"{symbol}{amount // 100:,}.{amount % 100:02d}"


def format_time(value: datetime | None) -> str:
    return value.strftime("%H:%M") if value else ""


def zone(name: str) -> ZoneInfo:
    """The restaurant's time zone; UTC for a name the tz database does not know."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_clock(value: datetime | None, timezone: str) -> str:
    """A moment as the restaurant's wall clock shows it ("14:40"): every time a diner, a
    cook or an email sees is in the restaurant's time zone, never UTC."""
    return value.astimezone(zone(timezone)).strftime("%H:%M") if value else ""


def local_datetime(value: datetime | None, timezone: str) -> str:
    """Date and time in the restaurant's zone, e.g. "2026-12-01 14:40"."""
    return value.astimezone(zone(timezone)).strftime("%Y-%m-%d %H:%M") if value else ""



def format_deadline(moment: datetime | None, timezone: str) -> str:
    """A moment in the restaurant's time zone, with the date and the zone's name, for an
    email read later and elsewhere: "18:05 on 02 Dec 2026 (CET)"."""
    if moment is None:
        return ""
    local = moment.astimezone(zone(timezone))
    return f"{local:%H:%M} on {local:%d %b %Y} ({local.tzname()})"


def local_time_named(moment: datetime | None, timezone: str) -> str:
    """A time of today in the restaurant's zone, named, for an email: "14:40 (CET)"."""
    if moment is None:
        return ""
    local = moment.astimezone(zone(timezone))
    return f"{local:%H:%M} ({local.tzname()})"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Templates (templates/) and components (components/), every value HTML-escaped."""
    env = Environment(
        loader=FileSystemLoader([paths.TEMPLATES, paths.COMPONENTS]),
        autoescape=True,
        # Re-reading templates whose file changed is for people editing them (dev); elsewhere
        # it is a stat() per template per render, kitchen fan-outs included.
        auto_reload=get_settings().environment == "dev",
    )
    env.filters["money"] = format_money
    env.filters["hhmm"] = format_time
    env.filters["deadline"] = format_deadline
    env.filters["clock"] = local_clock
    env.filters["local_datetime"] = local_datetime
    env.filters["vat_rate"] = format_rate  # 700 → "7" (a VAT rate in hundredths of a percent)
    env.filters["modifiers_label"] = modifiers_label  # "Size: L; Extras: Cheese, Olives"
    env.filters["allergen_labels"] = allergen_labels  # ["gluten"] → ["Gluten"]
    return env


@lru_cache(maxsize=1)
def email_environment() -> Environment:
    """The same loader, filters and components, with the rules an email needs: a missing
    value is an error, not a blank (a sent email cannot be corrected); .txt templates are
    not HTML-escaped (customer-supplied text still is, in .html); block tags leave no stray
    blank lines in plain text. A cache of its own (an overlay would otherwise start with
    the pages' compiled templates, which carry the pages' rules)."""
    return environment().overlay(
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=400,
    )


def template_engine() -> JinjaTemplateEngine:
    """Litestar's engine over the one environment (it adds url_for, csrf_token, …)."""
    return JinjaTemplateEngine.from_environment(environment())
