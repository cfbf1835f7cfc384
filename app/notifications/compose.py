"""Email composition: subject, inlined-CSS HTML and plain text for one (kind, order).

Rendering is deterministic for a given order (no "now"), because a retried send must carry
the same payload as the first try: Resend rejects a reused Idempotency-Key with a new body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app import paths
from app.orders.models import OrderView
from app.templating import format_money, format_time, zone

SUBJECTS = {
    "order_confirmation": "Pay to confirm your order at {restaurant}",
    "link_expired": "Your payment link for {restaurant} has expired",
    "payment_failed": "Your payment for {restaurant} did not go through",
    "payment_received": "Payment received: your order at {restaurant} is with the kitchen",
    "order_accepted": "Accepted: your order at {restaurant} is being prepared",
    "order_ready": "Your order at {restaurant} is ready",
    "order_rejected": "Sorry, {restaurant} could not take your order",
}


@dataclass(frozen=True)
class RestaurantContact:
    id: int
    name: str
    phone: str = ""
    email: str = ""
    address: str = ""
    timezone: str = "UTC"
    capture_mode: str = "automatic"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([paths.TEMPLATES, paths.COMPONENTS]),
        # Customer-supplied names and notes end up in HTML: escape everything in .html.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["money"] = format_money
    env.filters["hhmm"] = format_time
    return env


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    # keep_at_rules leaves the @media block in <style> (it cannot be inlined); never fetch
    # remote stylesheets while rendering.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def _local_deadline(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return ""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local:%H:%M} on {local:%d %b %Y} ({local.tzname()})"


def _local_time(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone(timezone))
    return f"{local:%H:%M} ({local.tzname()})"


def _one_line(value: str) -> str:
    """Subjects are headers: no line breaks from a restaurant name may reach them."""
    return " ".join(value.split())


def status_url(public_base_url: str, order_ref: str) -> str:
    return f"{public_base_url.rstrip('/')}/orders/{order_ref}"


def render_email(kind: str, order: OrderView, restaurant: RestaurantContact,
                 public_base_url: str) -> RenderedEmail:
    if kind not in SUBJECTS:
        raise ValueError(f"unknown email kind: {kind!r}")
    refunded = order.refunded_at is not None or restaurant.capture_mode != "manual"
    subject = _one_line(SUBJECTS[kind].format(restaurant=restaurant.name))
    context = {
        "subject": subject,
        "order": order,
        "restaurant": restaurant,
        "status_url": status_url(public_base_url, order.id),
        "payment_url": order.payment_url or "",
        "deadline": _local_deadline(order.expires_at, restaurant.timezone),
        # Every time a diner reads is on the restaurant's clock (its time zone named).
        "promised": _local_time(order.promised_at, restaurant.timezone),
        "prep_minutes": order.prep_minutes,
        "money_back": (
            "Your payment has been refunded in full; it may take a few days to show on "
            "your statement." if refunded else
            "The hold on your card has been released; you were not charged."
        ),
    }
    env = _environment()
    html = env.get_template(f"emails/{kind}.html").render(context)
    text = env.get_template(f"emails/{kind}.txt").render(context)
    return RenderedEmail(subject=subject, html=_inliner().inline(html), text=text.strip() + "\n")
