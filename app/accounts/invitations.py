"""Staff invitations: the platform admin invites owners, owners invite managers and kitchen
staff, managers invite kitchen staff (app/accounts/roles.py). An invitation is a row and an
email with a signed, single-use link that expires after INVITATION_TTL_HOURS; accepting it
creates the account with the password the invitee chooses. Inviting an address again
withdraws its open invitation (its link stops working) and sends a new one.

An account belongs to one restaurant (or to the platform). Whether an address has one
elsewhere is not the inviting restaurant's to know: inviting it goes exactly as inviting an
unknown address (recorded, emailed, "Invitation sent."), and only the invitee, opening the
link, is told that their address cannot join with it; the invitation stays open until it
expires, like one nobody answered. Only a member of this same restaurant is refused up front.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from arq.connections import ArqRedis

from app.accounts import emails, roles, tokens
from app.accounts.forms import FormInvalid, NotAllowed, NotFound, email_address
from app.accounts.passwords import hash_password, new_password_errors
from app.accounts.services import Authenticated
from app.accounts.session import StaffSession
from app.infra import db
from app.infra.logging import get_logger
from app.piccolo_conf import DB
from app.platform import outbox
from app.settings import get_settings

log = get_logger("orderpass.accounts.invitations")


@dataclass(frozen=True)
class Invitation:
    id: int
    restaurant_id: int
    restaurant_slug: str
    restaurant_name: str
    email: str
    role: str
    invited_by_email: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "withdrawn"
        if self.accepted_at is not None:
            return "accepted"
        return "expired" if self.expires_at <= datetime.now(UTC) else "open"

    @property
    def role_label(self) -> str:
        return roles.LABELS[roles.Role(self.role)]

    @property
    def role_phrase(self) -> str:
        return roles.AS_PHRASE[roles.Role(self.role)]


class LinkProblem(Exception):
    """The link cannot be used: `status_code` 404 (not ours) or 410 (used, withdrawn,
    expired); the message says which, for the page."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


_SELECT = (
    "SELECT i.id, i.restaurant AS restaurant_id, r.slug AS restaurant_slug, "
    "r.name AS restaurant_name, i.email, i.role, i.invited_by_email, i.created_at, "
    "i.expires_at, i.accepted_at, i.revoked_at, i.nonce "
    "FROM staff_invitation i JOIN restaurant r ON r.id = i.restaurant ")


def _of(row: asyncpg.Record) -> Invitation:
    return Invitation(**{key: row[key] for key in Invitation.__dataclass_fields__})


async def open_invitations(restaurant_id: int) -> list[Invitation]:
    """Invitations not accepted or withdrawn (expired ones too: they can be sent again)."""
    rows = await db.fetch(_SELECT + "WHERE i.restaurant = $1 AND i.accepted_at IS NULL "
                          "AND i.revoked_at IS NULL ORDER BY i.created_at DESC", restaurant_id)
    return [_of(row) for row in rows]


def parse(form: Mapping[str, Any], actor: StaffSession) -> tuple[str, roles.Role]:
    """The address and role asked for; FormInvalid for bad input, NotAllowed for a role the
    actor may not hand out."""
    address, problem = email_address(str(form.get("email") or ""))
    errors = {"email": problem} if problem else {}
    role = roles.parse(str(form.get("role") or "").strip())
    if role is None or role is roles.Role.ADMIN:
        errors["role"] = "Choose a role."
    values = {"email": address, "role": str(form.get("role") or "")[:16]}
    if errors:
        raise FormInvalid(errors, values)
    assert role is not None
    if not roles.may_manage(actor.role, role):
        raise NotAllowed(f"{roles.a(actor.role)} may not invite {roles.a(role)}")
    return address, role


async def invite(redis: ArqRedis, restaurant_id: int, form: Mapping[str, Any],
                 actor: StaffSession) -> Invitation:
    """Record the invitation and queue its email, in one transaction; nothing on errors."""
    address, role = parse(form, actor)
    values = {"email": address, "role": role.value}
    nonce = tokens.new_nonce()
    expires_at = datetime.now(UTC) + timedelta(hours=get_settings().invitation_ttl_hours)
    async with DB.transaction() as transaction:
        connection: asyncpg.Connection = transaction.connection
        # An account at another restaurant (or the platform's) is not said here: see above.
        if await connection.fetchval("SELECT 1 FROM staff_user WHERE email = $1 "
                                     "AND restaurant = $2", address, restaurant_id):
            raise FormInvalid({"email": "Already a member of this restaurant."}, values)
        await connection.execute(
            "UPDATE staff_invitation SET revoked_at = now() WHERE restaurant = $1 "
            "AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
            restaurant_id, address)
        invitation_id = await connection.fetchval(
            "INSERT INTO staff_invitation (restaurant, email, role, nonce, invited_by, "
            "invited_by_email, expires_at) VALUES ($1, $2, $3, $4, "
            "(SELECT id FROM staff_user WHERE id = $5), $6, $7) RETURNING id",
            restaurant_id, address, role.value, nonce, actor.user_id, actor.email, expires_at)
        email = await emails.queue(connection, emails.INVITATION,
                                   emails.invitation_ref(invitation_id), recipient=address,
                                   restaurant_id=restaurant_id)
    await outbox.deliver_now(redis, [email])
    log.info("staff invited", restaurant_id=restaurant_id, invitation=invitation_id,
             role=role.value, by=actor.email)
    return await get(restaurant_id, invitation_id)


async def get(restaurant_id: int, invitation_id: int) -> Invitation:
    rows = await db.fetch(_SELECT + "WHERE i.id = $1 AND i.restaurant = $2",
                          invitation_id, restaurant_id)
    if not rows:
        raise NotFound(f"no invitation {invitation_id}")
    return _of(rows[0])


async def withdraw(restaurant_id: int, invitation_id: int, actor: StaffSession) -> Invitation:
    invitation = await get(restaurant_id, invitation_id)
    if invitation.status == "accepted":
        raise NotFound(f"invitation {invitation_id} was accepted: remove the member instead")
    if not roles.may_manage(actor.role, invitation.role):
        raise NotAllowed(f"{roles.a(actor.role)} may not withdraw "
                         f"{roles.a(invitation.role)}'s invitation")
    await db.execute("UPDATE staff_invitation SET revoked_at = now() WHERE id = $1 "
                     "AND accepted_at IS NULL AND revoked_at IS NULL", invitation_id)
    log.info("invitation withdrawn", restaurant_id=restaurant_id, invitation=invitation_id,
             by=actor.email)
    return await get(restaurant_id, invitation_id)


async def from_link(token: str) -> Invitation:
    """The open invitation a link names; LinkProblem if there is none."""
    try:
        invitation_id, nonce = tokens.read("staff-invitation", token)
    except tokens.TokenInvalid:
        raise LinkProblem("This invitation link is not valid. Check that you copied all "
                          "of it, or ask for a new invitation.", 404) from None
    rows = await db.fetch(_SELECT + "WHERE i.id = $1", invitation_id)
    if not rows or not tokens.nonce_matches(rows[0]["nonce"], nonce):
        raise LinkProblem("This invitation link is not valid.", 404)
    invitation = _of(rows[0])
    _check_open(invitation)
    account = await db.fetch("SELECT restaurant FROM staff_user WHERE email = $1",
                             invitation.email)
    if account:
        raise _has_account(invitation, account[0]["restaurant"])
    return invitation


def _has_account(invitation: Invitation, restaurant_id: int | None) -> LinkProblem:
    """For the invitee alone (the link's holder): their address has an account already."""
    name = invitation.restaurant_name
    if restaurant_id == invitation.restaurant_id:
        return LinkProblem(f"You already have an account at {name}. Log in instead (or "
                           "reset your password).", 410)
    return LinkProblem(f"This address already has an Orderpass account, and an account "
                       f"belongs to one restaurant: it cannot join {name} as well. Ask "
                       f"{name} to invite another address of yours ({name} has not been "
                       "told that this one has an account).", 410)


def _check_open(invitation: Invitation) -> None:
    if invitation.status == "withdrawn":
        raise LinkProblem("This invitation was withdrawn. Ask for a new one if you still "
                          "need access.", 410)
    if invitation.status == "accepted":
        raise LinkProblem("This invitation was already accepted. Log in instead.", 410)
    if invitation.status == "expired":
        raise LinkProblem("This invitation has expired. Ask for a new one.", 410)


async def accept(token: str, form: Mapping[str, Any]) -> Authenticated:
    """Create the invitee's account with the chosen password (one transaction) and return
    it for logging in. LinkProblem if the link cannot be used, FormInvalid for the password."""
    invitation = await from_link(token)
    password = str(form.get("password") or "")
    errors = new_password_errors(password, str(form.get("password_confirmation") or ""),
                                 invitation.email)
    if errors:
        raise FormInvalid(errors, {})
    password_hash = await asyncio.to_thread(hash_password, password)  # Argon2: off the loop
    async with DB.transaction() as transaction:
        connection: asyncpg.Connection = transaction.connection
        row = await connection.fetchrow(  # one acceptance at a time per invitation
            _SELECT + "WHERE i.id = $1 FOR UPDATE OF i", invitation.id)
        assert row is not None  # restaurants cascade to invitations; from_link just read it
        _check_open(_of(row))
        account = await connection.fetchrow(
            "SELECT restaurant FROM staff_user WHERE email = $1", invitation.email)
        if account is not None:
            raise _has_account(invitation, account["restaurant"])
        user_id = await connection.fetchval(
            "INSERT INTO staff_user (email, password_hash, role, restaurant) "
            "VALUES ($1, $2, $3, $4) RETURNING id",
            invitation.email, password_hash, invitation.role, invitation.restaurant_id)
        await connection.execute(
            "UPDATE staff_invitation SET accepted_at = now(), accepted_user = $2 WHERE id = $1",
            invitation.id, user_id)
    log.info("invitation accepted", restaurant_id=invitation.restaurant_id,
             invitation=invitation.id, role=invitation.role, user_id=user_id)
    return Authenticated(user_id=user_id, email=invitation.email, role=invitation.role,
                         restaurant_id=invitation.restaurant_id,
                         restaurant_slug=invitation.restaurant_slug, session_version=1)
