"""A restaurant goes live on purpose: `live_since` is when its owner went live from the
overview's setup checklist (app/restaurants/launch.py); NULL is a restaurant still being set
up, which diners neither see on the home page nor can order from (a CHECK: it cannot be
accepting orders). `hours_confirmed` and `tax_confirmed` record that the owner saved the hours
form (no hours on any day: open around the clock, on purpose) and the VAT settings (a 0 %
default kept on purpose); `kitchen_confirmed` that the owner will run the kitchen screen
themselves (no kitchen or manager account needed). Restaurants from before were already
public: live since they were created, all three confirmed. Rows inserted without these
columns are live (the ORM's and the column defaults): only the admin's "new restaurant" form
starts one not live. Backwards drops the columns."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-07T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "restaurant go-live"

FORWARDS = """
ALTER TABLE restaurant ADD COLUMN live_since timestamptz DEFAULT now();
UPDATE restaurant SET live_since = created_at;
ALTER TABLE restaurant ADD COLUMN hours_confirmed boolean NOT NULL DEFAULT true;
ALTER TABLE restaurant ADD COLUMN tax_confirmed boolean NOT NULL DEFAULT true;
ALTER TABLE restaurant ADD COLUMN kitchen_confirmed boolean NOT NULL DEFAULT true;
ALTER TABLE restaurant ADD CONSTRAINT restaurant_live_to_take_orders
    CHECK (live_since IS NOT NULL OR NOT accepting_orders);
"""

BACKWARDS = """
ALTER TABLE restaurant DROP CONSTRAINT restaurant_live_to_take_orders;
ALTER TABLE restaurant DROP COLUMN live_since;
ALTER TABLE restaurant DROP COLUMN hours_confirmed;
ALTER TABLE restaurant DROP COLUMN tax_confirmed;
ALTER TABLE restaurant DROP COLUMN kitchen_confirmed;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
