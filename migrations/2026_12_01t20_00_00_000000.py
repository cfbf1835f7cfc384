"""Opening hours, closures and scheduled orders (#16 items 3, 4): a restaurant's weekly hours
(JSON `[[weekday, opens, closes], …]`, minutes after local midnight; empty: always open), how
many orders one 15-minute slot takes (0: no limit) and how many days ahead diners may
schedule (0: not at all); its exceptional closures (whole local days, with a reason); per paid
order the slot it was scheduled for and when it reached the kitchen board.

Existing restaurants have no hours (always open) and 7 days of scheduling; existing orders are
ASAP. Backwards drops every new column and the closure table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Opening hours, closures, scheduled orders and their release to the kitchen"

FORWARDS = """
ALTER TABLE restaurant
    ADD COLUMN weekly_hours jsonb NOT NULL DEFAULT '[]'::jsonb
        CHECK (jsonb_typeof(weekly_hours) = 'array'),
    ADD COLUMN slot_capacity integer NOT NULL DEFAULT 0 CHECK (slot_capacity BETWEEN 0 AND 1000),
    ADD COLUMN schedule_days integer NOT NULL DEFAULT 7 CHECK (schedule_days BETWEEN 0 AND 60);

CREATE TABLE restaurant_closure (
    id serial PRIMARY KEY,
    restaurant integer NOT NULL REFERENCES restaurant(id) ON DELETE CASCADE,
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    reason varchar(120) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on >= starts_on)
);
CREATE INDEX restaurant_closure_by_restaurant ON restaurant_closure (restaurant, ends_on);

ALTER TABLE paid_order
    ADD COLUMN scheduled_for timestamptz,
    ADD COLUMN released_at timestamptz;
-- The release sweep reads only scheduled orders not yet on the board.
CREATE INDEX paid_order_to_release ON paid_order (scheduled_for)
    WHERE scheduled_for IS NOT NULL AND released_at IS NULL;
"""

BACKWARDS = """
DROP INDEX IF EXISTS paid_order_to_release;
ALTER TABLE paid_order DROP COLUMN scheduled_for, DROP COLUMN released_at;
DROP TABLE restaurant_closure;
ALTER TABLE restaurant
    DROP COLUMN weekly_hours, DROP COLUMN slot_capacity, DROP COLUMN schedule_days;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
