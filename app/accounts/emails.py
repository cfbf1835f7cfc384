"""Staff account emails (an invitation, a password reset) through the order emails'
pipeline: an `email_message` row and an outbox row written in the caller's transaction, then
the same arq send job, rate limit, retries, SMTP fallback and Resend `Idempotency-Key`
(`<kind>/<ref>`), where `ref` names the invitation (`INV-<id>`) or the reset (`RST-<id>`).

Rendering reads the row it is about and makes the same link every time (app/accounts/tokens.py),
so a retried send carries the same body. An invitation withdrawn or accepted, or a reset
used, before its email went out is not sent at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from app.accounts import tokens
from app.accounts.roles import AS_PHRASE, Role
from app.infra import db
from app.notifications.compose import RenderedEmail, RestaurantContact, render_pair
from app.platform import outbox
from app.templating import format_deadline

INVITATION = "staff_invitation"
RESET = "password_reset"
PLATFORM = RestaurantContact(id=0, name="Orderpass")  # the sender of an admin's reset email


def invitation_ref(invitation_id: int) -> str:
    return f"INV-{invitation_id}"


def reset_ref(reset_id: int) -> str:
    return f"RST-{reset_id}"


def invitation_url(public_base_url: str, invitation_id: int, nonce: str) -> str:
    token = tokens.make("staff-invitation", invitation_id, nonce)
    return f"{public_base_url.rstrip('/')}/invitations/{token}"


def reset_url(public_base_url: str, reset_id: int, nonce: str) -> str:
    token = tokens.make("password-reset", reset_id, nonce)
    return f"{public_base_url.rstrip('/')}/password-reset/{token}"


async def queue(connection: asyncpg.Connection, kind: str, ref: str, *, recipient: str,
                restaurant_id: int | None) -> outbox.OutboxRow:
    """Inside the caller's transaction: the email's row and its outbox promise. After the
    commit, hand the returned row to `outbox.deliver_now` (the relay retries otherwise)."""
    await connection.execute(
        "INSERT INTO email_message (idempotency_key, kind, recipient, order_ref, restaurant, "
        "status) VALUES ($1, $2, $3, $4, $5, 'queued') ON CONFLICT (idempotency_key) DO NOTHING",
        f"{kind}/{ref}", kind, recipient, ref, restaurant_id)
    row = outbox.email(kind, ref)
    await outbox.add(connection, [row])
    return row


@dataclass(frozen=True)
class AccountEmail:
    restaurant: RestaurantContact
    rendered: RenderedEmail


def _local(moment: datetime, timezone: str) -> str:
    # The site's one format ("17:14 on 6 Dec 2026 (CET)"), as the staff page shows it.
    return format_deadline(moment, timezone)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _contact(row: asyncpg.Record) -> RestaurantContact:
    return RestaurantContact(id=row["restaurant_id"], name=row["restaurant_name"],
                             phone=row["phone"], email=row["restaurant_email"],
                             address=row["address"], timezone=row["timezone"])


async def _invitation(invitation_id: int, public_base_url: str) -> AccountEmail | str:
    rows = await db.fetch(
        "SELECT i.id, i.email, i.role, i.nonce, i.invited_by_email, i.expires_at, "
        "i.accepted_at, i.revoked_at, r.id AS restaurant_id, r.name AS restaurant_name, "
        "r.phone, r.email AS restaurant_email, r.address, r.timezone "
        "FROM staff_invitation i JOIN restaurant r ON r.id = i.restaurant WHERE i.id = $1",
        invitation_id)
    if not rows:
        return "invitation not found"
    row = rows[0]
    if row["revoked_at"] is not None:
        return "invitation withdrawn"
    if row["accepted_at"] is not None:
        return "invitation already accepted"
    if row["expires_at"] <= datetime.now(UTC):
        return "invitation expired"
    restaurant = _contact(row)
    subject = _one_line(f"You are invited to {restaurant.name} on Orderpass")
    html, text = render_pair(INVITATION, {
        "subject": subject, "restaurant": restaurant, "email": row["email"],
        "role": AS_PHRASE[Role(row["role"])], "invited_by": row["invited_by_email"],
        "url": invitation_url(public_base_url, row["id"], row["nonce"]),
        "expires": _local(row["expires_at"], restaurant.timezone)})
    return AccountEmail(restaurant, RenderedEmail(subject=subject, html=html, text=text))


async def _reset(reset_id: int, public_base_url: str) -> AccountEmail | str:
    rows = await db.fetch(
        "SELECT p.id, p.nonce, p.expires_at, p.used_at, u.email, "
        "r.id AS restaurant_id, r.name AS restaurant_name, r.phone, "
        "r.email AS restaurant_email, r.address, r.timezone "
        "FROM password_reset p JOIN staff_user u ON u.id = p.staff_user "
        "LEFT JOIN restaurant r ON r.id = u.restaurant WHERE p.id = $1", reset_id)
    if not rows:
        return "password reset not found (account removed?)"
    row = rows[0]
    if row["used_at"] is not None:
        return "password reset link already used"
    if row["expires_at"] <= datetime.now(UTC):
        return "password reset link expired"
    restaurant = PLATFORM if row["restaurant_id"] is None else _contact(row)
    subject = "Reset your Orderpass password"
    html, text = render_pair(RESET, {
        "subject": subject, "restaurant": restaurant, "email": row["email"],
        "url": reset_url(public_base_url, row["id"], row["nonce"]),
        "expires": _local(row["expires_at"], restaurant.timezone)})
    return AccountEmail(restaurant, RenderedEmail(subject=subject, html=html, text=text))


async def compose(kind: str, ref: str, public_base_url: str) -> AccountEmail | str:
    """The email for an account email row, or why it must not be sent."""
    prefix, _, number = ref.partition("-")
    if not number.isdigit():
        return f"unknown reference {ref!r}"
    if kind == INVITATION and prefix == "INV":
        return await _invitation(int(number), public_base_url)
    if kind == RESET and prefix == "RST":
        return await _reset(int(number), public_base_url)
    return f"unknown account email {kind!r} for {ref!r}"
