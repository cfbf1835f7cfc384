"""What of the order's refunds the customer's bank returned (`paid_order.amount_returned`,
app/payments/refund_failures.py): the money is back with the restaurant and the customer is
still owed it, which the status page and the diner's email say. Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-05T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "paid order amount_returned"

FORWARDS = """
ALTER TABLE paid_order ADD COLUMN amount_returned integer NOT NULL DEFAULT 0;
"""

BACKWARDS = """
ALTER TABLE paid_order DROP COLUMN amount_returned;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
