"""A refund of some items of a ticket the kitchen has in hand (accepted or cooking, not ready
yet) leaves a notice on every screen of the restaurant until a cook acknowledges it, as a
whole refund does: a redrawn ticket alone went unnoticed mid-service and the refunded dish was
made anyway. The flag and the acknowledgement live on the refund (`order_refund`), one per
refund, so a later whole refund's notice (`paid_order.refund_notice`) keeps its own. The
partial index keeps the board's read of the notices not yet acknowledged small. Backwards
drops both columns."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-06T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kitchen notice of an item refund"

FORWARDS = """
ALTER TABLE order_refund ADD COLUMN kitchen_notice boolean NOT NULL DEFAULT false;
ALTER TABLE order_refund ADD COLUMN notice_acknowledged_at timestamptz;
CREATE INDEX order_refund_kitchen_notice_idx ON order_refund (created_at)
    WHERE kitchen_notice AND notice_acknowledged_at IS NULL;
"""

BACKWARDS = """
DROP INDEX IF EXISTS order_refund_kitchen_notice_idx;
ALTER TABLE order_refund DROP COLUMN notice_acknowledged_at;
ALTER TABLE order_refund DROP COLUMN kitchen_notice;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
