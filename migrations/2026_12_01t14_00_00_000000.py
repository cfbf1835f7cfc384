"""Roles per restaurant (owner, manager, kitchen; 'staff' becomes 'kitchen'), a session version
per account (bumped when an account's sessions must end), staff invitations and password
resets. Backwards maps every restaurant role back to 'staff' (the old schema has no other)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.infra.db import script_migration

ID = "2026-12-01T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "staff roles, invitations and password resets"

FORWARDS = """
ALTER TABLE staff_user DROP CONSTRAINT staff_user_role_check;
UPDATE staff_user SET role = 'kitchen' WHERE role = 'staff';
ALTER TABLE staff_user
    ALTER COLUMN role SET DEFAULT 'kitchen',
    ADD CONSTRAINT staff_user_role_check
        CHECK (role IN ('admin', 'owner', 'manager', 'kitchen')),
    ADD COLUMN session_version integer NOT NULL DEFAULT 1 CHECK (session_version > 0);

-- The link's token signs (id, nonce): only the holder of SECRET_KEY can make one, and a
-- copy of this table alone cannot be turned into a link.
CREATE TABLE staff_invitation (
    id serial PRIMARY KEY,
    restaurant integer NOT NULL REFERENCES restaurant(id) ON DELETE CASCADE,
    email varchar(254) NOT NULL CHECK (email = lower(email)),
    role varchar(16) NOT NULL CHECK (role IN ('owner', 'manager', 'kitchen')),
    nonce varchar(64) NOT NULL,
    invited_by integer REFERENCES staff_user(id) ON DELETE SET NULL,
    invited_by_email varchar(254) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_user integer REFERENCES staff_user(id) ON DELETE SET NULL,
    revoked_at timestamptz,
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
-- One open invitation per address and restaurant (inviting again replaces it).
CREATE UNIQUE INDEX staff_invitation_open_idx ON staff_invitation (restaurant, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE password_reset (
    id serial PRIMARY KEY,
    staff_user integer NOT NULL REFERENCES staff_user(id) ON DELETE CASCADE,
    nonce varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX password_reset_user_idx ON password_reset (staff_user, created_at);
"""

BACKWARDS = """
DROP TABLE IF EXISTS password_reset, staff_invitation;
ALTER TABLE staff_user DROP CONSTRAINT staff_user_role_check;
ALTER TABLE staff_user DROP COLUMN session_version;
UPDATE staff_user SET role = 'staff' WHERE role <> 'admin';
ALTER TABLE staff_user
    ALTER COLUMN role SET DEFAULT 'staff',
    ADD CONSTRAINT staff_user_role_check CHECK (role IN ('staff', 'admin'));
"""


async def forwards() -> MigrationManager:
    return script_migration(ID, DESCRIPTION, FORWARDS, BACKWARDS)
