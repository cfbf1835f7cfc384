"""Piccolo tables for paid orders, their items and the archive. Only paid orders live here."""

from piccolo.columns import (
    JSONB,
    BigInt,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from app.restaurants.tables import Restaurant


class PaidOrder(Table):
    id = BigSerial(primary_key=True)
    public_id = Varchar(length=64, unique=True)  # the TEMP- id the customer was given
    restaurant = ForeignKey(references=Restaurant)
    ticket_number = Integer()
    stripe_checkout_session_id = Varchar(length=255, unique=True)
    stripe_payment_intent_id = Varchar(length=255, null=True)
    status = Varchar(length=24)
    customer_name = Varchar(length=120)
    customer_email = Varchar(length=254)
    customer_phone = Varchar(length=40, default="")
    fulfillment = Varchar(length=16)
    delivery_address = Varchar(length=300, default="")
    table_label = Varchar(length=40, default="")
    notes = Varchar(length=500, default="")
    currency = Varchar(length=3)
    total_amount = Integer()
    amount_charged = Integer()
    currency_charged = Varchar(length=3)
    capture_mode = Varchar(length=16, default="automatic")
    needs_review = Boolean(default=False)
    review_reason = Varchar(length=500, default="")
    prep_minutes = Integer(null=True)
    reject_reason = Varchar(length=300, default="")
    rebuilt_from_stripe = Boolean(default=False)
    submitted_at = Timestamptz()
    paid_at = Timestamptz()
    kitchen_shown_at = Timestamptz(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    preparing_at = Timestamptz(null=True, default=None)
    ready_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    rejected_at = Timestamptz(null=True, default=None)
    refunded_at = Timestamptz(null=True, default=None)
    promised_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    version = Integer(default=1)
    amount_refunded = Integer(default=0)  # every refund so far, ours or made in Stripe
    amount_returned = Integer(default=0)  # refunds the customer's bank sent back (still owed)
    # Their dishes (an array of lines per refund): still not to be made (the kitchen reads it).
    returned_lines = JSONB(default="[]")
    voided_at = Timestamptz(null=True, default=None)  # the authorisation was released
    dispute_status = Varchar(length=24, default="")  # Stripe's dispute status, if any
    status_before_dispute = Varchar(length=24, default="")
    disputed_at = Timestamptz(null=True, default=None)  # the bank opened a chargeback
    settlement_stopped_at = Timestamptz(null=True, default=None)  # refund can never succeed
    allergy = Varchar(length=300, default="")  # the diner's allergy flag for the whole order
    auto_rejected = Boolean(default=False)  # rejected by the timer, not by a cook
    # Refunded in full (or its hold released) while on the kitchen's board: like an
    # auto-reject, its screens show a notice until someone acknowledges it.
    refund_notice = Boolean(default=False)
    notice_acknowledged_at = Timestamptz(null=True, default=None)  # the kitchen saw that
    # A screen acknowledged the new order's alarm: it stops ringing on every screen.
    alarm_acknowledged_at = Timestamptz(null=True, default=None)
    # VAT and tip (app/orders/pricing.py), frozen at submission: total_amount is the goods'
    # net_amount + tax_amount, plus tip_amount (which carries no VAT).
    tax_mode = Varchar(length=8, default="included")
    tip_amount = Integer(default=0)
    net_amount = Integer(default=0)
    tax_amount = Integer(default=0)
    # The seller's legal details when the order was paid, as its receipt names them.
    seller_legal_name = Varchar(length=200, default="")
    seller_address = Varchar(length=300, default="")
    seller_tax_id = Varchar(length=40, default="")
    # …and its name then: every email about the order names it so ('' before 2026-12-06)
    seller_trading_name = Varchar(length=200, default="")
    language = Varchar(length=8, default="en")  # the diner's, at checkout: every email's
    # A scheduled order (None: as soon as possible): the slot the diner chose, and when it
    # reached the kitchen board (`scheduled_for` - prep, app/orders/release.py).
    scheduled_for = Timestamptz(null=True, default=None)
    released_at = Timestamptz(null=True, default=None)


class OrderItem(Table):
    id = BigSerial(primary_key=True)
    paid_order = ForeignKey(references=PaidOrder)
    menu_item = Integer(null=True)  # menu rows may change later; name and price are copied
    name = Varchar(length=120)
    unit_amount = Integer()
    quantity = Integer()
    notes = Varchar(length=200, default="")
    allergy = Varchar(length=200, default="")  # the diner's allergy flag for this line
    tax_rate = Integer(default=0)  # hundredths of a percent, frozen at submission
    net_amount = Integer(default=0)  # the line's net, tax and gross (net + tax = gross)
    tax_amount = Integer(default=0)
    gross_amount = Integer(default=0)
    # The chosen options as they were at submission: [{"group", "name", "delta", "option"}]
    # (unit_amount already includes the deltas). Menu changes later change no order.
    modifiers = JSONB(default="[]")


class OrderRefund(Table):
    """One Stripe refund of a paid order (whoever made it): full, partial or from Stripe."""

    id = BigSerial(primary_key=True)
    paid_order = ForeignKey(references=PaidOrder)
    stripe_refund_id = Varchar(length=255, unique=True)
    amount = Integer()
    source = Varchar(length=16)  # kitchen | admin | stripe
    reason = Varchar(length=300, default="")
    lines = JSONB(default="[]")  # [{"name", "quantity", "amount"}] for a refund of items
    created_by = Varchar(length=254, default="")
    created_at = Timestamptz()
    # A refund of items of a ticket the kitchen had in hand (accepted or cooking): its
    # screens show a notice naming them until a cook acknowledges it (app/kitchen).
    kitchen_notice = Boolean(default=False)
    notice_acknowledged_at = Timestamptz(null=True, default=None)


class ArchivedOrder(Table):
    id = BigInt(primary_key=True)
    public_id = Varchar(length=64, unique=True)
    restaurant = ForeignKey(references=Restaurant)
    status = Varchar(length=24)
    currency = Varchar(length=3)
    total_amount = Integer()
    paid_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    customer_email = Varchar(length=254)
    document = JSONB()  # the whole order with its items, as it was when archived
    archived_at = Timestamptz()
