"""Each restaurant chooses the fulfilment modes it offers (`restaurant.fulfillment_modes`,
any of pickup, delivery and dine_in, in that order, at least one): a pickup-only restaurant
took delivery orders with no way to refuse them. Every existing restaurant keeps all three, so
nothing changes for it; paid orders keep the mode they were paid with (`paid_order` is not
touched). Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-04T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fulfilment modes per restaurant"

FORWARDS = """
ALTER TABLE restaurant ADD COLUMN fulfillment_modes text[] NOT NULL
    DEFAULT ARRAY['pickup', 'delivery', 'dine_in']::text[]
    CONSTRAINT restaurant_fulfillment_modes_check CHECK (
        cardinality(fulfillment_modes) BETWEEN 1 AND 3
        AND array_position(fulfillment_modes, NULL) IS NULL
        AND fulfillment_modes <@ ARRAY['pickup', 'delivery', 'dine_in']::text[]);
"""

BACKWARDS = """
ALTER TABLE restaurant DROP COLUMN fulfillment_modes;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
