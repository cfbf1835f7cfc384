"""Languages (#16 item 7): a restaurant's default language for diners whose browser names
none we speak, and per paid order the language its diner chose at checkout, in which every
email of the order is written. Existing restaurants and orders are English. Backwards drops
both columns again."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Default language per restaurant, language per paid order"

FORWARDS = """
ALTER TABLE restaurant
    ADD COLUMN default_language varchar(8) NOT NULL DEFAULT 'en'
        CHECK (default_language IN ('en', 'de'));
ALTER TABLE paid_order
    ADD COLUMN language varchar(8) NOT NULL DEFAULT 'en'
        CHECK (language IN ('en', 'de'));
"""

BACKWARDS = """
ALTER TABLE paid_order DROP COLUMN language;
ALTER TABLE restaurant DROP COLUMN default_language;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
