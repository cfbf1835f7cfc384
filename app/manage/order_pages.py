"""The order pages the admin (`/admin/orders…`, every restaurant) and a restaurant's owners
and managers (`/manage/{slug}/orders…`, their restaurant only) share: search, one order, its
receipt, and refunds of items or of the whole order. A `Scope` says where the pages live,
which layout they use and which restaurant they are limited to; the controllers only build
one and call these. Another restaurant's order is 404 on every route of a scoped page, as if
it did not exist (never 403)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from app.accounts.forms import form_of
from app.accounts.guards import staff_of
from app.infra.form_input import as_sentence
from app.manage import order_search
from app.payments import partial_refunds
from app.payments.stripe_gateway import PaymentProviderError
from app.restaurants import editing as restaurant_admin
from app.settings import get_settings

DONE = {"refund": "Refund made; the customer has been emailed.",
        "refunded": "Refunded in full.",
        "voided": "The card hold was released: nothing was charged; the order is cancelled "
                  "and the customer emailed."}
# "Refund everything" posts this with its checkbox ticked: a post without it refunds nothing.
CONFIRM = "confirm"
UNCONFIRMED = ("Nothing was refunded: tick \u201cThis cannot be undone\u201d to confirm "
               "refunding everything.")


@dataclass(frozen=True)
class Scope:
    base: str  # the pages' path: "/admin/orders", "/manage/demo/orders"
    layout: str  # the template the pages extend
    context: Callable[..., dict[str, Any]]  # (request, **context) -> the page's context
    restaurant_id: int | None = None  # None: every restaurant (the admin)

    def url(self, ref: str, tail: str = "") -> str:
        return f"{self.base}/{quote(ref, safe='')}{tail}"


def _not_found(ref: str) -> NotFoundException:
    return NotFoundException(f"no paid order {ref!r}")


async def index(request: Request[Any, Any, Any], scope: Scope, *, q: str = "", day: str = "",
                date_from: str = "", date_to: str = "", status: str = "",
                restaurant: str = "") -> Template:
    scoped = scope.restaurant_id is not None
    query, problem = order_search.Query.parse(
        q, day, "" if scoped else restaurant, date_from=date_from, date_to=date_to,
        status=status, restaurant_id=scope.restaurant_id)
    rows = [] if problem else await order_search.search(query)
    return Template("admin/orders.html", status_code=400 if problem else 200,
                    context=scope.context(
                        request, rows=rows, q=q, day=day, date_from=date_from, date_to=date_to,
                        status=status, statuses=order_search.STATUSES,
                        slug=query.restaurant, problem=problem, base=scope.base,
                        layout=scope.layout, scoped=scoped,
                        restaurants=[] if scoped else await restaurant_admin.list_restaurants()))


async def _found(request: Request[Any, Any, Any], scope: Scope,
                 ref: str) -> order_search.OrderDetail:
    found = await order_search.detail(request.app.state.redis, ref, scope.restaurant_id)
    if found is None:
        raise _not_found(ref)
    return found


async def detail(request: Request[Any, Any, Any], scope: Scope, ref: str, *, message: str = "",
                 error: str = "", status_code: int = 200, nonce: str = "") -> Template:
    """`nonce`: the items form's refund key to keep (a refund Stripe could not be reached
    for: trying again is the same refund); a new one otherwise."""
    found = await _found(request, scope, ref)
    return Template("admin/order_detail.html", status_code=status_code,
                    context=scope.context(request, detail=found, order=found.view,
                                          refunds=found.view.refunds,
                                          nonce=nonce or secrets.token_urlsafe(12),
                                          message=message,
                                          error=error, base=scope.base, layout=scope.layout,
                                          scoped=scope.restaurant_id is not None))


async def show(request: Request[Any, Any, Any], scope: Scope, ref: str, done: str) -> Template:
    return await detail(request, scope, ref, message=DONE.get(done, ""))


async def receipt(request: Request[Any, Any, Any], scope: Scope, ref: str) -> Template:
    found = await _found(request, scope, ref)
    rendered = order_search.receipt(found, get_settings().public_base_url)
    return Template("admin/order_receipt.html", context=scope.context(
        request, detail=found, order=found.view, receipt=rendered, base=scope.base,
        layout=scope.layout))


async def refund(request: Request[Any, Any, Any], scope: Scope,
                 ref: str) -> Template | Response[Any]:
    """Some items (`qty_<item id>` fields, with the form's `nonce` as the refund's key; every
    unit left makes it the whole refund, tip included) or, without item fields, the whole
    order, only with its confirmation ticked (422 and nothing refunded otherwise). Another
    restaurant's order is refused before anything is read from the form."""
    if scope.restaurant_id is not None and not await order_search.belongs(
            ref, scope.restaurant_id):
        raise _not_found(ref)
    form = await form_of(request)
    by = staff_of(request).email
    redis = request.app.state.redis
    if bad_reason := partial_refunds.reason_problem(form.get("reason", "")):
        return await detail(request, scope, ref, error=bad_reason, status_code=422)
    try:
        if any(name.startswith("qty_") for name in form) or "nonce" in form:
            # The items form (it carries a nonce): never read as "everything" when a
            # client left out its quantities; `plan` asks for at least one item.
            made = await partial_refunds.refund_items(redis, ref, form, by=by)
            done = "refunded" if made.fully_refunded else "refund"
        elif form.get(CONFIRM) != "yes":
            return await detail(request, scope, ref, error=UNCONFIRMED, status_code=422)
        else:
            done = await partial_refunds.refund_whole(redis, ref, by=by,
                                                      reason=form.get("reason", ""))
    except partial_refunds.RefundRefused as refused:
        if refused.status_code == 404:
            raise NotFoundException(str(refused)) from refused
        # Stripe did not answer: the page's items form keeps the key it was sent with, so
        # trying again is the same refund whatever Stripe did with the first.
        kept = form.get("nonce", "") if refused.unreachable else ""
        return await detail(request, scope, ref, error=as_sentence(str(refused)),
                            status_code=refused.status_code,
                            nonce=kept if partial_refunds.NONCE.match(kept) else "")
    except PaymentProviderError as problem:
        return await detail(request, scope, ref, error=problem.told(), status_code=502)
    return Redirect(f"{scope.url(ref)}?done={done}", status_code=303)
