"""Read-only Stripe calls reconciliation needs beyond the gateway's (charges, events by
type, paginated session listing), made through the gateway's `_call`: same timeout, bounded
retries and a log line per call carrying the order id.

Listings come one page at a time (`*_pages`): a caller that finishes with a page before
asking for the next holds one page of SDK objects, however long the window is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import stripe

from app.infra.logging import get_logger
from app.payments.stripe_gateway import StripeGateway

log = get_logger("orderpass.stripe.reads")

PAGE_SIZE = 100  # Stripe's maximum `limit`
# A million objects. Pages are streamed, so this is no memory bound: it only stops a listing
# that never ends, and says so (a silent cap left older sessions unchecked on a busy day).
MAX_PAGES = 10_000
T = TypeVar("T", bound=stripe.StripeObject)


async def _pages(fetch: Callable[[str | None], Awaitable[stripe.ListObject[T]]],
                 max_pages: int = MAX_PAGES) -> AsyncIterator[list[T]]:
    """Follow Stripe's cursor (`starting_after` = the last id of the previous page)."""
    starting_after: str | None = None
    for _ in range(max_pages):
        page = await fetch(starting_after)
        data, has_more = list(page.data), page.has_more
        del page  # the list object keeps the raw response body
        if not data:
            return
        last = str(data[-1]["id"])
        if last == starting_after:
            log.error("stripe listing stopped: its cursor did not advance", cursor=last)
            return
        starting_after = last
        yield data
        del data  # not alive while the next page is fetched
        if not has_more:
            return
    log.error("stripe listing stopped at the page limit; older objects were not read",
              pages=max_pages, cursor=starting_after)


def checkout_session_pages(gateway: StripeGateway, created_gte: int, *,
                           limit: int = PAGE_SIZE
                           ) -> AsyncIterator[list[stripe.checkout.Session]]:
    """Checkout Sessions created at or after `created_gte` (`created[gte]`), newest first
    as Stripe lists them."""
    return _pages(lambda starting_after: gateway.list_checkout_sessions(
        created_gte=created_gte, starting_after=starting_after, limit=limit))


async def iter_undelivered_events(gateway: StripeGateway, created_gte: int
                                  ) -> AsyncIterator[stripe.Event]:
    """Events Stripe has not managed to deliver to any endpoint (`delivery_success=false`)."""
    async for page in _pages(lambda starting_after: gateway.list_undelivered_events(
            created_gte=created_gte, starting_after=starting_after)):
        for event in page:
            yield event
        del page


def event_pages_of_type(gateway: StripeGateway, event_type: str, created_gte: int, *,
                        limit: int = PAGE_SIZE) -> AsyncIterator[list[stripe.Event]]:
    """Events of one type (e.g. `charge.refunded`) created at or after `created_gte`."""
    def fetch(starting_after: str | None) -> Awaitable[stripe.ListObject[stripe.Event]]:
        params: dict[str, Any] = {"limit": limit, "type": event_type,
                                  "created": {"gte": created_gte}}
        if starting_after:
            params["starting_after"] = starting_after
        return gateway._call("events.list", "",
                             lambda: gateway.client.v1.events.list_async(
                                 params=params))  # type: ignore[arg-type]
    return _pages(fetch)


async def retrieve_charge(gateway: StripeGateway, charge_id: str, *,
                          order_ref: str = "") -> stripe.Charge:
    return await gateway._call(
        "charges.retrieve", order_ref,
        lambda: gateway.client.v1.charges.retrieve_async(charge_id))

