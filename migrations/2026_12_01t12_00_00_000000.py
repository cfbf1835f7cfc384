"""The floor: allergy flags on orders and lines, the kitchen's pause / busy controls on the
restaurant, and an auto-reject notice the kitchen acknowledges. (Emails skipped on purpose
got their own status in 2026_12_01t11.)"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "allergies, pause and busy, auto-reject notices"

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
"""

BACKWARDS = """
ALTER TABLE order_item DROP COLUMN allergy;
DROP INDEX IF EXISTS paid_order_notice_idx;
ALTER TABLE paid_order DROP COLUMN allergy, DROP COLUMN auto_rejected,
    DROP COLUMN notice_acknowledged_at;
ALTER TABLE restaurant DROP COLUMN paused_until, DROP COLUMN busy_minutes;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
