"""Each refund email tells its own refund: `email_message.refund_id` names the Stripe refund an
`order_refunded` email is about, so it is written from that refund and the ones recorded
before it, not from whatever the order holds when the worker sends it ('' for every other
email, and for a refund email about the order as it stands). Backwards drops the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-03T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the refund a refund email tells"

FORWARDS = """
ALTER TABLE email_message ADD COLUMN refund_id varchar(255) NOT NULL DEFAULT '';
"""

BACKWARDS = """
ALTER TABLE email_message DROP COLUMN refund_id;
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
