"""A dish (or an option) the kitchen 86'd closes the open payment links of the orders that
hold it: paid, the kitchen could not make it, and the diner's money would go back only days
later (an outside try paid for a Tiramisu sold out while its link was open). Queued when
the kitchen 86's it (`app.kitchen.floor`), run by the worker. The diner's page and email
say which dish sold out and that nothing was charged; a payment that completed first wins
(`expire_link_now`): the kitchen decides about that order as about any paid one."""

from __future__ import annotations

from arq.connections import ArqRedis

from app.infra.logging import get_logger
from app.orders.models import TempOrder
from app.orders.payment_links import expire_link_now, note_why_closing, open_links_of
from app.payments.stripe_gateway import PaymentProviderError

log = get_logger("orderpass.orders.sold_out")
JOB = "expire_links_with_sold_out"


def holds(order: TempOrder, item_id: int | None, option_id: int | None) -> bool:
    """The order has the dish `item_id`, or a line with the option `option_id`."""
    return any((item_id is not None and line.menu_item_id == item_id)
               or (option_id is not None
                   and any(choice.option == option_id for choice in line.modifiers))
               for line in order.lines)


async def expire_links_with(redis: ArqRedis, restaurant_id: int, dish: str, *,
                            item_id: int | None = None, option_id: int | None = None
                            ) -> list[str]:
    """Close, at Stripe and here, the open links of the restaurant's orders holding the dish
    or option now sold out (`dish`: its name, as the diner is told). Returns those orders."""
    closed: list[str] = []
    async for order in open_links_of(redis, restaurant_id):
        session = order.checkout_session_id
        if session is None or not holds(order, item_id, option_id):
            continue
        await note_why_closing(redis, order.id, session, sold_out=dish)
        try:
            outcome = await expire_link_now(redis, order.id, session)
        except PaymentProviderError as error:  # it stays open: paid, the kitchen decides
            await note_why_closing(redis, order.id, session)
            log.warning("link of an order with a sold-out dish not expired", order_id=order.id,
                        dish=dish, error=str(error)[:200])
            continue
        if outcome == "expired":
            closed.append(order.id)
        else:
            await note_why_closing(redis, order.id, session)
    if closed:
        log.info("open links with a sold-out dish expired", dish=dish, orders=closed)
    return closed
