"""Piccolo table for emails: one row per (kind, order), the unit of exactly-once sending."""

from piccolo.columns import BigSerial, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from app.restaurants.tables import Restaurant


class EmailMessage(Table):
    id = BigSerial(primary_key=True)
    idempotency_key = Varchar(length=255, unique=True)  # "<kind>/<order ref>", sent to Resend
    kind = Varchar(length=40)
    recipient = Varchar(length=254)
    order_ref = Varchar(length=64)
    restaurant = ForeignKey(references=Restaurant, null=True)
    transport = Varchar(length=16, default="resend")
    provider_id = Varchar(length=255, null=True, default=None)
    status = Varchar(length=16, default="queued")
    attempts = Integer(default=0)
    last_error = Varchar(length=1000, default="")
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    # The Stripe refund an `order_refunded` email tells ('' for any other email): it is
    # written from that refund and those recorded before it, whenever it is sent.
    refund_id = Varchar(length=255, default="")
