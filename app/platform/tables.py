"""Piccolo tables for the transactional outbox, the daily funnel counters and the webhook
inbox (every webhook received, from any provider)."""

from piccolo.columns import (
    JSONB,
    BigSerial,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from app.restaurants.tables import Restaurant


class Outbox(Table):
    """Work promised inside an order transaction, delivered after commit (and re-delivered)."""

    id = BigSerial(primary_key=True)
    kind = Varchar(length=40)
    dedupe_key = Varchar(length=255, unique=True)
    payload = JSONB()
    status = Varchar(length=16, default="pending")  # pending | done | dead
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    last_error = Varchar(length=1000, default="")
    created_at = Timestamptz()
    done_at = Timestamptz(null=True, default=None)


class FunnelDaily(Table):
    restaurant = ForeignKey(references=Restaurant, primary_key=True)
    day = Date()
    submitted = Integer(default=0)
    link_created = Integer(default=0)
    link_failed = Integer(default=0)
    email_sent = Integer(default=0)
    paid = Integer(default=0)
    expired = Integer(default=0)


class WebhookDelivery(Table):
    """Every webhook request received (Stripe or Resend), valid or not: the admin inbox."""

    id = BigSerial(primary_key=True)
    provider = Varchar(length=16)
    event_id = Varchar(length=255, default="")
    type = Varchar(length=120, default="")
    signature_valid = Boolean()
    processed = Boolean(default=False)
    error = Varchar(length=1000, default="")
    body = Text(default="")
    received_at = Timestamptz()
