"""Shared by the management controllers: the restaurant behind `{slug}`, the sections a
person may open, and the page context every management page gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException

from app.accounts.guards import staff_of
from app.accounts.roles import Role
from app.accounts.session import StaffSession
from app.infra.html import csrf_of
from app.restaurants import services as restaurants
from app.restaurants.tables import Restaurant


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    path: str  # under /manage/{slug}
    minimum: Role


# The management area's pages, in navigation order, each with the least role that opens
# it (its controller's guard says the same).
SECTIONS = (
    Section("home", "Overview", "", Role.MANAGER),
    Section("orders", "Orders", "/orders", Role.MANAGER),
    Section("menu", "Menu", "/menu", Role.MANAGER),
    Section("staff", "Staff", "/staff", Role.MANAGER),
    Section("hours", "Hours", "/hours", Role.MANAGER),
    Section("settings", "Settings", "/settings", Role.OWNER),
)


def sections_for(staff: StaffSession, slug: str) -> list[Section]:
    return [section for section in SECTIONS if staff.at_least(slug, section.minimum)]


async def restaurant_or_404(slug: str) -> Restaurant:
    restaurant = await restaurants.get_restaurant(slug)
    if restaurant is None:
        raise NotFoundException(f"no restaurant called {slug!r}")
    return restaurant


def page_context(request: Request[Any, Any, Any], restaurant: Restaurant, section: str,
                 **context: Any) -> dict[str, Any]:
    staff = staff_of(request)
    return {"csrf": csrf_of(request), "staff": staff, "restaurant": restaurant,
            "section": section, "sections": sections_for(staff, restaurant.slug), **context}
