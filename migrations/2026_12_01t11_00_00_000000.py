"""Emails not sent on purpose get their own status, `skipped` (a confirmation for an order
paid or closed before it went out, an expiry notice for a paid order): recorded as
`failed`, they set off the email-failure alert although nothing had failed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "email_message status skipped"

FORWARDS = """
ALTER TABLE email_message DROP CONSTRAINT IF EXISTS email_message_status_check;
ALTER TABLE email_message ADD CONSTRAINT email_message_status_check CHECK (status IN (
    'queued', 'sent', 'delivered', 'delayed', 'bounced', 'complained', 'failed', 'skipped'));
UPDATE email_message SET status = 'skipped'
    WHERE status = 'failed' AND last_error LIKE 'not sent: order %';
"""
BACKWARDS = """
UPDATE email_message SET status = 'failed' WHERE status = 'skipped';
ALTER TABLE email_message DROP CONSTRAINT IF EXISTS email_message_status_check;
ALTER TABLE email_message ADD CONSTRAINT email_message_status_check CHECK (status IN (
    'queued', 'sent', 'delivered', 'delayed', 'bounced', 'complained', 'failed'));
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
