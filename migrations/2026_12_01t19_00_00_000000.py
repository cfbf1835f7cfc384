"""The owner's menu editor (#16 item 2): categories as rows with an order, allergens (the 14
EU allergens, as short codes) and an optional photo per menu item, modifier groups with their
options, and per order line the chosen options frozen at submission.

A category is a row keyed by (restaurant, name); `menu_item.category` (the name) references
it, so a rename cascades to its items and a category with items cannot be deleted. Any writer
of menu items (the seed, the benchmark's clone, tests) gets the category row it names made by
a trigger, placed last. Forwards makes one row per distinct name, ordered by its first item's
position. Backwards drops every new table, column and the trigger (names stay on the items)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Menu categories, allergens, photos, modifier groups and frozen order modifiers"

FORWARDS = """
CREATE TABLE menu_category (
    id serial PRIMARY KEY,
    restaurant integer NOT NULL REFERENCES restaurant (id) ON DELETE CASCADE,
    name varchar(80) NOT NULL CHECK (name <> ''),
    position integer NOT NULL DEFAULT 0,
    UNIQUE (restaurant, name)
);
INSERT INTO menu_category (restaurant, name, position)
SELECT restaurant, category,
       (row_number() OVER (PARTITION BY restaurant ORDER BY min(position), min(id)) - 1)::int
FROM menu_item GROUP BY restaurant, category;

CREATE TABLE menu_photo (
    id serial PRIMARY KEY,
    restaurant integer NOT NULL REFERENCES restaurant (id) ON DELETE CASCADE,
    content bytea NOT NULL,
    content_type varchar(32) NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE menu_item
    ADD CONSTRAINT menu_item_category_row FOREIGN KEY (restaurant, category)
        REFERENCES menu_category (restaurant, name) ON UPDATE CASCADE ON DELETE NO ACTION,
    ADD COLUMN allergens varchar(16)[] NOT NULL DEFAULT '{}',
    ADD COLUMN photo_id integer REFERENCES menu_photo (id) ON DELETE SET NULL;
CREATE FUNCTION menu_item_category_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO menu_category (restaurant, name, position)
    SELECT NEW.restaurant, NEW.category,
           coalesce((SELECT max(position) + 1 FROM menu_category
                     WHERE restaurant = NEW.restaurant), 0)
    ON CONFLICT (restaurant, name) DO NOTHING;
    RETURN NEW;
END $$;
CREATE TRIGGER menu_item_category_row BEFORE INSERT OR UPDATE OF category ON menu_item
    FOR EACH ROW EXECUTE FUNCTION menu_item_category_row();

CREATE TABLE modifier_group (
    id serial PRIMARY KEY,
    menu_item integer NOT NULL REFERENCES menu_item (id) ON DELETE CASCADE,
    name varchar(40) NOT NULL CHECK (name <> ''),
    required boolean NOT NULL DEFAULT false,
    min_choices integer NOT NULL DEFAULT 0,
    max_choices integer NOT NULL DEFAULT 1,
    position integer NOT NULL DEFAULT 0,
    UNIQUE (menu_item, name),
    CHECK (min_choices >= 0 AND min_choices <= max_choices AND max_choices >= 1),
    CHECK (NOT required OR min_choices >= 1)
);
CREATE TABLE modifier_option (
    id serial PRIMARY KEY,
    modifier_group integer NOT NULL REFERENCES modifier_group (id) ON DELETE CASCADE,
    name varchar(40) NOT NULL CHECK (name <> ''),
    price_delta integer NOT NULL DEFAULT 0 CHECK (price_delta BETWEEN 0 AND 1000000),
    available boolean NOT NULL DEFAULT true,
    position integer NOT NULL DEFAULT 0,
    UNIQUE (modifier_group, name)
);
CREATE INDEX modifier_group_menu_item ON modifier_group (menu_item);
CREATE INDEX modifier_option_group ON modifier_option (modifier_group);

-- [{"group", "name", "delta", "option"}]: the chosen options as they were at submission.
ALTER TABLE order_item ADD COLUMN modifiers jsonb NOT NULL DEFAULT '[]';
"""

BACKWARDS = """
ALTER TABLE order_item DROP COLUMN modifiers;
DROP TABLE modifier_option;
DROP TABLE modifier_group;
DROP TRIGGER menu_item_category_row ON menu_item;
DROP FUNCTION menu_item_category_row();
ALTER TABLE menu_item DROP CONSTRAINT menu_item_category_row, DROP COLUMN allergens,
    DROP COLUMN photo_id;
DROP TABLE menu_photo;
DROP TABLE menu_category;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
