"""The dishes of a refund the customer's bank returned (`paid_order.returned_lines`, one
array of lines per returned refund): the refund's row goes (app/payments/settlement.py
`forget_refund`), but the kitchen was told not to make those dishes and must go on not
making them. Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "paid order returned_lines"

FORWARDS = """
ALTER TABLE paid_order ADD COLUMN returned_lines jsonb NOT NULL DEFAULT '[]'::jsonb;
"""

BACKWARDS = """
ALTER TABLE paid_order DROP COLUMN returned_lines;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
