"""Money after payment: refunds (full, partial, made outside Orderpass) with their Stripe ids,
a released authorisation apart from a refund, disputes, and refunds that can never succeed
(no more retries); menu prices can never be negative."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "refunds, voids and disputes"

FORWARDS = """
ALTER TABLE paid_order DROP CONSTRAINT IF EXISTS paid_order_status_check;
ALTER TABLE paid_order ADD CONSTRAINT paid_order_status_check CHECK (status IN (
    'paid', 'accepted', 'preparing', 'ready', 'completed', 'rejected', 'refunded',
    'voided', 'disputed', 'charged_back'));
ALTER TABLE paid_order
    ADD COLUMN IF NOT EXISTS amount_refunded integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS voided_at timestamptz NULL,
    ADD COLUMN IF NOT EXISTS dispute_status varchar(24) NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS status_before_dispute varchar(24) NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS settlement_stopped_at timestamptz NULL;
CREATE TABLE IF NOT EXISTS order_refund (
    id bigserial PRIMARY KEY,
    paid_order bigint NOT NULL REFERENCES paid_order (id) ON DELETE CASCADE,
    stripe_refund_id varchar(255) NOT NULL UNIQUE,
    amount integer NOT NULL CHECK (amount > 0),
    source varchar(16) NOT NULL,
    reason varchar(300) NOT NULL DEFAULT '',
    lines jsonb NOT NULL DEFAULT '[]',
    created_by varchar(254) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS order_refund_order_idx ON order_refund (paid_order);
CREATE INDEX IF NOT EXISTS paid_order_intent_idx ON paid_order (stripe_payment_intent_id);
ALTER TABLE menu_item DROP CONSTRAINT IF EXISTS menu_item_price_not_negative;
ALTER TABLE menu_item ADD CONSTRAINT menu_item_price_not_negative
    CHECK (price_amount >= 0) NOT VALID;
"""
BACKWARDS = """
ALTER TABLE menu_item DROP CONSTRAINT IF EXISTS menu_item_price_not_negative;
DROP INDEX IF EXISTS paid_order_intent_idx;
DROP TABLE IF EXISTS order_refund;
ALTER TABLE paid_order
    DROP COLUMN IF EXISTS settlement_stopped_at,
    DROP COLUMN IF EXISTS status_before_dispute,
    DROP COLUMN IF EXISTS dispute_status,
    DROP COLUMN IF EXISTS voided_at,
    DROP COLUMN IF EXISTS amount_refunded;
ALTER TABLE paid_order DROP CONSTRAINT IF EXISTS paid_order_status_check;
ALTER TABLE paid_order ADD CONSTRAINT paid_order_status_check CHECK (status IN (
    'paid', 'accepted', 'preparing', 'ready', 'completed', 'rejected', 'refunded')) NOT VALID;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
