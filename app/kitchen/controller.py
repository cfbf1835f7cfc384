"""Kitchen screens and actions (`/kitchen/{slug}…`) and the customer's order status stream
(`/orders/{id}/events`). Thin: parse, call a service, render."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, ServerSentEvent, Template
from litestar.response import ServerSentEventMessage as Message
from litestar.template import TemplateEngineProtocol
from litestar.utils.scope.state import ScopeState

from app.accounts.guards import require_staff_for_slug, staff_of
from app.infra.form_input import ascii_int, has_nul
from app.kitchen import services
from app.kitchen.feed import decode_event, kitchen_channel, order_channel
from app.kitchen.shared_render import SharedRender, tick
from app.kitchen.sse import EncodedMessage, channel_stream, compact, encoded
from app.orders import lifecycle
from app.restaurants.tables import Restaurant

BOARD_EVENT = "board"  # the whole board: on connect and on resync
TICKETS_EVENT = "tickets"  # the tickets a burst of events changed, plus the side panels
ORDER_EVENT = "order-updated"
# More tickets than this in one burst: the whole board is cheaper to send than the changes.
MAX_CHANGED_TICKETS = 20
BOARDS: SharedRender[EncodedMessage] = SharedRender()  # per process, keyed by restaurant id
# How long a restaurant's settings (time zone, default prep) read for live updates are reused.
RESTAURANT_TTL_S = 30.0


def csrf_of(request: Request[Any, Any, Any]) -> str:
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def render(request: Request[Any, Any, Any], name: str, **context: Any) -> str:
    engine = request.app.template_engine
    assert engine is not None
    return str(engine.get_template(name).render(**context))


def changed_refs(batch: list[bytes]) -> list[str] | None:
    """The order refs a burst of channel events names, in order, or None when the burst
    calls for the whole board (an event without a ref, or too many tickets at once)."""
    refs: list[str] = []
    for raw in batch:
        ref = decode_event(raw).get("order_ref")
        if not isinstance(ref, str) or not ref:
            return None
        if ref not in refs:
            refs.append(ref)
    return refs if len(refs) <= MAX_CHANGED_TICKETS else None


def board_stream(channels: ChannelsPlugin, restaurant: Restaurant,
                 engine: TemplateEngineProtocol[Any, Any], *,
                 heartbeat_s: float | None = None) -> AsyncIterator[Message]:
    """A screen's events: the whole board (`board`) on connect and on resync, then the
    tickets each burst of order events changed (`tickets`). Both are rendered once per
    process for all the restaurant's screens and sent to each as the same bytes (forms
    carry no CSRF token: the page's htmx sends it as a header)."""
    restaurant_id = services.row_id(restaurant)
    settings = _RestaurantSettings(restaurant)

    async def render_board() -> EncodedMessage:
        board = await services.board(await settings.fresh())
        return encoded(BOARD_EVENT, compact(engine.get_template("kitchen_board.html").render(
            board=board, csrf="")))

    async def snapshot(after: int) -> tuple[int, Message]:
        return await BOARDS.get(restaurant_id, after, render_board)

    async def compose(batch: list[bytes]) -> Message | None:
        refs = changed_refs(batch)
        if refs is None:
            return None
        changes = await services.changes(await settings.recent(), refs)
        return encoded(TICKETS_EVENT, compact(engine.get_template(
            "kitchen_changes.html").render(changes=changes, csrf="")))

    return channel_stream(channels, kitchen_channel(restaurant_id), snapshot, compose,
                          heartbeat_s=heartbeat_s)


class _RestaurantSettings:
    """The restaurant row behind a board: re-read for every snapshot, and reused for up to
    RESTAURANT_TTL_S by live updates, which run per burst of orders."""

    def __init__(self, restaurant: Restaurant) -> None:
        self.row = restaurant
        self.read_at = time.monotonic()

    async def fresh(self) -> Restaurant:
        self.row = await services.restaurant_by_id(services.row_id(self.row)) or self.row
        self.read_at = time.monotonic()
        return self.row

    async def recent(self) -> Restaurant:
        if time.monotonic() - self.read_at > RESTAURANT_TTL_S:
            return await self.fresh()
        return self.row


async def restaurant_or_404(slug: str) -> Restaurant:
    restaurant = await services.get_restaurant(slug)
    if restaurant is None:
        raise NotFoundException(f"no restaurant called {slug!r}")
    return restaurant


class KitchenController(Controller):
    path = "/kitchen/{slug:str}"
    guards = [require_staff_for_slug]
    include_in_schema = False

    @get("/")
    async def page(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        restaurant = await restaurant_or_404(slug)
        board = await services.board(restaurant)
        return Template("kitchen.html", context={
            "board": board, "csrf": csrf_of(request), "staff": staff_of(request)})

    @get("/board")
    async def board_fragment(self, request: Request[Any, Any, Any],
                             slug: FromPath[str]) -> Template:
        """The board alone (for a manual refresh or a client without SSE)."""
        board = await services.board(await restaurant_or_404(slug))
        return Template("kitchen_board.html", context={"board": board, "csrf": csrf_of(request)})

    @get("/events")
    async def events(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     channels: NamedDependency[ChannelsPlugin]) -> ServerSentEvent:
        """SSE: a `board` event with the whole board's HTML on connect (and on resync), then
        a `tickets` event with the changed tickets after each burst of order events."""
        restaurant = await restaurant_or_404(slug)
        engine = request.app.template_engine
        assert engine is not None
        return ServerSentEvent(board_stream(channels, restaurant, engine),
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @get("/orders/{ref:str}/ticket")
    async def ticket(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     ref: FromPath[str]) -> Template:
        restaurant = await restaurant_or_404(slug)
        card = await services.card(restaurant, ref)
        if card is None:
            raise NotFoundException("no such order")
        return Template("kitchen_ticket.html", context={"card": card, "restaurant": restaurant})

    @post("/orders/{ref:str}/{action:str}", status_code=200)
    async def act(self, request: Request[Any, Any, Any], slug: FromPath[str],
                  ref: FromPath[str], action: FromPath[str]) -> Response[Any]:
        if action not in lifecycle.STAFF_ACTIONS:
            raise NotFoundException(f"no action {action!r}")
        restaurant = await restaurant_or_404(slug)
        form = await request.form()
        prep = str(form.get("prep_minutes") or "").strip()
        prep_minutes = ascii_int(prep, low=1) if prep else None
        if prep and prep_minutes is None:
            raise HTTPException(status_code=400,
                                detail="prep time must be a whole number of minutes")
        reason, expected = str(form.get("reason") or ""), str(form.get("from") or "")
        if has_nul(reason) or has_nul(expected):
            raise HTTPException(status_code=400, detail="NUL characters are not allowed")
        try:
            await lifecycle.apply_action(
                ref, action, actor=staff_of(request).actor, prep_minutes=prep_minutes,
                reason=reason, expected_status=expected or None,
                restaurant_id=services.row_id(restaurant), redis=request.app.state.redis)
        except lifecycle.InvalidAction as error:  # e.g. a prep time out of range
            raise HTTPException(status_code=400, detail=str(error)) from error
        except lifecycle.OrderNotFound as error:
            raise NotFoundException("no such order") from error
        except lifecycle.IllegalTransition as error:
            raise HTTPException(status_code=409, detail=str(error)) from error
        except lifecycle.ActionFailed as error:
            raise HTTPException(status_code=502, detail=str(error)) from error
        if "hx-request" not in request.headers:
            return Redirect(f"/kitchen/{slug}", status_code=303)
        card = await services.card(restaurant, ref)
        if card is None or card.status not in lifecycle.ACTIVE_STATUSES:
            return Response("", media_type="text/html")  # the ticket leaves the board
        html = render(request, "order_card.html", card=card, csrf=csrf_of(request),
                      board=None, slug=slug,
                      default_prep=restaurant.default_prep_minutes)
        return Response(html, media_type="text/html")


class OrderEventsController(Controller):
    path = "/orders"
    include_in_schema = False

    @get("/{ref:str}/events")
    async def order_events(self, request: Request[Any, Any, Any], ref: FromPath[str],
                           channels: NamedDependency[ChannelsPlugin]) -> ServerSentEvent:
        """Public SSE for the status page: `order-updated` with the order's status JSON on
        connect and whenever it changes. The id is unguessable; only status info is sent."""
        redis = request.app.state.redis
        if await services.order_status(ref, redis) is None:
            raise NotFoundException("no such order")

        async def status_message() -> Message | None:
            status = await services.order_status(ref, redis)
            return None if status is None else encoded(
                ORDER_EVENT, json.dumps(status, separators=(",", ":")))

        async def snapshot(_after: int) -> tuple[int, Message | None]:
            started = tick()
            return started, await status_message()

        async def compose(_batch: list[bytes]) -> Message | None:
            return await status_message()  # one read for every page open on this order

        return ServerSentEvent(channel_stream(channels, order_channel(ref), snapshot, compose,
                                              label=ref),
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
