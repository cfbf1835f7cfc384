"""A dish the owner took off the menu without deleting it (`menu_item.hidden`): a seasonal
dish kept with its photo, options and history for later. Unlike a sold-out dish (shown greyed
out), diners do not see it and intake refuses it. Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-05T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "menu item hidden"

FORWARDS = """
ALTER TABLE menu_item ADD COLUMN hidden boolean NOT NULL DEFAULT false;
"""

BACKWARDS = """
ALTER TABLE menu_item DROP COLUMN hidden;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
