"""A paid order keeps the restaurant's name as it was when the diner paid, beside the
receipt's seller: every email about the order names the restaurant so (a rename between the
payment and the "ready" email named a place the diner never ordered from, and a retried send
rendered another body than its first try). Orders paid before keep '' and are named as the
restaurant is now. Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-06T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "restaurant name at payment"

FORWARDS = """
ALTER TABLE paid_order ADD COLUMN seller_trading_name varchar(200) NOT NULL DEFAULT '';
"""

BACKWARDS = """
ALTER TABLE paid_order DROP COLUMN seller_trading_name;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
