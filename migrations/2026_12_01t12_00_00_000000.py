"""The floor: allergy flags on orders and lines, the kitchen's pause / busy controls on the
restaurant, an auto-reject notice the kitchen acknowledges, and emails skipped on purpose
kept apart from failed ones."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "allergies, pause and busy, auto-reject notices, skipped emails"

FORWARDS = """
ALTER TABLE restaurant
    ADD COLUMN paused_until timestamptz,
    ADD COLUMN busy_minutes integer NOT NULL DEFAULT 0 CHECK (busy_minutes BETWEEN 0 AND 120);
ALTER TABLE paid_order
    ADD COLUMN allergy varchar(300) NOT NULL DEFAULT '',
    ADD COLUMN auto_rejected boolean NOT NULL DEFAULT false,
    ADD COLUMN notice_acknowledged_at timestamptz;
CREATE INDEX paid_order_notice_idx ON paid_order (restaurant, rejected_at)
    WHERE auto_rejected AND notice_acknowledged_at IS NULL;
ALTER TABLE order_item ADD COLUMN allergy varchar(200) NOT NULL DEFAULT '';
ALTER TABLE email_message DROP CONSTRAINT email_message_status_check;
ALTER TABLE email_message ADD CONSTRAINT email_message_status_check CHECK (status IN (
    'queued', 'sent', 'delivered', 'delayed', 'bounced', 'complained', 'failed', 'skipped'));
"""

BACKWARDS = """
UPDATE email_message SET status = 'failed' WHERE status = 'skipped';
ALTER TABLE email_message DROP CONSTRAINT email_message_status_check;
ALTER TABLE email_message ADD CONSTRAINT email_message_status_check CHECK (status IN (
    'queued', 'sent', 'delivered', 'delayed', 'bounced', 'complained', 'failed'));
ALTER TABLE order_item DROP COLUMN allergy;
DROP INDEX IF EXISTS paid_order_notice_idx;
ALTER TABLE paid_order DROP COLUMN allergy, DROP COLUMN auto_rejected,
    DROP COLUMN notice_acknowledged_at;
ALTER TABLE restaurant DROP COLUMN paused_until, DROP COLUMN busy_minutes;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
