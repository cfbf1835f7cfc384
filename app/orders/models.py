"""The order as the domain sees it, wherever it is stored (Redis before payment, Postgres after).

`TempOrder` is what intake writes to Redis. `OrderView` is the read model that pages, the
JSON API and emails use for both temporary and paid orders.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from app.orders import pricing


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_EXPIRED = "payment_expired"
    PAYMENT_FAILED = "payment_failed"
    LINK_FAILED = "link_failed"  # Stripe refused to create a payment link (nothing charged)
    PAID = "paid"
    ACCEPTED = "accepted"
    PREPARING = "preparing"
    READY = "ready"
    COMPLETED = "completed"
    REJECTED = "rejected"
    REFUNDED = "refunded"
    VOIDED = "voided"  # rejected before capture: the hold on the card was released
    DISPUTED = "disputed"  # the cardholder's bank disputes the payment
    CHARGED_BACK = "charged_back"  # the dispute was lost: the bank took the money back


class Fulfillment(StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"
    DINE_IN = "dine_in"


class LineModifier(msgspec.Struct, frozen=True):
    """A chosen option, frozen at submission: deleting or repricing it later changes nothing."""

    group: str  # "Size"
    name: str  # "L"
    delta: int = 0  # minor units, already part of the line's unit_amount
    option: int | None = None  # the modifier_option id it was (None once rebuilt without)
    # allergen codes the option added to the dish (app.restaurants.allergens), as then
    allergens: tuple[str, ...] = ()


class OrderLine(msgspec.Struct, frozen=True):
    menu_item_id: int | None
    name: str
    unit_amount: int  # minor units, copied from the menu when the order was submitted
    quantity: int
    notes: str = ""
    allergy: str = ""  # set only when the diner flagged an allergy for this line
    # VAT, frozen at submission (app/orders/pricing.py): the rate in hundredths of a percent
    # and the line's net, tax and gross in minor units. A line from before VAT existed has
    # all four at 0 and counts as untaxed (`tax_split`).
    tax_rate: int = 0
    net_amount: int = 0
    tax_amount: int = 0
    gross_amount: int = 0
    # The options chosen (unit_amount = the item's price + their deltas).
    modifiers: list[LineModifier] = msgspec.field(default_factory=list)

    @property
    def line_total(self) -> int:
        """The line as priced on the menu (gross when prices include tax, net when added)."""
        return self.unit_amount * self.quantity

    @property
    def tax_split(self) -> pricing.LineTax:
        if self.net_amount or self.tax_amount or self.gross_amount:
            return pricing.LineTax(self.tax_rate, self.net_amount, self.tax_amount,
                                   self.gross_amount)
        return pricing.LineTax(0, self.line_total, 0, self.line_total)


def with_tax(lines: list[OrderLine], mode: str) -> list[OrderLine]:
    """The lines with their net, tax and gross (app/orders/pricing.py: VAT per rate on each
    line's final price, unit price x quantity, whatever the unit price includes)."""
    taxed = pricing.price_lines([line.line_total for line in lines],
                                [line.tax_rate for line in lines], mode)
    return [msgspec.structs.replace(line, net_amount=tax.net, tax_amount=tax.tax,
                                    gross_amount=tax.gross)
            for line, tax in zip(lines, taxed, strict=True)]


class Customer(msgspec.Struct, frozen=True):
    name: str
    email: str
    phone: str = ""


class TempOrder(msgspec.Struct):
    """An order awaiting payment. Lives in Redis with a TTL; never the record of a paid order."""

    id: str  # "TEMP-…", the customer's reference for the order's whole life
    restaurant_id: int
    restaurant_slug: str
    restaurant_name: str
    currency: str
    capture_mode: str
    prep_minutes: int
    lines: list[OrderLine]
    total_amount: int
    customer: Customer
    fulfillment: str
    created_at: datetime
    delivery_address: str = ""
    table_label: str = ""
    notes: str = ""
    status: str = OrderStatus.AWAITING_PAYMENT
    checkout_session_id: str | None = None
    payment_url: str | None = None
    expires_at: datetime | None = None  # when the current payment link stops working
    link_attempts: int = 0  # payment links created
    link_error: str = ""
    updated_at: datetime | None = None
    # The Checkout Session request in progress: its idempotency key, the `expires_at` sent with
    # it (a retry must send the same parameters) and when it began (to find what it created).
    link_key: str = ""
    link_expires_at: int = 0
    link_started_at: int = 0
    link_keys_used: int = 0
    review_note: str = ""  # a rebuild from Stripe that is missing something says what
    allergy: str = ""  # an allergy flagged for the whole order
    tax_mode: str = "included"  # the restaurant's, frozen at submission
    tip_amount: int = 0  # minor units, no VAT; part of total_amount
    language: str = "en"  # the diner's at checkout (app/infra/i18n.py): every email's
    scheduled_for: datetime | None = None  # the chosen slot (UTC); None: as soon as possible
    # As soon as possible: when the restaurant's opening it was ordered in ends (None: not
    # within a day). Its link closes then: paid after closing, nobody would make it.
    open_until: datetime | None = None
    # Set when the restaurant's closure closed the link before it was paid: the closure's
    # reason ("" when it gave none). Its page and email say so instead of "not paid in time".
    closure_note: str | None = None
    # Set when the kitchen 86'd a dish (or option) of it before it was paid: its name. Its
    # link was closed then; its page and email say so.
    sold_out: str | None = None
    # Last: a stored order ends with it (app/orders/temp_store.py `LINK_EMAIL_TAIL`).
    # False: its address had UNPAID_ORDERS_PER_EMAIL emailed open orders already, so its
    # payment link is answered to the submitter only, never emailed (app/orders/unpaid_caps.py).
    link_email: bool = True

    @property
    def totals(self) -> pricing.Totals:
        return pricing.totals_of((line.tax_split for line in self.lines), self.tax_mode,
                                 self.tip_amount)

    @property
    def link_ends_at_closing(self) -> bool:
        """An order for as soon as possible whose link stops when the restaurant closes,
        before its own expiry (`payment_links._linked`): closed then, it was the closing."""
        return (self.scheduled_for is None and self.open_until is not None
                and self.expires_at is not None and self.open_until <= self.expires_at)

    @property
    def pay_by(self) -> datetime | None:
        """When the order must be paid: a scheduled one before the kitchen would start it
        (slot - prep), one for as soon as possible before the restaurant closes."""
        if self.scheduled_for is None:
            return self.open_until
        return self.scheduled_for - timedelta(minutes=self.prep_minutes)


class Seller(msgspec.Struct, frozen=True):
    """Who sold the order, as a receipt names them."""

    legal_name: str = ""
    address: str = ""
    tax_id: str = ""  # VAT ID or tax number
    trading_name: str = ""  # the restaurant's name when paid ("": paid before it was kept)


def refunded_in_full(amount_refunded: int, total_amount: int) -> bool:
    """The whole payment is back with the diner: every line reads "Refunded"."""
    return total_amount > 0 and amount_refunded >= total_amount


class RefundLine(msgspec.Struct, frozen=True):
    amount: int
    description: str = ""  # the refunded items, or the reason
    refund_id: str = ""  # the Stripe refund ("" where not kept)
    # units it gave back of each order line, in the lines' order (a refund email marks the
    # lines as they stood right after it: app/notifications/compose.py `told_refund`)
    units: list[int] = msgspec.field(default_factory=list)


class OrderView(msgspec.Struct):
    """Everything a customer-facing page or email needs about one order."""

    id: str
    status: str
    restaurant_id: int
    restaurant_slug: str
    restaurant_name: str
    currency: str
    lines: list[OrderLine]
    total_amount: int
    customer: Customer
    fulfillment: str
    submitted_at: datetime
    delivery_address: str = ""
    table_label: str = ""
    notes: str = ""
    payment_url: str | None = None
    expires_at: datetime | None = None
    prep_minutes: int | None = None
    ticket_number: int | None = None
    paid_at: datetime | None = None
    accepted_at: datetime | None = None
    ready_at: datetime | None = None
    completed_at: datetime | None = None
    rejected_at: datetime | None = None
    refunded_at: datetime | None = None
    promised_at: datetime | None = None
    reject_reason: str = ""
    is_paid: bool = False
    amount_refunded: int = 0
    amount_returned: int = 0  # refunds the customer's bank returned: the restaurant owes it
    voided_at: datetime | None = None
    dispute_status: str = ""
    link_error: str = ""
    refunds: list[RefundLine] = msgspec.field(default_factory=list)
    # Units the restaurant refunded of each line, in `lines`' order (empty before payment):
    # the status page marks those lines refunded.
    refunded_per_line: list[int] = msgspec.field(default_factory=list)
    allergy: str = ""
    archived: bool = False  # read back from the archive (closed long ago)
    tax_mode: str = "included"
    tip_amount: int = 0
    # The seller's legal details as they were when the order was paid (the receipt's).
    seller: Seller | None = None
    language: str = "en"  # the order's emails are written in it
    scheduled_for: datetime | None = None  # the slot chosen; None: as soon as possible
    timezone: str = "UTC"  # the restaurant's, for "Pickup at 19:30"
    released_at: datetime | None = None  # a scheduled order reached the kitchen's board
    capture_mode: str = "automatic"  # manual: a hold when paid, captured on accept
    link_emailed: bool = True  # False: past its address's cap, the link was not emailed
    closure_note: str | None = None  # a closure closed its link (TempOrder.closure_note)
    sold_out: str | None = None  # a dish sold out closed its link (TempOrder.sold_out)
    checkout_session_id: str | None = None  # unpaid: its current link's Checkout Session
    # when the order last changed: with `status`, the version the status page was rendered
    # at (`live_version`), which the live stream's first message is compared with
    updated_at: datetime | None = None

    @property
    def live_version(self) -> str:
        """"paid 2026-12-05T12:00:00+00:00": as the status stream's JSON gives `status` and
        `updated_at` (app/orders/status_feed.py; order-status.js compares them)."""
        return f"{self.status} {self.updated_at.isoformat() if self.updated_at else ''}"

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def booked_ahead(self) -> bool:
        """A paid order for later that the kitchen does not see yet: nobody is to accept it
        now. The release decides (app/orders/release.py stamps `released_at` at its slot
        minus prep and tells the board and this order's status stream), not the clock: the
        page says "waiting for the kitchen" exactly when the kitchen has it, and switches
        when the release's frame arrives (`booked` in app/orders/status_feed.py)."""
        return (self.status == "paid" and self.scheduled_for is not None
                and self.released_at is None)

    def ready_in(self) -> int | None:
        """The prep minutes to say beside the promised time ("in about 25 minutes"): none for
        a booked order promised for its slot, where they read oddly after the slot's time."""
        if (self.scheduled_for is not None and self.promised_at is not None
                and self.promised_at <= self.scheduled_for):
            return None
        return self.prep_minutes

    @property
    def totals(self) -> pricing.Totals:
        """Net, VAT per rate, gross, tip and total, summed from the frozen lines."""
        return pricing.totals_of((line.tax_split for line in self.lines), self.tax_mode,
                                 self.tip_amount)
