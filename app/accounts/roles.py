"""Who may do what. A staff account belongs to one restaurant with one role; the platform
admin belongs to none and may do everything everywhere.

    kitchen  < manager  < owner          (per restaurant)      admin (platform)

- any staff of a restaurant: its kitchen board;
- manager and up: the restaurant's management area (`/manage/{slug}`; the menu editor next),
  its staff list, inviting and removing kitchen staff;
- owner: the restaurant's settings, inviting, re-roling and removing managers and kitchen;
- admin: everything, including inviting and removing owners.

Nobody acts on their own account or on someone of their own rank (an owner cannot remove
another owner, a manager cannot remove the owner or another manager): nobody can raise
themselves or anyone else above their own role.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OWNER = "owner"
    MANAGER = "manager"
    KITCHEN = "kitchen"


RESTAURANT_ROLES = (Role.OWNER, Role.MANAGER, Role.KITCHEN)  # highest first
RANK = {Role.KITCHEN: 1, Role.MANAGER: 2, Role.OWNER: 3, Role.ADMIN: 4}
LABELS = {Role.OWNER: "Owner", Role.MANAGER: "Manager", Role.KITCHEN: "Kitchen",
          Role.ADMIN: "Platform admin"}
AS_PHRASE = {Role.OWNER: "an owner", Role.MANAGER: "a manager", Role.KITCHEN: "kitchen staff",
             Role.ADMIN: "the platform admin"}  # "join … as kitchen staff"


def a(role: str) -> str:
    """The role with its article, as a refusal names it: "an owner", "a manager"."""
    return ("an " if role[:1] in "aeiou" else "a ") + role


def parse(value: str) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


def at_least(role: str, minimum: Role) -> bool:
    parsed = parse(role)
    return parsed is not None and RANK[parsed] >= RANK[minimum]


def may_manage(actor: str, target: str) -> bool:
    """May someone with role `actor` invite, re-role or remove a member whose role is
    `target` (at the actor's own restaurant)? Only roles strictly below the actor's own;
    kitchen staff manage nobody."""
    actor_role, target_role = parse(actor), parse(target)
    if actor_role is None or target_role is None or target_role is Role.ADMIN:
        return False
    if actor_role is Role.KITCHEN:
        return False
    return RANK[actor_role] > RANK[target_role]


def assignable(actor: str) -> list[Role]:
    """The restaurant roles `actor` may hand out, highest first."""
    return [role for role in RESTAURANT_ROLES if may_manage(actor, role)]
