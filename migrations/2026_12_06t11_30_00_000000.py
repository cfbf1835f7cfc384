"""A modifier option declares the EU allergens it adds to its dish ("Pesto" adds nuts): the
codes of app/restaurants/allergens.py, as `menu_item.allergens`, only those 14 (a CHECK:
an unknown or NULL code would read as no allergen on the menu and the kitchen ticket).
Existing options add none. Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-06T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "allergens an option adds"

FORWARDS = """
ALTER TABLE modifier_option ADD COLUMN allergens varchar(16)[] NOT NULL DEFAULT '{}'
    CONSTRAINT modifier_option_allergens_known CHECK (
        allergens <@ ARRAY['gluten', 'crustaceans', 'eggs', 'fish', 'peanuts', 'soybeans',
                           'milk', 'nuts', 'celery', 'mustard', 'sesame', 'sulphites',
                           'lupin', 'molluscs']::varchar(16)[]
        AND array_position(allergens, NULL) IS NULL);
"""

BACKWARDS = """
ALTER TABLE modifier_option DROP COLUMN allergens;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
