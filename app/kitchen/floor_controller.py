"""The kitchen's floor controls (`/kitchen/{slug}/controls`, `/pause`, `/busy`,
`/menu/{id}/availability`, `/notices/{ref}/acknowledge`, `/alarm/acknowledge`) and the menu
page's live feed (`/r/{slug}/events`), which tells open menus when what a diner can order has
changed. Thin: parse, call `app.kitchen.floor`, render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.response import ServerSentEventMessage as Message

from app.accounts.guards import require_staff_for_slug, staff_of
from app.infra.form_input import RowId
from app.infra.html import csrf_of, is_htmx
from app.kitchen import floor
from app.kitchen.controller import restaurant_or_404
from app.live.shared_render import tick
from app.live.sse import LiveEvents, channel_stream, encoded
from app.restaurants import services as menus
from app.restaurants.availability import BUSY_CHOICES, PAUSE_CHOICES, is_paused, menu_state
from app.restaurants.services import GroupView
from app.restaurants.tables import MenuItem, Restaurant

MENU_EVENT = "menu"  # SSE event on /r/{slug}/events; data: the menu's state fingerprint


@dataclass(frozen=True)
class Controls:
    """What components/kitchen_controls.html shows."""

    timezone: str
    paused_until: datetime | None
    busy_minutes: int
    items: list[MenuItem]
    groups: dict[int, list[GroupView]]  # each item's options, for their own 86 switches
    pause_choices: tuple[int, ...] = PAUSE_CHOICES
    busy_choices: tuple[int, ...] = BUSY_CHOICES


async def _controls(restaurant: Restaurant) -> Controls:
    fresh = await menus.get_restaurant(restaurant.slug) or restaurant
    return Controls(timezone=fresh.timezone,
                    paused_until=fresh.paused_until if is_paused(fresh.paused_until) else None,
                    busy_minutes=fresh.busy_minutes,
                    items=await menus.menu_items(int(fresh.id)),
                    groups=await menus.modifier_groups(int(fresh.id)))


def _available(form: dict[str, str]) -> bool:
    value = form.get("available", "")
    if value not in ("0", "1"):
        raise floor.ControlError("available must be 0 (86) or 1 (back on)")
    return value == "1"


class KitchenFloorController(Controller):
    path = "/kitchen/{slug:str}"
    guards = [require_staff_for_slug]
    include_in_schema = False

    async def _render(self, request: Request[Any, Any, Any], slug: str, restaurant: Restaurant,
                      error: str = "", status_code: int = 200) -> Response[Any]:
        if not is_htmx(request) and not error:
            return Redirect(f"/kitchen/{slug}", status_code=303)
        return Template("kitchen_controls.html", status_code=status_code, context={
            "controls": await _controls(restaurant), "slug": slug, "csrf": csrf_of(request),
            "error": error})

    @get("/controls")
    async def controls(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        restaurant = await restaurant_or_404(slug)
        return Template("kitchen_controls.html", context={
            "controls": await _controls(restaurant), "slug": slug, "csrf": csrf_of(request),
            "error": ""})

    async def _apply(self, request: Request[Any, Any, Any], slug: str,
                     change: Any) -> Response[Any]:
        restaurant = await restaurant_or_404(slug)
        form = await request.form()
        try:
            await change(restaurant, {key: str(value) for key, value in form.items()})
        except floor.ControlError as error:
            return await self._render(request, slug, restaurant, str(error), 400)
        return await self._render(request, slug, restaurant)

    @post("/pause", status_code=200)
    async def pause(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
        async def change(restaurant: Restaurant, form: dict[str, str]) -> None:
            await floor.pause_orders(request.app.state.redis, restaurant,
                                     form.get("until", "").strip(),
                                     actor=staff_of(request).actor)
        return await self._apply(request, slug, change)

    @post("/busy", status_code=200)
    async def busy(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
        async def change(restaurant: Restaurant, form: dict[str, str]) -> None:
            await floor.set_busy(request.app.state.redis, restaurant,
                                 form.get("minutes", "").strip(), actor=staff_of(request).actor)
        return await self._apply(request, slug, change)

    @post("/menu/{item_id:int}/availability", status_code=200)
    async def availability(self, request: Request[Any, Any, Any], slug: FromPath[str],
                           item_id: RowId) -> Response[Any]:
        async def change(restaurant: Restaurant, form: dict[str, str]) -> None:
            await floor.set_item_available(request.app.state.redis, restaurant, item_id,
                                           _available(form), actor=staff_of(request).actor)
        return await self._apply(request, slug, change)

    @post("/menu/options/{option_id:int}/availability", status_code=200)
    async def option_availability(self, request: Request[Any, Any, Any], slug: FromPath[str],
                                  option_id: RowId) -> Response[Any]:
        async def change(restaurant: Restaurant, form: dict[str, str]) -> None:
            await floor.set_option_available(request.app.state.redis, restaurant, option_id,
                                             _available(form), actor=staff_of(request).actor)
        return await self._apply(request, slug, change)

    @post("/alarm/acknowledge", status_code=200)
    async def acknowledge_alarm(self, request: Request[Any, Any, Any],
                                slug: FromPath[str]) -> Response[Any]:
        """The screen's "Acknowledge new order": `ref` once per new ticket it showed. JSON
        `{"acknowledged": [refs]}`; every screen's tickets follow over their streams."""
        restaurant = await restaurant_or_404(slug)
        refs = [str(ref) for ref in (await request.form()).getall("ref", [])]
        if not refs or any(not ref or len(ref) > 64 or "\x00" in ref for ref in refs):
            raise HTTPException(status_code=400, detail="name each new order to acknowledge "
                                "as a `ref` field (its TEMP- reference)")
        try:
            done = await floor.acknowledge_alarm(request.app.state.redis, restaurant, refs,
                                                 actor=staff_of(request).actor)
        except floor.ControlError as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        return Response({"acknowledged": done})

    @post("/notices/acknowledge", status_code=200)
    async def acknowledge_all(self, request: Request[Any, Any, Any],
                              slug: FromPath[str]) -> Response[Any]:
        restaurant = await restaurant_or_404(slug)
        await floor.acknowledge_notice(request.app.state.redis, restaurant, None,
                                       actor=staff_of(request).actor)
        if not is_htmx(request):
            return Redirect(f"/kitchen/{slug}", status_code=303)
        return Response("", media_type="text/html")  # every screen re-reads the board

    @post("/notices/{ref:str}/acknowledge", status_code=200)
    async def acknowledge(self, request: Request[Any, Any, Any], slug: FromPath[str],
                          ref: FromPath[str]) -> Response[Any]:
        restaurant = await restaurant_or_404(slug)
        if "\x00" in ref:
            raise HTTPException(status_code=404, detail="no such notice")
        await floor.acknowledge_notice(request.app.state.redis, restaurant, ref,
                                       actor=staff_of(request).actor)
        if not is_htmx(request):
            return Redirect(f"/kitchen/{slug}", status_code=303)
        return Response("", media_type="text/html")  # the notice leaves (hx-swap=delete)


class MenuEventsController(Controller):
    path = "/r/{slug:str}"
    include_in_schema = False

    @get("/events")
    async def events(self, slug: FromPath[str],
                     channels: NamedDependency[ChannelsPlugin]) -> LiveEvents:
        """Public SSE for open menu pages: a `menu` event carrying the menu's state
        fingerprint on connect and whenever the kitchen pauses, sets a busy time or 86s an
        item; the page refreshes its form when the fingerprint differs from its own."""
        restaurant = await restaurant_or_404(slug)

        async def state() -> Message:
            fresh = await menus.get_restaurant(slug) or restaurant
            items = await menus.menu_items(int(fresh.id))
            groups = await menus.modifier_groups(int(fresh.id))
            return encoded(MENU_EVENT, menu_state(fresh, items, groups))

        async def snapshot(_after: int) -> tuple[int, Message | None]:
            started = tick()
            return started, await state()

        async def compose(_batch: list[bytes]) -> Message | None:
            return await state()

        return LiveEvents(channel_stream(channels, floor.menu_channel(int(restaurant.id)),
                                         snapshot, compose, about={"restaurant": slug}),
                          headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
