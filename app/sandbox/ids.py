"""Realistic identifiers: Stripe-style prefixed ids and Resend's UUIDs."""

from __future__ import annotations

import secrets
import string
import uuid

_ALPHABET = string.ascii_letters + string.digits


def _rand(n: int) -> str:
    """`n` unguessable alphanumerics from ONE urandom read (secrets.choice per character
    was a getrandom syscall each: a twentieth of the sandbox's time at intake). The
    rejection below keeps the 62 symbols uniform: bytes 248-255 are drawn again."""
    out: list[str] = []
    while len(out) < n:
        out.extend(_ALPHABET[byte % 62] for byte in secrets.token_bytes(n * 2) if byte < 248)
    return "".join(out[:n])


def stripe_id(prefix: str) -> str:
    """`pi_3Qx…`, `ch_3Qx…`, `re_3Qx…`, `evt_1Qx…` (24 characters after the prefix)."""
    return f"{prefix}_{_rand(24)}"


def checkout_session_id() -> str:
    """`cs_test_a1…` as Stripe gives test-mode Checkout Sessions (long, unguessable)."""
    return f"cs_test_a1{_rand(56)}"


def email_id() -> str:
    return str(uuid.uuid4())


def svix_message_id() -> str:
    return f"msg_{_rand(27)}"
