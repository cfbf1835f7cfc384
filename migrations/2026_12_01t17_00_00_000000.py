"""VAT and tips (#16 items 5, 6): a restaurant's tax mode (prices include tax, or tax is added
at checkout), default VAT rate, tips on/off and legal details for receipts; a VAT rate per
menu item (NULL: the restaurant's default); per order line the rate and the net, tax and
gross frozen at submission; per paid order the tax mode, the tip, the goods' net and tax and
the seller's legal details as they were at payment.

Rates are integers in hundredths of a percent (700 = 7 %). Existing order lines become
untaxed (rate 0, net = gross = unit x quantity); existing orders have no tip. Backwards drops
every column again."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "VAT rates, tax breakdown per order line, tips, legal details for receipts"

FORWARDS = """
ALTER TABLE restaurant
    ADD COLUMN tax_mode varchar(8) NOT NULL DEFAULT 'included'
        CHECK (tax_mode IN ('included', 'added')),
    ADD COLUMN default_tax_rate integer NOT NULL DEFAULT 0
        CHECK (default_tax_rate BETWEEN 0 AND 10000),
    ADD COLUMN tips_enabled boolean NOT NULL DEFAULT true,
    ADD COLUMN legal_name varchar(200) NOT NULL DEFAULT '',
    ADD COLUMN legal_address varchar(300) NOT NULL DEFAULT '',
    ADD COLUMN tax_id varchar(40) NOT NULL DEFAULT '';

ALTER TABLE menu_item
    ADD COLUMN tax_rate integer CHECK (tax_rate BETWEEN 0 AND 10000);

ALTER TABLE order_item
    ADD COLUMN tax_rate integer NOT NULL DEFAULT 0 CHECK (tax_rate BETWEEN 0 AND 10000),
    ADD COLUMN net_amount integer NOT NULL DEFAULT 0,
    ADD COLUMN tax_amount integer NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
    ADD COLUMN gross_amount integer NOT NULL DEFAULT 0;
UPDATE order_item SET net_amount = unit_amount * quantity,
                      gross_amount = unit_amount * quantity;
ALTER TABLE order_item
    ADD CONSTRAINT order_item_tax_adds_up CHECK (net_amount + tax_amount = gross_amount);

ALTER TABLE paid_order
    ADD COLUMN tax_mode varchar(8) NOT NULL DEFAULT 'included'
        CHECK (tax_mode IN ('included', 'added')),
    ADD COLUMN tip_amount integer NOT NULL DEFAULT 0 CHECK (tip_amount >= 0),
    ADD COLUMN net_amount integer NOT NULL DEFAULT 0,
    ADD COLUMN tax_amount integer NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
    ADD COLUMN seller_legal_name varchar(200) NOT NULL DEFAULT '',
    ADD COLUMN seller_address varchar(300) NOT NULL DEFAULT '',
    ADD COLUMN seller_tax_id varchar(40) NOT NULL DEFAULT '';
UPDATE paid_order SET net_amount = total_amount;
"""

BACKWARDS = """
ALTER TABLE paid_order
    DROP COLUMN tax_mode, DROP COLUMN tip_amount, DROP COLUMN net_amount,
    DROP COLUMN tax_amount, DROP COLUMN seller_legal_name, DROP COLUMN seller_address,
    DROP COLUMN seller_tax_id;
ALTER TABLE order_item
    DROP CONSTRAINT order_item_tax_adds_up,
    DROP COLUMN tax_rate, DROP COLUMN net_amount, DROP COLUMN tax_amount,
    DROP COLUMN gross_amount;
ALTER TABLE menu_item DROP COLUMN tax_rate;
ALTER TABLE restaurant
    DROP COLUMN tax_mode, DROP COLUMN default_tax_rate, DROP COLUMN tips_enabled,
    DROP COLUMN legal_name, DROP COLUMN legal_address, DROP COLUMN tax_id;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
