"""Email composition: subject, inlined-CSS HTML and plain text for one (kind, order).

Rendering is deterministic for a given order (no "now"), because a retried send must carry
the same payload as the first try: Resend rejects a reused Idempotency-Key with a new body.
Every email of an order is written in the order's language (the diner's at checkout),
whichever process sends it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import css_inline
import msgspec

from app.infra import i18n
from app.infra.i18n import N_
from app.orders.models import OrderView, RefundLine, Seller, refunded_in_full
from app.templating import (
    email_environment,
    format_deadline,
    format_money,
    local_clock,
    local_time_named,
    precompile,
    scheduled_text,
    weekday_date,
    zone,
)

SUBJECTS = {
    "order_confirmation": N_("Pay to confirm your order at %(restaurant)s"),
    "link_expired": N_("Your payment link for %(restaurant)s has expired"),
    "payment_failed": N_("Your payment for %(restaurant)s did not go through"),
    "payment_received": N_("Payment received: your order at %(restaurant)s is with the "
                           "kitchen"),
    # A manual-capture order's first email: the card is held, charged when accepted.
    "payment_authorised": N_("Card authorised: your order at %(restaurant)s is waiting for "
                             "the kitchen"),
    "order_accepted": N_("Accepted: your order at %(restaurant)s is being prepared"),
    "order_ready": N_("Your order at %(restaurant)s is ready"),
    "order_rejected": N_("Sorry, %(restaurant)s could not take your order"),
    "link_failed": N_("We could not set up payment for your order at %(restaurant)s"),
    "order_refunded": N_("%(restaurant)s has refunded your payment"),
    # A refund the diner's bank sent back (app/payments/refund_failures.py).
    "refund_returned": N_("Your refund from %(restaurant)s did not reach your card"),
}
# Once paid an order has the number the kitchen and the status page call it by: a diner who
# ordered twice tells the emails apart (and a mail client threads each order on its own).
NUMBERED_SUBJECTS = {
    "payment_received": N_("Payment received: order #%(number)s at %(restaurant)s is with the "
                           "kitchen"),
    "payment_authorised": N_("Card authorised: order #%(number)s at %(restaurant)s is "
                             "waiting for the kitchen"),
    "order_accepted": N_("Accepted: order #%(number)s at %(restaurant)s is being prepared"),
    "order_ready": N_("Your order #%(number)s at %(restaurant)s is ready"),
    "order_rejected": N_("Sorry, %(restaurant)s could not take your order #%(number)s"),
    "order_refunded": N_("%(restaurant)s has refunded your payment for order #%(number)s"),
    "refund_returned": N_("Your refund for order #%(number)s at %(restaurant)s did not reach "
                          "your card"),
}

# A refund of part of the payment says how much: "has refunded your payment" read as the
# whole of it (outside try: €3.00 of €27.50). Numbered once paid, as NUMBERED_SUBJECTS.
PARTIAL_REFUND_SUBJECTS = {
    False: N_("%(restaurant)s has refunded %(amount)s of your payment"),
    True: N_("%(restaurant)s has refunded %(amount)s of your payment for order #%(number)s"),
}

# A manual-capture order's receipt comes when the kitchen accepts and the hold is charged,
# beside the "Accepted" email: it says the card was charged, not "payment received: with the
# kitchen" (which read as a step back after "Accepted").
CAPTURED_SUBJECTS = {
    False: N_("Charged: your receipt for your order at %(restaurant)s"),
    True: N_("Charged: your receipt for order #%(number)s at %(restaurant)s"),
}

# A paid order for a later slot is booked, not with the kitchen yet (it reaches the kitchen
# at its slot minus prep): its payment email says so, with the slot (`booked_for`).
BOOKED_SUBJECTS = {
    "payment_received": N_("Payment received: your order at %(restaurant)s is booked for "
                           "%(when)s"),
    # a hold: the kitchen accepts (and charges) once the slot comes near, not "now"
    "payment_authorised": N_("Card authorised: your order at %(restaurant)s is booked for "
                             "%(when)s"),
}
NUMBERED_BOOKED_SUBJECTS = {
    "payment_received": N_("Payment received: order #%(number)s at %(restaurant)s is booked "
                           "for %(when)s"),
    "payment_authorised": N_("Card authorised: order #%(number)s at %(restaurant)s is booked "
                             "for %(when)s"),
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
def _inliner() -> css_inline.CSSInliner:
    # keep_at_rules leaves the @media block in <style> (it cannot be inlined); never fetch
    # remote stylesheets while rendering.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def _one_line(value: str) -> str:
    """Subjects are headers: no line breaks from a restaurant name may reach them."""
    return " ".join(value.split())


def money_back(order: OrderView) -> str:
    """What happened to a rejected order's money: never "refunded" for a released hold."""
    _ = i18n.gettext
    if order.status == "voided":
        return _("Your card was not charged: the hold on it has been released (your bank may "
                 "take a few days to remove it from your statement).")
    if order.status == "refunded" or order.amount_refunded >= order.total_amount > 0:
        return _("Your payment has been refunded in full; it may take a few days to show on "
                 "your statement.")
    return _("We could not return your payment automatically; the restaurant has been "
             "alerted and will make sure you get your money back.")


@dataclass(frozen=True)
class ToldRefund:
    """What one `order_refunded` email tells: its refund, and the order as it stood right
    after it (its refunds up to that one), whatever was refunded later."""

    order: OrderView  # `refunds` and `amount_refunded` as they were right after the refund
    refund: RefundLine | None  # None: an order without a recorded refund
    earlier: int  # what refunds before this one gave back

    @property
    def amount(self) -> int:
        return self.refund.amount if self.refund is not None else self.order.amount_refunded


def told_refund(order: OrderView, refund_id: str = "") -> ToldRefund:
    """The refund `refund_id` (a Stripe refund id) of `order`, with the order as it stood
    right after it; without one (or one not recorded), the last refund recorded."""
    position = next((index for index, refund in enumerate(order.refunds)
                     if refund_id and refund.refund_id == refund_id), len(order.refunds) - 1)
    if position < 0:
        return ToldRefund(order, None, 0)
    refunds = order.refunds[:position + 1]
    # the lines as refunded then (an order read back from the archive keeps no units)
    per_line = ([min(line.quantity, sum(refund.units[index] for refund in refunds
                                        if index < len(refund.units)))
                 for index, line in enumerate(order.lines)]
                if any(refund.units for refund in order.refunds) else order.refunded_per_line)
    refunded = sum(refund.amount for refund in refunds)
    if refunded_in_full(refunded, order.total_amount):  # the last named no lines: all are back
        per_line = [line.quantity for line in order.lines]
    then = msgspec.structs.replace(order, refunds=refunds, refunded_per_line=per_line,
                                   amount_refunded=refunded)
    return ToldRefund(then, refunds[-1], then.amount_refunded - refunds[-1].amount)


def status_url(public_base_url: str, order_ref: str) -> str:
    return f"{public_base_url.rstrip('/')}/orders/{order_ref}"


def seller_of(order: OrderView, restaurant: RestaurantContact) -> Seller:
    """The receipt's seller: the legal details frozen on the paid order (the restaurant's
    name and address for an order paid before they were kept)."""
    frozen = order.seller or Seller()
    return Seller(legal_name=frozen.legal_name or restaurant.name,
                  address=frozen.address or restaurant.address, tax_id=frozen.tax_id)


def named_as_paid(order: OrderView, restaurant: RestaurantContact) -> RestaurantContact:
    """The restaurant as an email about `order` names it: as it was named when the diner
    paid (kept with the order, as the receipt's seller), with today's phone, email and
    address (how to reach it now). A rename between the payment and the "ready" email named
    a place the diner never ordered from, and made a retried send another body."""
    then = order.seller.trading_name if order.seller else ""
    return replace(restaurant, name=then) if then and then != restaurant.name else restaurant


def render_email(kind: str, order: OrderView, restaurant: RestaurantContact,
                 public_base_url: str, *, refund_id: str = "") -> RenderedEmail:
    """`refund_id`: the refund an `order_refunded` email tells (`told_refund`)."""
    if kind not in SUBJECTS:
        raise ValueError(f"unknown email kind: {kind!r}")
    with i18n.use(order.language):
        return _render(kind, order, named_as_paid(order, restaurant), public_base_url,
                       refund_id)


def booked_for(order: OrderView, timezone: str) -> str:
    """A booked order's slot on the restaurant's clock: "Sat 5 Dec 12:00 (CET)" ("" for an
    order as soon as possible). Its day by date, never "tomorrow": a subject outlives the day
    it was sent, and read the next morning "tomorrow" named the wrong day."""
    if order.scheduled_for is None:
        return ""
    local = order.scheduled_for.astimezone(zone(timezone))
    return (f"{weekday_date(local.date())} {local_clock(order.scheduled_for, timezone)} "
            f"({local.tzname()})")


# A link a closure closed (app/manage/hours.py `expire_links_in_closure`) did not expire.
SOLD_OUT_SUBJECT = N_("%(dish)s sold out at %(restaurant)s before you paid: nothing was charged")
CLOSED_LINK_SUBJECT = N_("%(restaurant)s closed before you paid: nothing was charged")
CLOSED_SLOT_SUBJECT = N_("%(restaurant)s is closed at the time you chose: nothing was charged")


def charged_on_accept(order: OrderView) -> bool:
    """A card held at payment and charged when the kitchen accepted (manual capture)."""
    return order.capture_mode == "manual" and order.accepted_at is not None


def _subject(kind: str, order: OrderView, restaurant: RestaurantContact) -> str:
    if kind == "link_expired" and order.sold_out:
        return i18n.gettext(SOLD_OUT_SUBJECT) % {"dish": order.sold_out,
                                                  "restaurant": restaurant.name}
    if kind == "link_expired" and order.closure_note is not None:
        subject = CLOSED_SLOT_SUBJECT if order.scheduled_for else CLOSED_LINK_SUBJECT
        return i18n.gettext(subject) % {"restaurant": restaurant.name}
    if kind == "payment_received" and charged_on_accept(order):
        return i18n.gettext(CAPTURED_SUBJECTS[order.ticket_number is not None]) % {
            "number": order.ticket_number, "restaurant": restaurant.name}
    when = booked_for(order, restaurant.timezone) if kind in BOOKED_SUBJECTS else ""
    if when:
        subjects = (NUMBERED_BOOKED_SUBJECTS if order.ticket_number is not None
                    else BOOKED_SUBJECTS)
        return i18n.gettext(subjects[kind]) % {
            "number": order.ticket_number, "restaurant": restaurant.name, "when": when}
    if order.ticket_number is not None and kind in NUMBERED_SUBJECTS:
        return i18n.gettext(NUMBERED_SUBJECTS[kind]) % {
            "number": order.ticket_number, "restaurant": restaurant.name}
    return i18n.gettext(SUBJECTS[kind]) % {"restaurant": restaurant.name}


def _render(kind: str, order: OrderView, restaurant: RestaurantContact,
            public_base_url: str, refund_id: str = "") -> RenderedEmail:
    # A refund email tells its own refund, and the order as it stood right after it: sent
    # after a later refund, it still says only what it is about.
    told = told_refund(order, refund_id) if kind == "order_refunded" else None
    if told is not None and told.order.amount_refunded < told.order.total_amount:
        subject = _one_line(i18n.gettext(PARTIAL_REFUND_SUBJECTS[
            order.ticket_number is not None]) % {
            "restaurant": restaurant.name, "number": order.ticket_number,
            "amount": format_money(told.amount, order.currency)})
    else:
        subject = _one_line(_subject(kind, order, restaurant))
    if told is not None:
        order = told.order
    context = {
        "subject": subject,
        "order": order,
        "restaurant": restaurant,
        "status_url": status_url(public_base_url, order.id),
        "payment_url": order.payment_url or "",
        "deadline": format_deadline(order.expires_at, restaurant.timezone),
        # Every time a diner reads is on the restaurant's clock (its time zone named).
        "promised": local_time_named(order.promised_at, restaurant.timezone),
        "prep_minutes": order.prep_minutes,
        # beside the promised time: not for a booked order promised for its slot
        "ready_in": order.ready_in(),
        # A scheduled order's slot: "Pickup at 19:30 on Wed 2 Dec (CET)" ("" when ASAP).
        "scheduled": scheduled_text(order.scheduled_for, order.fulfillment,
                                    restaurant.timezone),
        # …and the slot it is booked for: "Sat 5 Dec 12:00 (CET)" ("" when ASAP).
        "booked_for": booked_for(order, restaurant.timezone),
        "money_back": money_back(order),
        # Summed once: the HTML and the text both show them, a receipt three times each.
        "order_totals": order.totals,
        "fully_refunded": order.amount_refunded >= order.total_amount,
        # The refund an `order_refunded` email tells: its amount and lines (after an earlier
        # refund it says "a further" amount, or "the remaining" one when nothing is left).
        "told": told,
        "rest_refunded": told.amount if told is not None and told.earlier else 0,
        "refund_line": i18n.gettext("%(amount)s of your payment has been refunded.") % {
            "amount": format_money(order.amount_refunded, order.currency)},
        # The receipt (payment_received): when it was paid, on the restaurant's clock, and
        # who sold it. Both come from the stored order, so a retry renders the same bytes.
        # A hold (manual capture) is paid when captured, on accept; else when paid.
        "paid_on": format_deadline(
            order.accepted_at if charged_on_accept(order) else order.paid_at,
            restaurant.timezone),
        "seller": seller_of(order, restaurant),
        "charged_on_accept": charged_on_accept(order),
    }
    env = email_environment()
    html = env.get_template(f"emails/{kind}.html").render(context)
    text = env.get_template(f"emails/{kind}.txt").render(context)
    return RenderedEmail(subject=subject, html=_inliner().inline(html), text=text.strip() + "\n")


def warm_up() -> int:
    """Compile every email template (and the components they include) now, once per process:
    a worker's first batch otherwise compiled a dozen templates between its claim and its
    send slot. Returns how many templates were loaded."""
    env = email_environment()
    loaded = precompile(*env.list_templates(filter_func=lambda name: name.startswith("emails/")),
                        env=env)
    _inliner()
    return loaded


def render_pair(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """`emails/<template>.html` (CSS inlined) and `emails/<template>.txt` rendered with
    `context`, for emails about something other than an order (app/accounts/emails.py)."""
    env = email_environment()
    html = env.get_template(f"emails/{template}.html").render(context)
    text = env.get_template(f"emails/{template}.txt").render(context)
    return _inliner().inline(html), text.strip() + "\n"
