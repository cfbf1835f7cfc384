"""JSON API for orders: `POST /api/orders` (intake) and `GET /api/orders/{id}` (status)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.middleware.rate_limit import get_remote_address
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from app.infra.errors import error_responses
from app.infra.json_body import strict_json
from app.orders import idempotency, pricing
from app.orders.field_checks import body_problems
from app.orders.intake import IntakeError, submit_order
from app.orders.models import OrderStatus, OrderView, TempOrder
from app.orders.rate_limit import order_rate_limit
from app.orders.schemas import (
    ModifierOut,
    OrderCreatedOut,
    OrderIn,
    OrderLineOut,
    OrderOut,
    TaxRateOut,
    TotalsOut,
)
from app.orders.views import load_order_view
from app.restaurants.schemas import Money
from app.settings import get_settings

# The largest order the schema accepts must fit however a client writes its JSON: ~21,500
# text characters at their limits, each up to 6 bytes (`\u00e9`, or literal UTF-8), is
# ~131 KB. The schema's limits decide what is too big; this cap only stops junk (nginx: 256k).
MAX_ORDER_BODY_BYTES = 160 * 1024
LINK_DEFERRED = "The payment link will follow by email in a few minutes."
# Past its address's cap on payment-link emails (intake) the link is never emailed: the
# submitter finds it on the status page (and in `GET /api/orders/{id}`) once it is made.
LINK_DEFERRED_NOT_EMAILED = ("The payment link will appear on the order's status page, {url}, "
                             "in a few minutes (it is not sent by email).")


def intake_http_error(error: IntakeError) -> HTTPException:
    detail = "; ".join(f"{key}: {message}" for key, message in error.errors.items())
    return HTTPException(status_code=error.status_code, detail=detail,
                         extra=[{"key": key, "message": message}
                                for key, message in error.errors.items()])


# Stripe refused the link for good: no link follows (the email and status page say so too).
LINK_REFUSED = ("The payment link could not be made, so this order cannot be paid; nothing "
                "was charged. Its status page says why: {url}")


def deferred_message(order: TempOrder) -> str:
    """What a 202 tells the client about the link still being made ("" once it is made)."""
    if order.payment_url:
        return ""
    if order.status == OrderStatus.LINK_FAILED:
        return LINK_REFUSED.format(url=status_url(order.id))
    if not order.link_email:
        return LINK_DEFERRED_NOT_EMAILED.format(url=status_url(order.id))
    return LINK_DEFERRED


def status_url(order_id: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/orders/{order_id}"


def totals_out(totals: pricing.Totals, currency: str) -> TotalsOut:
    def money(amount: int) -> Money:
        return Money(amount=amount, currency=currency)

    return TotalsOut(
        prices_include_tax=not totals.added, net=money(totals.net), tax=money(totals.tax),
        gross=money(totals.gross),
        taxes=[TaxRateOut(rate=rate.label, net=money(rate.net), tax=money(rate.tax),
                          gross=money(rate.gross)) for rate in totals.rates],
        tip=money(totals.tip), total=money(totals.total))


def order_out(view: OrderView) -> OrderOut:
    return OrderOut(
        id=view.id, status=OrderStatus(view.status), restaurant=view.restaurant_slug,
        total=Money(amount=view.total_amount, currency=view.currency),
        items=[OrderLineOut(menu_item_id=line.menu_item_id, name=line.name,
                            quantity=line.quantity,
                            unit_price=Money(amount=line.unit_amount, currency=view.currency),
                            notes=line.notes, allergy=line.allergy,
                            tax_rate=pricing.format_rate(line.tax_split.rate),
                            net=Money(amount=line.tax_split.net, currency=view.currency),
                            tax=Money(amount=line.tax_split.tax, currency=view.currency),
                            gross=Money(amount=line.tax_split.gross, currency=view.currency),
                            modifiers=[ModifierOut(
                                group=modifier.group, name=modifier.name,
                                price_delta=Money(amount=modifier.delta,
                                                  currency=view.currency),
                                option_id=modifier.option) for modifier in line.modifiers])
               for line in view.lines],
        fulfillment=view.fulfillment,
        payment_url=view.payment_url if view.status == "awaiting_payment" else None,
        expires_at=view.expires_at.isoformat() if view.expires_at and not view.is_paid else None,
        status_url=status_url(view.id), ticket_number=view.ticket_number,
        prep_minutes=view.prep_minutes if view.is_paid else None,
        promised_at=view.promised_at.isoformat() if view.promised_at else None,
        reject_reason=view.reject_reason, allergy=view.allergy,
        totals=totals_out(view.totals, view.currency),
        scheduled_for=view.scheduled_for.isoformat() if view.scheduled_for else None,
        refunded_amount=view.amount_refunded,
    )


class OrdersApiController(Controller):
    path = "/api/orders"
    tags = ["orders"]

    @post("/", request_max_body_size=MAX_ORDER_BODY_BYTES,
          middleware=[order_rate_limit().middleware],
          # a body the schema refuses names intake's mistakes too (an email without an
          # @-sign beside the empty name), not one per try
          before_request=strict_json(OrderIn, more=body_problems),
          responses={202: ResponseSpec(data_container=OrderCreatedOut, generate_examples=False,
                                       description="Accepted; the payment link follows by email "
                                                   "(or, past the address's email cap, on "
                                                   "the status page only)"),
                     **error_responses(400, 404, 409, 413, 415, 422, 429)})
    async def create_order(self, request: Request[Any, Any, Any],
                           data: JSONBody[OrderIn]) -> Response[OrderCreatedOut]:
        """Submit an order: answers with the payment link (Stripe Checkout) at once.

        202 instead of 201 when Stripe could not be reached: the order is kept and the
        payment link follows by email (past the per-address cap on payment-link emails it
        appears on the order's status page only, and `message` says so). With an
        `Idempotency-Key` header, a repeat with the same key and body answers the first
        order and creates nothing (422 if the key was used for a different order)."""
        redis = request.app.state.redis
        key = request.headers.get("idempotency-key")
        try:
            client = get_remote_address(request)
            if key is None:
                order = await submit_order(redis, data, client=client)
            elif not idempotency.valid_key(key):
                raise HTTPException(status_code=400, detail="Idempotency-Key must be 1 to 255 "
                                    "printable ASCII characters")
            else:
                order, _created = await idempotency.submit_once(
                    redis, key, data, lambda: submit_order(redis, data, client=client))
        except IntakeError as error:
            raise intake_http_error(error) from None
        except idempotency.KeyReused as error:
            raise HTTPException(status_code=422, detail=str(error)) from None
        except idempotency.StillRunning as error:
            raise HTTPException(status_code=409, detail=str(error)) from None
        body = OrderCreatedOut(
            id=order.id, status=OrderStatus(order.status), payment_url=order.payment_url,
            expires_at=order.expires_at.isoformat() if order.expires_at else None,
            status_url=status_url(order.id),
            total=Money(amount=order.total_amount, currency=order.currency),
            message=deferred_message(order),
            totals=totals_out(order.totals, order.currency),
            scheduled_for=order.scheduled_for.isoformat() if order.scheduled_for else None)
        code = HTTP_201_CREATED if order.payment_url else HTTP_202_ACCEPTED
        return Response(body, status_code=code)

    @get("/{order_id:str}", responses=error_responses(404))
    async def get_order(self, request: Request[Any, Any, Any], order_id: FromPath[str]) -> OrderOut:
        """The order's status; the `TEMP-` id stays its reference after payment too."""
        view = await load_order_view(request.app.state.redis, order_id)
        if view is None:
            raise NotFoundException(f"no order {order_id!r}")
        return order_out(view)
