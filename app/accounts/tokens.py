"""The secrets in invitation and password-reset links: `(row id, nonce)` signed with
SECRET_KEY by itsdangerous, one salt per purpose, so a reset token is no invitation token.

The row holds the nonce, its expiry and whether it was used; the link holds the signature.
Forging a link needs SECRET_KEY, and a copy of the table alone is no link. The token is the
same every time it is made for a row, so a retried email carries the same link (Resend
refuses a reused Idempotency-Key with a different body)."""

from __future__ import annotations

import hmac
import secrets
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

from app.settings import get_settings

Purpose = Literal["staff-invitation", "password-reset"]
MAX_TOKEN_LENGTH = 200  # real tokens are about 60 characters; anything longer is junk


class TokenInvalid(Exception):
    """Not a link we made (tampered, truncated, for another purpose)."""


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _serializer(purpose: Purpose) -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=f"orderpass.{purpose}")


def make(purpose: Purpose, row_id: int, nonce: str) -> str:
    return str(_serializer(purpose).dumps([row_id, nonce]))


def read(purpose: Purpose, token: str) -> tuple[int, str]:
    """(row id, nonce) of a token we signed for `purpose`; raises TokenInvalid otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenInvalid("not a link of ours")
    try:
        value = _serializer(purpose).loads(token)
    except BadSignature:
        raise TokenInvalid("not a link of ours") from None
    if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int)
            or not isinstance(value[1], str)):
        raise TokenInvalid("not a link of ours")
    return value[0], value[1]


def nonce_matches(stored: str, presented: str) -> bool:
    return hmac.compare_digest(stored.encode(), presented.encode())
