"""A restaurant's staff accounts: list them, change a member's role, remove a member. Both
changes end the member's sessions at once (app/accounts/session_versions.py). Who may act
on whom: app/accounts/roles.py; nobody acts on their own account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from app.accounts import roles, session_versions
from app.accounts.forms import FormInvalid, NotAllowed, NotFound
from app.accounts.session import StaffSession
from app.infra import db
from app.infra.logging import get_logger

log = get_logger("orderpass.accounts.members")


@dataclass(frozen=True)
class Member:
    id: int
    email: str
    role: str
    created_at: datetime

    @property
    def role_label(self) -> str:
        return roles.LABELS[roles.Role(self.role)]


async def list_members(restaurant_id: int) -> list[Member]:
    """Highest role first, then by address."""
    rows = await db.fetch(
        "SELECT id, email, role, created_at FROM staff_user WHERE restaurant = $1 "
        "ORDER BY array_position($2::text[], role), email",
        restaurant_id, [role.value for role in roles.RESTAURANT_ROLES])
    return [Member(**dict(row)) for row in rows]


async def get(restaurant_id: int, member_id: int) -> Member:
    rows = await db.fetch("SELECT id, email, role, created_at FROM staff_user "
                          "WHERE id = $1 AND restaurant = $2", member_id, restaurant_id)
    if not rows:
        raise NotFound(f"no member {member_id} here")
    return Member(**dict(rows[0]))


def _check_may_act(actor: StaffSession, member: Member) -> None:
    if member.id == actor.user_id:
        raise NotAllowed("nobody changes or removes their own account here")
    if not roles.may_manage(actor.role, member.role):
        raise NotAllowed(f"{roles.a(actor.role)} may not change {roles.a(member.role)}'s account")


async def remove(redis: Redis, restaurant_id: int, member_id: int,
                 actor: StaffSession) -> Member:
    """Delete the member's account; their open sessions end with it."""
    member = await get(restaurant_id, member_id)
    _check_may_act(actor, member)
    # The role in the WHERE: had it changed since it was read, nothing is deleted.
    deleted = await db.fetch("DELETE FROM staff_user WHERE id = $1 AND restaurant = $2 "
                             "AND role = $3 RETURNING id", member.id, restaurant_id, member.role)
    if not deleted:
        raise NotFound(f"member {member_id} changed meanwhile; look again")
    await session_versions.publish(redis, member.id, session_versions.GONE)
    log.info("staff removed", restaurant_id=restaurant_id, user_id=member.id,
             role=member.role, by=actor.email)
    return member


async def change_role(redis: Redis, restaurant_id: int, member_id: int,
                      form: Mapping[str, Any], actor: StaffSession) -> Member:
    """Give the member another role; their sessions end (they log in again under it)."""
    member = await get(restaurant_id, member_id)
    wanted = roles.parse(str(form.get("role") or "").strip())
    if wanted is None or wanted is roles.Role.ADMIN:
        raise FormInvalid({"role": "Choose a role."}, {"role": str(form.get("role") or "")})
    _check_may_act(actor, member)
    if not roles.may_manage(actor.role, wanted):
        raise NotAllowed(f"{roles.a(actor.role)} may not make anyone {roles.a(wanted)}")
    if wanted == member.role:
        return member
    rows = await db.fetch(
        "UPDATE staff_user SET role = $4, session_version = session_version + 1 "
        "WHERE id = $1 AND restaurant = $2 AND role = $3 RETURNING session_version",
        member.id, restaurant_id, member.role, wanted.value)
    if not rows:
        raise NotFound(f"member {member_id} changed meanwhile; look again")
    await session_versions.publish(redis, member.id, int(rows[0]["session_version"]))
    log.info("staff role changed", restaurant_id=restaurant_id, user_id=member.id,
             role_before=member.role, role=wanted.value, by=actor.email)
    return await get(restaurant_id, member_id)
