"""Password reset by email, for every account. Asking answers the same whether or not the
address has an account (the page does not say, and the work happens after the response, so
its timing does not either); at most PASSWORD_RESET_EMAILS_PER_HOUR emails per account. The
link is signed, single-use, and expires after PASSWORD_RESET_TTL_MINUTES; using it sets the
new password, ends every session of the account and voids its other reset links."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from arq.connections import ArqRedis

from app.accounts import emails, session_versions, tokens
from app.accounts.forms import FormInvalid
from app.accounts.invitations import LinkProblem
from app.accounts.passwords import hash_password, new_password_errors
from app.accounts.services import Authenticated
from app.infra import db
from app.infra.logging import get_logger
from app.piccolo_conf import DB
from app.platform import outbox
from app.settings import get_settings

log = get_logger("orderpass.accounts.password_reset")


async def request_reset(redis: ArqRedis, address: str) -> None:
    """Email a reset link to `address` if it has an account (a normalised address). Never
    raises for an unknown address: the caller answers the same either way."""
    settings = get_settings()
    user = await db.fetch("SELECT id, restaurant FROM staff_user WHERE email = $1", address)
    if not user:
        log.info("password reset asked for an unknown address")
        return
    user_id, restaurant_id = user[0]["id"], user[0]["restaurant"]
    async with DB.transaction() as transaction:
        connection: asyncpg.Connection = transaction.connection
        # Serialises requests for one account, so the hourly cap holds under a burst.
        await connection.execute("SELECT 1 FROM staff_user WHERE id = $1 FOR UPDATE", user_id)
        recent = await connection.fetchval(
            "SELECT count(*) FROM password_reset WHERE staff_user = $1 "
            "AND created_at > now() - interval '1 hour'", user_id)
        if recent >= settings.password_reset_emails_per_hour:
            log.warning("password reset emails capped for this hour", user_id=user_id)
            return
        reset_id = await connection.fetchval(
            "INSERT INTO password_reset (staff_user, nonce, expires_at) VALUES ($1, $2, $3) "
            "RETURNING id", user_id, tokens.new_nonce(),
            datetime.now(UTC) + timedelta(minutes=settings.password_reset_ttl_minutes))
        email = await emails.queue(connection, emails.RESET, emails.reset_ref(reset_id),
                                   recipient=address, restaurant_id=restaurant_id)
    await outbox.deliver_now(redis, [email])
    log.info("password reset emailed", user_id=user_id, reset=reset_id)


@dataclass(frozen=True)
class Reset:
    id: int
    user_id: int
    email: str


_SELECT = ("SELECT p.id, p.nonce, p.expires_at, p.used_at, u.id AS user_id, u.email "
           "FROM password_reset p JOIN staff_user u ON u.id = p.staff_user WHERE p.id = $1")


def _check_usable(row: asyncpg.Record) -> None:
    if row["used_at"] is not None:
        raise LinkProblem("This link was already used (or a newer one was). Ask for a "
                          "new one if you still need it.", 410)
    if row["expires_at"] <= datetime.now(UTC):
        raise LinkProblem("This link has expired. Ask for a new one.", 410)


async def from_link(token: str) -> Reset:
    try:
        reset_id, nonce = tokens.read("password-reset", token)
    except tokens.TokenInvalid:
        raise LinkProblem("This password reset link is not valid. Check that you copied "
                          "all of it, or ask for a new one.", 404) from None
    rows = await db.fetch(_SELECT, reset_id)
    if not rows or not tokens.nonce_matches(rows[0]["nonce"], nonce):
        raise LinkProblem("This password reset link is not valid.", 404)
    _check_usable(rows[0])
    return Reset(id=rows[0]["id"], user_id=rows[0]["user_id"], email=rows[0]["email"])


async def complete(redis: ArqRedis, token: str, form: Mapping[str, Any]) -> Authenticated:
    """Set the new password (one transaction): the link and the account's other reset links
    are used up, and every session of the account ends. Returns the account to log in."""
    reset = await from_link(token)
    password = str(form.get("password") or "")
    errors = new_password_errors(password, str(form.get("password_confirmation") or ""),
                                 reset.email)
    if errors:
        raise FormInvalid(errors, {})
    password_hash = await asyncio.to_thread(hash_password, password)  # Argon2: off the loop
    async with DB.transaction() as transaction:
        connection: asyncpg.Connection = transaction.connection
        row = await connection.fetchrow(_SELECT + " FOR UPDATE OF p", reset.id)
        if row is None:
            raise LinkProblem("This password reset link is not valid.", 404)
        _check_usable(row)
        user = await connection.fetchrow(
            "UPDATE staff_user SET password_hash = $2, session_version = session_version + 1 "
            "WHERE id = $1 RETURNING id, email, role, restaurant, session_version, "
            "(SELECT slug FROM restaurant WHERE id = staff_user.restaurant) AS slug",
            reset.user_id, password_hash)
        await connection.execute("UPDATE password_reset SET used_at = now() "
                                 "WHERE staff_user = $1 AND used_at IS NULL", reset.user_id)
    await session_versions.publish(redis, user["id"], user["session_version"])
    log.info("password reset", user_id=user["id"])
    return Authenticated(user_id=user["id"], email=user["email"], role=user["role"],
                         restaurant_id=user["restaurant"], restaurant_slug=user["slug"],
                         session_version=user["session_version"])
