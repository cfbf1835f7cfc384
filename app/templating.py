"""Jinja set-up shared by pages, HTMX fragments, SSE messages and emails: filters and globals."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar.plugins.jinja import JinjaTemplateEngine

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


def configure_jinja(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["money"] = format_money
    engine.engine.filters["hhmm"] = format_time
    engine.engine.filters["clock"] = local_clock
    engine.engine.filters["local_datetime"] = local_datetime
    engine.engine.autoescape = True
    # Re-reading templates whose file changed is for people editing them (dev); elsewhere it
    # is a stat() per template per render, kitchen fan-outs included.
    engine.engine.auto_reload = get_settings().environment == "dev"
