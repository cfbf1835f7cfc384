"""Staff accounts for tests: logging a client in (the CSRF token returned), reading a
form's CSRF token, members with the demo password, invitations and password resets straight
in the table (with the link the email would carry), and the version of an account."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx

from app.accounts import emails, tokens
from app.accounts.passwords import hash_password
from app.accounts.tables import PasswordReset, StaffInvitation, StaffUser
from app.restaurants.tables import Restaurant
from tests.helpers.infra import TEST_ENV

PASSWORD = TEST_ENV["ORDERPASS_DEMO_PASSWORD"]
Send = Callable[[str, str], Awaitable[str]]  # runs the worker's send_email job for (kind, ref)


def link_path(message: dict[str, Any], prefix: str) -> str:
    """The path of the `prefix…` link in an email's text (the host is PUBLIC_BASE_URL)."""
    match = re.search(rf"https?://[^/\s]+({re.escape(prefix)}[A-Za-z0-9_.\-]+)",
                      message["text"])
    assert match, message["text"]
    return match.group(1)


async def login(client: httpx.AsyncClient, email: str) -> str:
    """Log `client` in as `email`; returns the CSRF token to send with forms."""
    login_page = await client.get("/login")
    assert login_page.status_code == 200, login_page.text
    token = client.cookies["csrftoken"]
    response = await client.post("/login", data={
        "email": email, "password": PASSWORD, "_csrf_token": token})
    assert response.status_code == 303, response.text
    return token


def csrf_from_html(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no csrf token in page"
    return match.group(1)


@lru_cache(maxsize=1)
def _hash() -> str:
    return hash_password(PASSWORD)


async def restaurant_id(slug: str) -> int:
    row = await Restaurant.select(Restaurant.id).where(Restaurant.slug == slug).first()
    assert row is not None, slug
    return int(row["id"])


async def user_id(email: str) -> int:
    row = await StaffUser.select(StaffUser.id).where(StaffUser.email == email).first()
    assert row is not None, email
    return int(row["id"])


async def add_member(email: str, role: str, slug: str = "demo") -> int:
    """An account of `slug` with `role`, logging in with the demo password."""
    user = StaffUser(email=email, password_hash=_hash(), role=role,
                     restaurant=await restaurant_id(slug))
    await user.save()
    return int(user.id)


async def add_invitation(email: str, role: str = "kitchen", slug: str = "demo", *,
                         expires_in: timedelta = timedelta(hours=1)) -> tuple[int, str]:
    """An open invitation written directly (no email); returns (id, the link's path)."""
    nonce = tokens.new_nonce()
    invitation = StaffInvitation(restaurant=await restaurant_id(slug), email=email, role=role,
                                 nonce=nonce, invited_by_email="owner@demo.test",
                                 expires_at=datetime.now(UTC) + expires_in)
    await invitation.save()
    url = emails.invitation_url("", int(invitation.id), nonce)
    return int(invitation.id), url


async def add_password_reset(email: str) -> str:
    """An open password reset written directly (no email); returns the link's path."""
    nonce = tokens.new_nonce()
    now = datetime.now(UTC)
    reset = PasswordReset(staff_user=await user_id(email), nonce=nonce, created_at=now,
                          expires_at=now + timedelta(minutes=30))
    await reset.save()
    return emails.reset_url("", int(reset.id), nonce)


async def members_of(slug: str) -> dict[str, str]:
    rows = await StaffUser.select(StaffUser.email, StaffUser.role).where(
        StaffUser.restaurant == await restaurant_id(slug))
    return {row["email"]: row["role"] for row in rows}


@asynccontextmanager
async def staff_session(app: Any, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another person's logged-in session on the same app (e.g. a kitchen screen beside the
    owner's or the admin's client)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as session:
        await login(session, email)
        yield session
