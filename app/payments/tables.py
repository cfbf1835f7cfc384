"""Piccolo tables for processed Stripe events and discrepancies."""

from piccolo.columns import JSONB, BigSerial, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from app.restaurants.tables import Restaurant


class StripeEvent(Table):
    """One row per Stripe event id we acted on: a second delivery is a no-op."""

    id = BigSerial(primary_key=True)
    event_id = Varchar(length=255, unique=True)
    type = Varchar(length=120)
    checkout_session_id = Varchar(length=255, null=True)
    received_at = Timestamptz()
    processed_at = Timestamptz(null=True, default=None)
    result = Varchar(length=40, default="processed")


class Discrepancy(Table):
    """Something Stripe and our records disagree on, queued for a human."""

    id = BigSerial(primary_key=True)
    kind = Varchar(length=40)
    dedupe_key = Varchar(length=255, unique=True)
    stripe_checkout_session_id = Varchar(length=255, default="")
    order_ref = Varchar(length=64, default="")
    restaurant = ForeignKey(references=Restaurant, null=True)
    details = JSONB(default="{}")
    status = Varchar(length=16, default="open")
    resolved_by = Varchar(length=254, default="")
    resolution_note = Varchar(length=1000, default="")
    created_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None)
