"""Piccolo tables for staff and admin users, staff invitations and password resets (the
schema, constraints included, lives in migrations/)."""

from piccolo.columns import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table

from app.restaurants.tables import Restaurant


class StaffUser(Table):
    id = Serial(primary_key=True)
    email = Varchar(length=254, unique=True)  # stored lower-case
    password_hash = Varchar(length=255)
    # "admin" (the platform, no restaurant) or a role at one restaurant: see app/accounts/roles.py
    role = Varchar(length=16, default="kitchen")
    restaurant = ForeignKey(references=Restaurant, null=True)
    # Sessions carry the version they were made under; bumping it (removal, role change,
    # password reset) ends every one of them (app/accounts/session_versions.py).
    session_version = Integer(default=1)
    created_at = Timestamptz()


class StaffInvitation(Table):
    id = Serial(primary_key=True)
    restaurant = ForeignKey(references=Restaurant)
    email = Varchar(length=254)
    role = Varchar(length=16)  # owner, manager or kitchen
    nonce = Varchar(length=64)  # signed into the link with SECRET_KEY (app/accounts/tokens.py)
    invited_by = ForeignKey(references=StaffUser, null=True)
    invited_by_email = Varchar(length=254, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    accepted_user = ForeignKey(references=StaffUser, null=True)
    revoked_at = Timestamptz(null=True, default=None)


class PasswordReset(Table):
    id = Serial(primary_key=True)
    staff_user = ForeignKey(references=StaffUser)
    nonce = Varchar(length=64)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
