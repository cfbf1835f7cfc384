"""Customer pages: the menu form (cart + checkout) and the order status page.

Each handler renders the whole page for a normal request and just the component for an
htmx request, from the same component file."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.middleware.rate_limit import get_remote_address
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from app.infra import error_pages, i18n
from app.infra.html import is_htmx
from app.infra.i18n import N_
from app.infra.unavailable import DEPENDENCY_ERRORS, RETRY_AFTER_S
from app.orders import idempotency, open_orders, slot_cap
from app.orders.cart import (
    MAX_CART_FORM_BYTES,
    CartForm,
    Choices,
    add_with_options,
    apply_operation,
    cart_totals,
    form_errors,
    in_page_order,
    parse_form,
    quantity_errors,
    tip_example,
    to_order,
)
from app.orders.choices import choosable, of_views
from app.orders.error_fields import error_fields, first_field
from app.orders.form_messages import CHECK_DISHES, plain_errors, translated
from app.orders.intake import IntakeError, charge_problem, renewal_refusal, submit_order
from app.orders.link_renewal import NotTakingNow, renew_payment_link
from app.orders.models import OrderView
from app.orders.payment_links import LinkNotRenewable, MenuChanged
from app.orders.pricing import TIP_PERCENTS, charge_step, percent_tip
from app.orders.rate_limit import order_rate_limit
from app.orders.time_choice import time_choice, unchosen_time
from app.orders.views import load_order_view
from app.payments.charge_limits import minimum_charge
from app.payments.on_return import confirm_on_return, paid_at_stripe
from app.payments.stripe_gateway import PaymentProviderError
from app.restaurants import services
from app.restaurants.availability import is_paused, menu_state
from app.restaurants.opening import closures_of, order_window, schedule_of
from app.restaurants.tables import Restaurant
from app.settings import get_settings

FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _choices(groups: dict[int, list[services.GroupView]]) -> Choices:
    """The items' groups as the cart and app.orders.choices read them."""
    return {item_id: of_views(item_groups) for item_id, item_groups in groups.items()}


async def _menu_context(redis: Any, slug: str, cart: CartForm, errors: dict[str, str],
                        operation: str = "") -> dict[str, Any]:
    restaurant = await services.get_restaurant(slug)
    if restaurant is None:
        raise NotFoundException(f"no restaurant called {slug!r}")
    i18n.settle(restaurant.default_language)
    items = await services.menu_items(restaurant.id)
    groups = await services.modifier_groups(restaurant.id)
    options = _choices(groups)
    verb, _, raw_id = operation.partition(":")
    adding = int(raw_id) if verb == "add" and raw_id.isascii() and raw_id.isdigit() \
        and len(raw_id) < 10 else None
    if adding is not None and adding in options:  # an item with options: a line per choice
        named = next((item.name for item in items if item.id == adding), "this dish")
        if problem := add_with_options(cart, adding, options, named):
            errors = {**errors, f"options-{adding}": problem}
    else:
        apply_operation(cart, operation)
    # a quantity typed as no whole number ("٣") counts as none: said by its dish, until a
    # button on the dish sets it anew (the checkout refuses the order meanwhile)
    errors = {**plain_errors(quantity_errors(cart)), **errors}
    now = datetime.now(UTC)
    window = order_window(restaurant, schedule_of(restaurant, await closures_of(restaurant.id)),
                          now)
    # a full slot is not offered (app/orders/slot_cap.py counts as intake does): nor is a
    # day whose slots are all full, as the day select lists only days with slots
    window = replace(window, slots=await slot_cap.offered(
        redis, restaurant.id, restaurant.slot_capacity, window.slots))
    lines = cart.lines(items, options)
    gone = cart.gone(items)
    errors = {**errors, **{f"gone-{line.line}": gone_message(line.name) for line in gone}}
    unchoosable = {item_id for item_id, (item_groups, item_options) in options.items()
                   if not choosable(item_groups, item_options)}
    totals, tip_problem = cart_totals(cart, items, restaurant, options)
    if tip_problem and "tip" not in errors and "tip_custom" not in errors:
        errors = {**errors, **plain_errors({"tip": tip_problem})}
    errors = in_page_order(errors)
    times = time_choice(window, cart, restaurant.timezone, now)
    # fields the form does not show (their mistakes are said in the box, linked to nothing):
    # a dish sold out or with options has no quantity or allergy box of its own, the amount
    # of a tip shows only for "Other amount", the time only for a day picked
    hidden = [f"{kind}-{item.id}" for item in items if not item.available
              or item.id in unchoosable or item.id in options for kind in ("qty", "allergy")]
    if not (restaurant.tips_enabled and cart.field("tip") == "custom"):
        hidden.append("tip_custom")
    if not (window.can_schedule and times.day):
        hidden.append("scheduled_for")
    return {"restaurant": restaurant, "groups": groups,
            "categories": services.by_category(items,
                                               await services.category_order(restaurant.id)),
            "menu": items, "cart": cart, "cart_lines": lines, "cart_gone": gone,
            "cart_count": sum(line.quantity for line in lines),
            # What "Place order and pay" will charge: the goods with VAT, and the tip.
            "cart_total": totals.total, "totals": totals,
            # a basket under the smallest card payment (a free glass of water alone) says
            # so before the diner presses, in intake's words
            "cart_too_small": _too_small(totals.total, restaurant.currency) if lines else "",
            # beside each percentage, what it charges (whole kronur in ISK, as intake)
            "tip_options": [(percent, percent_tip(totals.subtotal, percent,
                                                  charge_step(restaurant.currency)))
                            for percent in TIP_PERCENTS],
            "tip_example": tip_example(restaurant.currency),
            "errors": errors,
            # the box of errors links each mistake to its field (app/orders/error_fields.py)
            "error_fields": error_fields(errors, hidden),
            # dishes whose required options are all sold out: sold out like an 86'd dish
            "unchoosable": unchoosable,
            # no dish a diner can order (no dish available: the home page does not list the
            # restaurant, app/restaurants/services.py `list_restaurants`): the form says why
            "nothing_to_order": not any(item.available and item.id not in unchoosable
                                        for item in items),
            "paused": is_paused(restaurant.paused_until),
            # ASAP or a slot: what the checkout offers now (app/restaurants/opening.py).
            "window": window,
            "time_choice": times,
            "prep_estimate": restaurant.default_prep_minutes + restaurant.busy_minutes,
            "menu_state": menu_state(restaurant, items, groups),
            # One rendered form, one key: a double tap sends it twice, the server places
            # one order (app.orders.idempotency).
            "submit_key": secrets.token_urlsafe(16)}


def gone_message(name: str) -> str:
    """What a basket line whose dish the restaurant deleted says (the order waits for it)."""
    _ = i18n.gettext
    if not name:
        return _("A dish in your basket is no longer on the menu. Remove it to place your "
                 "order.")
    return _("%(dish)s is no longer on the menu. Remove it to place your order.") % {
        "dish": name}


def _render_menu(request: Request[Any, Any, Any], context: dict[str, Any],
                 status_code: int = 200) -> Template:
    if is_htmx(request):
        # htmx swaps only 2xx answers by default, so validation errors come back as 200.
        return Template("order_form.html", context=context)
    # Without JavaScript a refused order comes back as a new page: its first wrong field takes
    # the focus (`autofocus`), else the box of errors (static/js/menu.js does so after a swap).
    return Template("menu.html", context={**context, "focus_errors": True,
                                          "focus_field": first_field(context["error_fields"])},
                    status_code=status_code)


class OrderPagesController(Controller):
    include_in_schema = False

    @get("/r/{slug:str}")
    async def menu_page(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
        redis = request.app.state.redis
        context = await _menu_context(redis, slug, CartForm(), {})
        # back from ordering (the back button, a new tab): the way to an order this browser
        # has waiting for payment here (app/orders/open_orders.py says why by a cookie)
        waiting = await open_orders.waiting_at(
            redis, request.cookies.get(open_orders.COOKIE, ""), slug)
        page = _render_menu(request, {**context, "waiting_order": waiting.order})
        page.cookies.extend(waiting.cookies)
        return page

    @get(["/r/{slug:str}/cart", "/r/{slug:str}/checkout"])
    async def form_address(self, slug: FromPath[str]) -> Redirect:
        """Without JavaScript the basket's and the checkout's answers are pages at these
        addresses: reopened (a restored tab, a shared link) they were a 405 page. They lead
        back to the menu."""
        return Redirect(f"/r/{quote(slug, safe='')}", status_code=303)

    @post("/r/{slug:str}/cart", status_code=200, request_max_body_size=MAX_CART_FORM_BYTES)
    async def update_cart(self, request: Request[Any, Any, Any], slug: FromPath[str],
                          data: FormData) -> Template:
        """Apply a +/-/remove button (or just recompute after a quantity change)."""
        cart = parse_form(data)
        return _render_menu(request, await _menu_context(request.app.state.redis, slug, cart, {},
                                                         data.get("op", "")))

    @post("/r/{slug:str}/checkout", status_code=200, request_max_body_size=MAX_CART_FORM_BYTES,
          middleware=[order_rate_limit().middleware])
    async def checkout(self, request: Request[Any, Any, Any], slug: FromPath[str],
                       data: FormData) -> Template | Redirect | Response[str]:
        cart = parse_form(data)
        restaurant = await services.get_restaurant(slug)
        language = i18n.settle(restaurant.default_language if restaurant else None)
        order_in, errors = to_order(cart, slug, restaurant.currency if restaurant else "eur")
        if order_in is not None and restaurant is not None \
                and cart.gone(await services.menu_items(restaurant.id)):
            order_in = None  # said by its line (`_menu_context`): never placed without it
        # a day picked without one of its times is not "as soon as possible"
        time_problem = unchosen_time(cart, restaurant.timezone) if restaurant else ""
        if order_in is not None and not time_problem:
            redis = request.app.state.redis
            key = data.get("submit_key", "")
            try:
                client = get_remote_address(request)
                if idempotency.valid_key(key):
                    order, _created = await idempotency.submit_once(
                        redis, key, order_in, partial(submit_order, redis, order_in,
                                                      client=client, language=language),
                        per_order=True)
                else:
                    order = await submit_order(redis, order_in, client=client,
                                               language=language)
            except IntakeError as error:
                errors = error.errors
            except idempotency.StillRunning as error:
                errors = {"form": str(error)}
            else:
                target = f"/orders/{order.id}"
                if is_htmx(request):
                    return Response("", headers={"HX-Redirect": target})
                return Redirect(target, status_code=HTTP_303_SEE_OTHER)
        shown = plain_errors(form_errors(errors))
        if time_problem:
            shown["scheduled_for"] = time_problem
        context = await _menu_context(request.app.state.redis, slug, cart, shown)
        return _render_menu(request, context, status_code=HTTP_422_UNPROCESSABLE_ENTITY)

    @get("/orders/{order_id:str}")
    async def status_page(self, request: Request[Any, Any, Any], order_id: FromPath[str],
                          checkout: FromQuery[str] = "", session_id: FromQuery[str] = ""
                          ) -> Template:
        try:
            context = await _status_context(request, order_id)
        except DEPENDENCY_ERRORS:
            # Back from Stripe while Redis (or Postgres) is away: not the bare 503 page.
            if checkout != "success" or not error_pages.wants_page(request):
                raise
            return await _back_while_unavailable(order_id, session_id)
        context["checkout"] = checkout = returned_from(checkout, session_id, context["order"])
        context["session_id"] = session_id if checkout == "success" else ""
        back_from_checkout = checkout == "success" and not context["order"].is_paid
        # Back from Stripe before its webhook: ask Stripe once the page has gone out (it says
        # "Confirming your payment…" and turns live when the order is recorded).
        return Template("order_status.html", context=context, background=BackgroundTask(
            confirm_on_return, request.app.state.redis, order_id)
            if back_from_checkout else None,
            # the menu points back here while the order waits for payment (open_orders)
            cookies=open_orders.on_status_page(
                request.cookies.get(open_orders.COOKIE, ""), context["order"]))

    @get("/orders/{order_id:str}/progress")
    async def progress(self, request: Request[Any, Any, Any], order_id: FromPath[str],
                       checkout: FromQuery[str] = "", session_id: FromQuery[str] = ""
                       ) -> Template:
        context = await _status_context(request, order_id)
        context["checkout"] = returned_from(checkout, session_id, context["order"])
        context["with_title"] = True  # paid meanwhile: the tab says the kitchen's number too
        return Template("order_progress.html", context=context)

    @post("/orders/{order_id:str}/payment-link", status_code=200)
    async def new_payment_link(self, request: Request[Any, Any, Any],
                               order_id: FromPath[str]) -> Template | Redirect:
        problem, changed, conflict = "", None, False
        try:
            await renew_payment_link(request.app.state.redis, order_id)
        except MenuChanged as error:
            changed = error
        except LinkNotRenewable as error:
            problem, conflict = str(error), isinstance(error, NotTakingNow)
        except PaymentProviderError:
            problem = N_("We could not create a new payment link just now. Please try again.")
        if is_htmx(request) or problem or changed:
            context = await _status_context(request, order_id)  # settles the language
            context["problem"] = problem and translated(
                problem, N_("This order cannot get a new payment link."))
            if changed is not None:  # what is wrong, then the way out: order again
                context["problem"] = " ".join(
                    [translated(message, CHECK_DISHES) for message in changed.errors.values()]
                    + [i18n.gettext("This order cannot be paid as it is; nothing was charged. "
                                    "Please order again from the menu.")])
                context["menu_url"] = f"/r/{changed.restaurant_slug}"
            context["with_title"] = is_htmx(request)
            name = "order_progress.html" if is_htmx(request) else "order_status.html"
            # 409 for the form's page; htmx swaps only a 2xx, so its fragment comes with 200.
            code = (HTTP_409_CONFLICT if (changed is not None or conflict)
                    and not is_htmx(request) else 200)
            return Template(name, context=context, status_code=code)
        return Redirect(f"/orders/{order_id}", status_code=HTTP_303_SEE_OTHER)


def returned_from(checkout: str, session_id: str, order: OrderView) -> str:
    """`checkout` as the status page takes it. "success" (the page says "Confirming your
    payment…", no Pay button) only for a return from the order's current Checkout Session:
    after a failed payment and a new link, the address still named the old session, and a
    reload told the diner Stripe had a payment nobody had made (outside try). A paid
    order's return is said as before."""
    if checkout == "success" and not order.is_paid and (
            not session_id or session_id != order.checkout_session_id):
        return ""
    return checkout


async def _back_while_unavailable(order_id: str, session_id: str) -> Template:
    """The success URL's page while its order cannot be read: whether Stripe has the money
    (the session the URL names, if it is this order's), that the kitchen will get the order
    (the webhook is retried until it is recorded; the worker reconciles), and a refresh every
    few seconds until the order's own page answers."""
    i18n.settle()  # the order's language is out of reach: the diner's browser's
    return Template("order_return_unavailable.html", status_code=503,
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                    context={"paid": await paid_at_stripe(order_id, session_id),
                             "refresh_s": RETRY_AFTER_S})


def _too_small(total: int, currency: str) -> str:
    problem = charge_problem(total, currency)
    if not problem or total >= minimum_charge(currency):
        return ""  # too large is said at checkout, with how to split the order
    return translated(problem, CHECK_DISHES)


# The states whose page offers a new payment link (link_renewal `renew_payment_link`).
RENEWABLE_SHOWN = ("payment_expired", "payment_failed")


async def _status_context(request: Request[Any, Any, Any], order_id: str) -> dict[str, Any]:
    view = await load_order_view(request.app.state.redis, order_id)
    if view is None:
        raise NotFoundException("We could not find that order. Links to an order stop "
                                "working a few days after it was placed unpaid.")
    restaurant = await Restaurant.objects().get(Restaurant.id == view.restaurant_id)
    # The diner's switch or browser first; else the language they ordered in.
    i18n.settle(view.language)
    # A new link is offered only when it would be made: closed now, a button would only be
    # refused.
    refusal = (await renewal_refusal(view.restaurant_slug, view.scheduled_for)
               if not view.is_paid and view.status in RENEWABLE_SHOWN else None)
    renew_refused = refusal and translated(
        refusal, N_("This order cannot get a new payment link now."))
    return {"order": view, "restaurant": restaurant, "problem": "", "checkout": "",
            "renew_refused": renew_refused,
            # the same dishes paid since in a later order of this browser's: not pressed to
            # pay twice (app/orders/open_orders.py)
            "paid_twin": await open_orders.paid_twin(
                request.app.state.redis, request.cookies.get(open_orders.COOKIE, ""), view),
            "now": datetime.now(UTC), "with_title": False,
            # the page reconnects after a few silent heartbeats (static/js/live-watch.js)
            "heartbeat_s": get_settings().sse_heartbeat_seconds}
