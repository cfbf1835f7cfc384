"""Kitchen screens and actions (`/kitchen/{slug}…`). Thin: parse, call a service, render; the
live stream's frames come from `app.kitchen.board_feed`."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from app.accounts.guards import require_staff_for_slug, staff_of
from app.accounts.session_versions import until_revoked
from app.infra.error_pages import error_page, wants_page
from app.infra.form_input import ascii_int, has_nul
from app.infra.html import csrf_of, is_htmx, render_fragment
from app.infra.json_body import NO_OVERRIDE, text_problem
from app.infra.unavailable import DEPENDENCY_ERRORS
from app.kitchen import board_feed, floor, services
from app.live.sse import LiveEvents
from app.orders import lifecycle
from app.restaurants.tables import Restaurant
from app.settings import get_settings

# What the reject dialog refuses before its undo countdown starts, read from here into its
# "Other" field (templates/kitchen.html: data-max-chars, data-pattern and their messages, for
# static/js/kitchen.js), so the screen and this route (`act`, the backstop) keep one rule: at
# most REJECT_REASON_MAX characters, no NUL and no text-direction override, the pattern of
# free text a kitchen or a diner reads (an ECMAScript regex too, as it is the API schema's).
REJECT_REASON_RULES = {
    "max_chars": lifecycle.REJECT_REASON_MAX,
    "pattern": NO_OVERRIDE,
    "too_long": f"Too long: {lifecycle.REJECT_REASON_MAX} characters at most.",
    "bad_text": "A hidden text-direction character would scramble it for the customer: "
                "type it again.",
}


def reject_reason_problem(reason: str) -> str:
    """Why the route refuses a reject reason (its detail), or "" (see REJECT_REASON_RULES)."""
    if has_nul(reason):
        return "NUL characters are not allowed"
    if text_problem(reason, NO_OVERRIDE):  # the diner's email and status page quote it
        return "text-direction overrides are not allowed in the reason"
    if len(reason.strip()) > lifecycle.REJECT_REASON_MAX:  # was cut there without a word
        return f"the reason is too long: {lifecycle.REJECT_REASON_MAX} characters at most"
    return ""


async def restaurant_or_404(slug: str) -> Restaurant:
    restaurant = await services.get_restaurant(slug)
    if restaurant is None:
        raise NotFoundException(f"no restaurant called {slug!r}")
    return restaurant


async def _sell_out(request: Request[Any, Any, Any], restaurant: Restaurant, ref: str,
                    dishes: list[str]) -> str:
    """The dishes a reject named, sold out on the menu as the cook asked; what to tell them.
    The reject is done whatever happens here: a failure says to use "Menu & pause"."""
    try:
        sold_out = await floor.sell_out_order_dishes(
            request.app.state.redis, restaurant, ref, dishes, actor=staff_of(request).actor)
    except DEPENDENCY_ERRORS:
        return f"{', '.join(dishes)} could not be marked sold out: use Menu & pause."
    if not sold_out:
        return ""
    verb = "is" if len(sold_out) == 1 else "are"
    return f"{', '.join(sold_out)} {verb} now sold out on the menu."


class KitchenController(Controller):
    path = "/kitchen/{slug:str}"
    guards = [require_staff_for_slug]
    include_in_schema = False

    @get("/")
    async def page(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        restaurant = await restaurant_or_404(slug)
        board = await services.board(restaurant)
        return Template("kitchen.html", context={
            "board": board, "csrf": csrf_of(request), "staff": staff_of(request),
            "thresholds": json.dumps(board.thresholds),
            "heartbeat_s": get_settings().kitchen_heartbeat_s,
            "reason_rules": REJECT_REASON_RULES, "ack_max": floor.ALARM_REFS_MAX,
            "reject_choices": services.REJECT_CHOICES, "sold_out_choice": services.SOLD_OUT_CHOICE})

    @get("/board")
    async def board_fragment(self, request: Request[Any, Any, Any],
                             slug: FromPath[str]) -> Template:
        """The board alone (for a manual refresh or a client without SSE)."""
        board = await services.board(await restaurant_or_404(slug))
        return Template("kitchen_board.html", context={"board": board, "csrf": csrf_of(request)})

    @get("/events")
    async def events(self, request: Request[Any, Any, Any], slug: FromPath[str],
                     channels: NamedDependency[ChannelsPlugin]) -> LiveEvents:
        """SSE: a `board` event with the whole board's HTML on connect (and on resync), then
        a `tickets` event with the changed tickets after each burst of order events."""
        restaurant = await restaurant_or_404(slug)
        staff = staff_of(request)  # a screen stops when its session ends (removed, re-roled)
        settings = get_settings()
        # the session is checked at the slower, general period (a Redis read per screen)
        stream = until_revoked(
            board_feed.board_stream(channels, restaurant,
                                    heartbeat_s=settings.kitchen_heartbeat_s),
            request.app.state.redis, staff.user_id, staff.session_version,
            every_s=settings.sse_heartbeat_seconds)
        return LiveEvents(stream,
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
        prep_minutes = ascii_int(prep, low=0) if prep else None
        if prep and prep_minutes is None:  # -5 is a whole number too: say what is allowed
            low, high = lifecycle.PREP_MINUTES_RANGE
            raise HTTPException(status_code=400, detail="prep time must be a whole number of "
                                f"minutes from {low} to {high}")
        reason, expected = str(form.get("reason") or ""), str(form.get("from") or "")
        dishes = [str(dish) for dish in form.getall("sold_out", [])] if action == "reject" \
            else []
        problem = "NUL characters are not allowed" if any(map(has_nul, (expected, *dishes))) \
            else reject_reason_problem(reason)
        if problem:
            raise HTTPException(status_code=400, detail=problem)
        try:  # "Sold out: Tiramisu" when the cook named the dishes the kitchen ran out of
            reason = await services.sold_out_reason(restaurant, ref, reason, dishes)
        except services.SoldOutRefused as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        if reason_too_long := reject_reason_problem(reason):  # many long names
            raise HTTPException(status_code=400, detail=reason_too_long)
        try:
            order = await lifecycle.apply_action(
                ref, action, actor=staff_of(request).actor, prep_minutes=prep_minutes,
                reason=reason, expected_status=expected or None,
                restaurant_id=services.row_id(restaurant), redis=request.app.state.redis)
        except lifecycle.InvalidAction as error:  # e.g. a prep time out of range
            raise HTTPException(status_code=400, detail=str(error)) from error
        except lifecycle.OrderNotFound as error:
            raise NotFoundException("no such order") from error
        except lifecycle.IllegalTransition as error:
            detail = str(error) if action != "accept" else await services.refused_accept(
                restaurant, ref, prep_minutes, str(error))
            raise HTTPException(status_code=409, detail=detail) from error
        except lifecycle.HoldExpired as error:
            # Not a failure to retry: the order is off the board now. The board's banner says
            # why (a 4xx note on the card would leave with the card).
            if not is_htmx(request):
                raise HTTPException(status_code=409, detail=str(error)) from error
            outcome = json.dumps({"orderpass:outcome": {"message": str(error), "ok": False}})
            return Response("", media_type="text/html", headers={"HX-Trigger": outcome})
        except lifecycle.ActionFailed as error:
            if wants_page(request):  # a no-JS screen: the page says what failed and what to do
                return error_page(request, 502, str(error))
            raise HTTPException(status_code=502, detail=str(error)) from error
        sold_out_note = await _sell_out(request, restaurant, ref, dishes) \
            if action == "reject" and dishes and form.get("mark_sold_out") else ""
        if not is_htmx(request):
            return Redirect(f"/kitchen/{slug}", status_code=303)
        if action == "reject":  # the ticket leaves; the screen shows what became of the money
            said = " ".join(filter(None, (await services.reject_outcome(order), sold_out_note)))
            outcome = json.dumps({"orderpass:rejected": {
                "message": said, "ok": order.status in ("refunded", "voided")}})
            return Response("", media_type="text/html", headers={"HX-Trigger": outcome})
        card = await services.card(restaurant, ref)
        if card is None or card.status not in lifecycle.ACTIVE_STATUSES:
            return Response("", media_type="text/html")  # the ticket leaves the board
        response = render_fragment(request, "order_card.html", card=card, board=None,
                                   slug=slug, default_prep=restaurant.default_prep_minutes
                                   + restaurant.busy_minutes)
        late = services.accept_outcome(card) if action == "accept" else ""
        if late:  # a booked ticket promised after its slot: said to the cook as it happens
            response.headers["HX-Trigger"] = json.dumps(
                {"orderpass:outcome": {"message": late, "ok": False}})
        return response
