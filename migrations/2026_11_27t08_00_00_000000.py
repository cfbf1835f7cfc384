"""Initial schema: restaurants, menus, staff, paid orders, Stripe events, outbox, email, archive."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-11-27T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "initial schema"

SCHEMA = """
CREATE TABLE restaurant (
    id serial PRIMARY KEY,
    slug varchar(64) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    name varchar(120) NOT NULL,
    currency char(3) NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    timezone varchar(64) NOT NULL DEFAULT 'UTC',
    accepting_orders boolean NOT NULL DEFAULT true,
    capture_mode varchar(16) NOT NULL DEFAULT 'automatic'
        CHECK (capture_mode IN ('automatic', 'manual')),
    default_prep_minutes integer NOT NULL DEFAULT 15 CHECK (default_prep_minutes > 0),
    auto_reject_minutes integer NOT NULL DEFAULT 10 CHECK (auto_reject_minutes >= 0),
    phone varchar(40) NOT NULL DEFAULT '',
    email varchar(254) NOT NULL DEFAULT '',
    address varchar(300) NOT NULL DEFAULT '',
    last_ticket_number integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE menu_item (
    id serial PRIMARY KEY,
    restaurant integer NOT NULL REFERENCES restaurant(id) ON DELETE CASCADE,
    category varchar(80) NOT NULL,
    name varchar(120) NOT NULL,
    description varchar(500) NOT NULL DEFAULT '',
    price_amount integer NOT NULL CHECK (price_amount >= 0),
    available boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0,
    UNIQUE (restaurant, name)
);
CREATE INDEX menu_item_restaurant_idx ON menu_item (restaurant, position);

CREATE TABLE staff_user (
    id serial PRIMARY KEY,
    email varchar(254) NOT NULL UNIQUE,
    password_hash varchar(255) NOT NULL,
    role varchar(16) NOT NULL DEFAULT 'staff' CHECK (role IN ('staff', 'admin')),
    restaurant integer REFERENCES restaurant(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (role = 'admin' OR restaurant IS NOT NULL)
);

CREATE TABLE paid_order (
    id bigserial PRIMARY KEY,
    public_id varchar(64) NOT NULL UNIQUE,
    restaurant integer NOT NULL REFERENCES restaurant(id),
    ticket_number integer NOT NULL,
    stripe_checkout_session_id varchar(255) NOT NULL UNIQUE,
    stripe_payment_intent_id varchar(255),
    status varchar(24) NOT NULL CHECK (status IN (
        'paid', 'accepted', 'preparing', 'ready', 'completed', 'rejected', 'refunded')),
    customer_name varchar(120) NOT NULL,
    customer_email varchar(254) NOT NULL,
    customer_phone varchar(40) NOT NULL DEFAULT '',
    fulfillment varchar(16) NOT NULL CHECK (fulfillment IN ('pickup', 'delivery', 'dine_in')),
    delivery_address varchar(300) NOT NULL DEFAULT '',
    table_label varchar(40) NOT NULL DEFAULT '',
    notes varchar(500) NOT NULL DEFAULT '',
    currency char(3) NOT NULL,
    total_amount integer NOT NULL CHECK (total_amount >= 0),
    amount_charged integer NOT NULL,
    currency_charged char(3) NOT NULL,
    capture_mode varchar(16) NOT NULL DEFAULT 'automatic',
    needs_review boolean NOT NULL DEFAULT false,
    review_reason varchar(500) NOT NULL DEFAULT '',
    prep_minutes integer,
    reject_reason varchar(300) NOT NULL DEFAULT '',
    rebuilt_from_stripe boolean NOT NULL DEFAULT false,
    submitted_at timestamptz NOT NULL,
    paid_at timestamptz NOT NULL,
    kitchen_shown_at timestamptz,
    accepted_at timestamptz,
    preparing_at timestamptz,
    ready_at timestamptz,
    completed_at timestamptz,
    rejected_at timestamptz,
    refunded_at timestamptz,
    promised_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX paid_order_active_idx ON paid_order (restaurant, status, paid_at);
CREATE INDEX paid_order_email_idx ON paid_order (customer_email);

CREATE TABLE order_item (
    id bigserial PRIMARY KEY,
    paid_order bigint NOT NULL REFERENCES paid_order(id) ON DELETE CASCADE,
    menu_item integer,
    name varchar(120) NOT NULL,
    unit_amount integer NOT NULL CHECK (unit_amount >= 0),
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    notes varchar(200) NOT NULL DEFAULT ''
);
CREATE INDEX order_item_order_idx ON order_item (paid_order);

CREATE TABLE archived_order (
    id bigint PRIMARY KEY,
    public_id varchar(64) NOT NULL UNIQUE,
    restaurant integer NOT NULL REFERENCES restaurant(id),
    status varchar(24) NOT NULL,
    currency char(3) NOT NULL,
    total_amount integer NOT NULL,
    paid_at timestamptz NOT NULL,
    closed_at timestamptz,
    customer_email varchar(254) NOT NULL,
    document jsonb NOT NULL,
    archived_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX archived_order_restaurant_idx ON archived_order (restaurant, paid_at);

CREATE TABLE stripe_event (
    id bigserial PRIMARY KEY,
    event_id varchar(255) NOT NULL UNIQUE,
    type varchar(120) NOT NULL,
    checkout_session_id varchar(255),
    received_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    result varchar(40) NOT NULL DEFAULT 'processed'
);

CREATE TABLE webhook_delivery (
    id bigserial PRIMARY KEY,
    provider varchar(16) NOT NULL CHECK (provider IN ('stripe', 'resend')),
    event_id varchar(255) NOT NULL DEFAULT '',
    type varchar(120) NOT NULL DEFAULT '',
    signature_valid boolean NOT NULL,
    processed boolean NOT NULL DEFAULT false,
    error varchar(1000) NOT NULL DEFAULT '',
    body text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_delivery_received_idx ON webhook_delivery (received_at DESC);

CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    kind varchar(40) NOT NULL,
    dedupe_key varchar(255) NOT NULL UNIQUE,
    payload jsonb NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error varchar(1000) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE email_message (
    id bigserial PRIMARY KEY,
    idempotency_key varchar(255) NOT NULL UNIQUE,
    kind varchar(40) NOT NULL,
    recipient varchar(254) NOT NULL,
    order_ref varchar(64) NOT NULL,
    restaurant integer REFERENCES restaurant(id),
    transport varchar(16) NOT NULL DEFAULT 'resend',
    provider_id varchar(255),
    status varchar(16) NOT NULL DEFAULT 'queued' CHECK (status IN (
        'queued', 'sent', 'delivered', 'delayed', 'bounced', 'complained', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error varchar(1000) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_message_order_idx ON email_message (order_ref);
CREATE UNIQUE INDEX email_message_provider_idx ON email_message (provider_id)
    WHERE provider_id IS NOT NULL;

CREATE TABLE funnel_daily (
    restaurant integer NOT NULL REFERENCES restaurant(id) ON DELETE CASCADE,
    day date NOT NULL,
    submitted integer NOT NULL DEFAULT 0,
    link_created integer NOT NULL DEFAULT 0,
    link_failed integer NOT NULL DEFAULT 0,
    email_sent integer NOT NULL DEFAULT 0,
    paid integer NOT NULL DEFAULT 0,
    expired integer NOT NULL DEFAULT 0,
    PRIMARY KEY (restaurant, day)
);

CREATE TABLE discrepancy (
    id bigserial PRIMARY KEY,
    kind varchar(40) NOT NULL,
    dedupe_key varchar(255) NOT NULL UNIQUE,
    stripe_checkout_session_id varchar(255) NOT NULL DEFAULT '',
    order_ref varchar(64) NOT NULL DEFAULT '',
    restaurant integer REFERENCES restaurant(id),
    details jsonb NOT NULL DEFAULT '{}',
    status varchar(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolved_by varchar(254) NOT NULL DEFAULT '',
    resolution_note varchar(1000) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
"""

DROP = """
DROP TABLE IF EXISTS discrepancy, funnel_daily, email_message, outbox, webhook_delivery,
    stripe_event, archived_order, order_item, paid_order, staff_user, menu_item, restaurant;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, SCHEMA, DROP)
