"""Staff authentication: check an email and password against the StaffUser table."""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.table import Table

from app.accounts.passwords import hash_password, verify_password
from app.accounts.tables import StaffUser
from app.restaurants.tables import Restaurant


def row_id(row: Table) -> int:
    return int(getattr(row, row._meta.primary_key._meta.name))

# Verified against when the email is unknown, so both paths cost one Argon2 verification.
_DUMMY_HASH = hash_password("not-a-real-password")


@dataclass(frozen=True)
class Authenticated:
    user_id: int
    email: str
    role: str
    restaurant_id: int | None
    restaurant_slug: str | None
    session_version: int = 1


async def authenticate(email: str, password: str) -> Authenticated | None:
    email = email.strip().lower()
    user = await StaffUser.objects().get(StaffUser.email == email) if email else None
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    slug: str | None = None
    if user.restaurant is not None:
        row = await Restaurant.select(Restaurant.slug).where(
            Restaurant._meta.primary_key == user.restaurant).first()
        slug = row["slug"] if row else None
    if user.role != "admin" and slug is None:
        return None  # a staff login without a restaurant has nothing to see
    return Authenticated(user_id=row_id(user), email=user.email, role=user.role,
                         restaurant_id=user.restaurant, restaurant_slug=slug,
                         session_version=user.session_version)
