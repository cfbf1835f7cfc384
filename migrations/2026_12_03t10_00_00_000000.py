"""A whole refund of an order the kitchen had on its board (new, accepted, cooking, ready)
leaves a notice on its screens until acknowledged, as an auto-reject does: the ticket no
longer vanishes without a word while someone cooks it. Backwards drops the flag again."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-03T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "refund notice on the kitchen screens"

FORWARDS = """
ALTER TABLE paid_order ADD COLUMN refund_notice boolean NOT NULL DEFAULT false;
CREATE INDEX paid_order_refund_notice_idx ON paid_order (restaurant, refunded_at)
    WHERE refund_notice AND notice_acknowledged_at IS NULL;
"""

BACKWARDS = """
DROP INDEX IF EXISTS paid_order_refund_notice_idx;
ALTER TABLE paid_order DROP COLUMN refund_notice;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
